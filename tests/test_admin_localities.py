"""Administration (issue 14): localities — the list with the 1/7/2025 mergers (an old unit shows
its successor, the new one what merged into it), create, edit, set the successor; a cycle or a
successor of the wrong level is refused and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.extensions import db
from shop.places.models import Locality

from accounts_helpers import make_user, sign_in


@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn", name="Quản trị Lan")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def places(make_locality):
    thai_nguyen = make_locality("Thái Nguyên", kind="province", slug="thai-nguyen")
    bac_kan = make_locality("Bắc Kạn", kind="province", slug="bac-kan", successor=thai_nguyen)
    na_ri = make_locality("Na Rì", kind="district", parent=bac_kan, slug="na-ri")
    con_minh = make_locality("Côn Minh", kind="commune", parent=na_ri, slug="con-minh")
    van_lang = make_locality("Văn Lang", kind="commune", parent=na_ri, slug="van-lang")
    db.session.commit()
    return {"thai_nguyen": thai_nguyen, "bac_kan": bac_kan, "na_ri": na_ri, "con_minh": con_minh,
            "van_lang": van_lang}


def entries(place_id) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == AuditObject.LOCALITY,
                                                            AuditEntry.object_id == place_id)
                                   .order_by(AuditEntry.id)))


def test_the_list_shows_successors_and_what_merged(admin_client, places):
    page = admin_client.get("/admin/localities").get_data(as_text=True)
    assert "Côn Minh, Na Rì, Bắc Kạn" in page
    page = admin_client.get("/admin/localities?merge=merged").get_data(as_text=True)
    assert "Bắc Kạn" in page and "Côn Minh" not in page and "/admin/localities/thai-nguyen" in page
    page = admin_client.get("/admin/localities?merge=successors").get_data(as_text=True)
    assert "Thái Nguyên" in page and "<td>1</td>" in page and "Côn Minh" not in page
    page = admin_client.get("/admin/localities?q=con+minh&kind=commune").get_data(as_text=True)
    assert "Côn Minh" in page and "Văn Lang" not in page
    assert admin_client.get("/admin/localities?kind=x&merge=y").status_code == 200
    page = admin_client.get("/admin/localities/thai-nguyen").get_data(as_text=True)
    assert "Merged into it" in page and "/admin/localities/bac-kan" in page
    page = admin_client.get("/admin/localities/con-minh").get_data(as_text=True)
    assert "now part of Thái Nguyên" in page


def test_admin_creates_a_new_commune_and_merges_old_ones_into_it(admin_client, places):
    data = {"name": "Nà Phặc mới", "kind": "commune", "parent": str(places["thai_nguyen"].id), "successor": ""}
    response = admin_client.post("/admin/localities/new", data=data)
    assert response.status_code == 302
    new = db.session.scalar(select(Locality).where(Locality.name == "Nà Phặc mới"))
    assert new.parent_id == places["thai_nguyen"].id
    [created] = entries(new.id)
    assert created.action is AuditAction.CREATE and created.after["parent"] == "Thái Nguyên"
    old = places["con_minh"]
    data = {"name": "Côn Minh", "kind": "commune", "parent": str(places["na_ri"].id), "successor": str(new.id)}
    assert admin_client.post("/admin/localities/con-minh", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Locality, old.id).successor_id == new.id
    [entry] = entries(old.id)
    assert entry.action is AuditAction.EDIT and entry.before["successor"] is None
    assert entry.after["successor"] == "Nà Phặc mới, Thái Nguyên"
    page = admin_client.get(f"/admin/localities/{new.slug}").get_data(as_text=True)
    assert "Côn Minh, Na Rì, Bắc Kạn" in page  # what merged into it


@pytest.mark.parametrize("target, kind, message", [
    ("thai_nguyen", "commune", "same level"),     # a commune into a province
    ("na_ri", "commune", "same level"),           # a commune into a district
    ("con_minh", "commune", "into itself"),
])
def test_a_successor_of_the_wrong_level_or_itself_is_refused(admin_client, places, target, kind, message):
    place = places["con_minh"]
    data = {"name": "Côn Minh", "kind": kind, "parent": str(places["na_ri"].id),
            "successor": str(places[target].id)}
    response = admin_client.post("/admin/localities/con-minh", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and message in page
    db.session.expire_all()
    assert db.session.get(Locality, place.id).successor_id is None and entries(place.id) == []


def test_a_cycle_of_successors_is_refused(admin_client, places):
    con_minh, van_lang = places["con_minh"], places["van_lang"]
    con_minh.successor = van_lang
    db.session.commit()
    data = {"name": "Văn Lang", "kind": "commune", "parent": str(places["na_ri"].id), "successor": str(con_minh.id)}
    response = admin_client.post("/admin/localities/van-lang", data=data)
    assert response.status_code == 400 and "cycle" in response.get_data(as_text=True)
    # Longer: Thái Nguyên → Bắc Kạn while Bắc Kạn → Thái Nguyên.
    data = {"name": "Thái Nguyên", "kind": "province", "parent": "", "successor": str(places["bac_kan"].id)}
    response = admin_client.post("/admin/localities/thai-nguyen", data=data)
    assert response.status_code == 400 and "cycle" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Locality, van_lang.id).successor_id is None
    assert db.session.get(Locality, places["thai_nguyen"].id).successor_id is None


@pytest.mark.parametrize("data, message", [
    ({"name": "", "kind": "commune"}, "Please fill in this field"),
    ({"name": "Xã X", "kind": "hamlet"}, "kind of place"),
    ({"name": "Xã X", "kind": "commune"}, "belongs to a province or a district"),
    ({"name": "Huyện X", "kind": "district"}, "belongs to a province"),
    ({"name": "Xã X", "kind": "commune", "parent": "abc"}, "locality from the list"),
])
def test_bad_input_creates_nothing(admin_client, places, data, message):
    before = db.session.scalar(select(func.count(Locality.id)))
    response = admin_client.post("/admin/localities/new", data={"parent": "", "successor": "", **data})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Locality.id))) == before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_a_commune_cannot_hold_a_district(admin_client, places):
    data = {"name": "Na Rì", "kind": "district", "parent": str(places["con_minh"].id), "successor": ""}
    response = admin_client.post("/admin/localities/na-ri", data=data)
    assert response.status_code == 400 and "higher level" in response.get_data(as_text=True)


def test_the_refusal_is_in_vietnamese_by_default(client, places):
    make_user("admin", email="admin@example.vn")
    assert sign_in(client, "admin@example.vn").status_code == 302
    data = {"name": "Côn Minh", "kind": "commune", "parent": str(places["na_ri"].id),
            "successor": str(places["thai_nguyen"].id)}
    page = client.post("/admin/localities/con-minh", data=data).get_data(as_text=True)
    assert "cùng cấp" in page


def test_renaming_a_place_refolds_the_search_text_of_products_there(admin_client, places, make_producer,
                                                                   make_product):
    producer = make_producer("HTX Tài Hoan", locality=places["con_minh"])
    product = make_product("Miến dong", producer=producer)
    db.session.commit()
    data = {"name": "Côn Minh Mới", "kind": "commune", "parent": str(places["na_ri"].id), "successor": ""}
    assert admin_client.post("/admin/localities/con-minh", data=data).status_code == 302
    db.session.expire_all()
    assert "con minh moi" in db.session.get(type(product), product.id).search_text
