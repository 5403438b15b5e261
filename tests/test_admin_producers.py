"""Administration (issue 14): producers — list with search and filters, create, edit (an imported
producer gets its locality), retire and bring back (its products leave sale and come back), each
change in the audit history on the producer's page; bad input changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.catalog.models import Product
from shop.extensions import db
from shop.producers.models import Producer

from accounts_helpers import make_user, sign_in


@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn", name="Quản trị Lan")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return client


def entries(object_type, object_id) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                            AuditEntry.object_id == object_id)
                                   .order_by(AuditEntry.id)))


def form(**over) -> dict:
    data = {"name": "HTX Nông sản Bằng Phúc", "kind": "cooperative", "locality": "", "address": "Bằng Phúc, Chợ Đồn",
            "phone": "0912 345 678", "story": "Cam sành trên đồi.", "story_en": ""}
    data.update(over)
    return data


def test_the_list_searches_without_diacritics_and_filters(admin_client, make_producer, make_locality):
    province = make_locality("Bắc Kạn", kind="province")
    district = make_locality("Na Rì", parent=province)
    commune = make_locality("Côn Minh", kind="commune", parent=district)
    make_producer("HTX Tài Hoan", locality=commune)
    make_producer("Hộ kinh doanh Yến Dương", kind="household")
    retired = make_producer("HTX Đã Nghỉ", active=False)
    db.session.commit()
    page = admin_client.get("/admin/producers?q=tai+hoan").get_data(as_text=True)
    assert "HTX Tài Hoan" in page and "Yến Dương" not in page
    page = admin_client.get("/admin/producers?kind=household").get_data(as_text=True)
    assert "Yến Dương" in page and "Tài Hoan" not in page
    page = admin_client.get(f"/admin/producers?locality={province.id}").get_data(as_text=True)
    assert "Tài Hoan" in page and "Yến Dương" not in page  # a commune under the province counts
    page = admin_client.get("/admin/producers?locality=none").get_data(as_text=True)
    assert "Yến Dương" in page and "Tài Hoan" not in page and retired.name not in page
    page = admin_client.get("/admin/producers?state=retired").get_data(as_text=True)
    assert retired.name in page and "Yến Dương" not in page
    assert "Đã Nghỉ" in admin_client.get("/admin/producers?state=all").get_data(as_text=True)
    # Nonsense filters filter nothing out and never fail.
    assert admin_client.get("/admin/producers?locality=abc&kind=zzz&state=x").status_code == 200


def test_admin_creates_a_producer_and_the_creation_is_in_its_history(admin_client, make_locality):
    place = make_locality("Bằng Phúc", kind="commune")
    db.session.commit()
    response = admin_client.post("/admin/producers/new", data=form(locality=str(place.id)))
    assert response.status_code == 302
    producer = db.session.scalar(select(Producer).where(Producer.name == "HTX Nông sản Bằng Phúc"))
    assert producer.active and producer.locality_id == place.id and producer.phone == "+84912345678"
    assert response.headers["Location"].endswith(f"/admin/producers/{producer.slug}")
    [entry] = entries(AuditObject.PRODUCER, producer.id)
    assert entry.action is AuditAction.CREATE and entry.actor == "Quản trị Lan"
    assert entry.after["locality"] == "Bằng Phúc" and entry.after["name"] == "HTX Nông sản Bằng Phúc"
    page = admin_client.get(f"/admin/producers/{producer.slug}").get_data(as_text=True)
    assert "Created" in page and "Quản trị Lan" in page


@pytest.mark.parametrize("over, field_message", [
    ({"name": ""}, "Please fill in this field"),
    ({"kind": "pirate"}, "kind of producer"),
    ({"locality": "999999"}, "locality from the list"),
    ({"locality": "x1"}, "locality from the list"),
    ({"phone": "12"}, "phone number"),
    ({"story": "x" * 20_001}, "At most 20000"),
])
def test_bad_input_gets_the_form_back_and_creates_nothing(admin_client, over, field_message):
    response = admin_client.post("/admin/producers/new", data=form(**over))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and field_message in page
    assert db.session.scalar(select(Producer.id)) is None
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_a_name_that_folds_to_an_existing_one_is_refused(admin_client, make_producer):
    make_producer("HTX Tài Hoan")
    db.session.commit()
    response = admin_client.post("/admin/producers/new", data=form(name="htx tai hoan"))
    assert response.status_code == 400 and "already has this name" in response.get_data(as_text=True)


def test_the_errors_come_in_vietnamese_by_default(client):
    make_user("admin", email="admin@example.vn")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "vi")
    page = client.post("/admin/producers/new", data=form(kind="pirate")).get_data(as_text=True)
    assert "Chọn loại chủ thể" in page


def test_an_imported_producer_gets_its_locality_and_leaves_the_without_list(admin_client, make_producer,
                                                                            make_locality):
    producer = make_producer("HTX Yến Dương", address="Ba Bể")
    place = make_locality("Yến Dương", kind="commune")
    db.session.commit()
    assert "HTX Yến Dương" in admin_client.get("/admin/producers?locality=none").get_data(as_text=True)
    data = form(name="HTX Yến Dương", locality=str(place.id), address="Ba Bể", phone="", story="")
    assert admin_client.post(f"/admin/producers/{producer.slug}", data=data).status_code == 302
    assert "HTX Yến Dương" not in admin_client.get("/admin/producers?locality=none").get_data(as_text=True)
    [entry] = entries(AuditObject.PRODUCER, producer.id)
    assert entry.action is AuditAction.EDIT
    assert entry.before["locality"] is None and entry.after["locality"] == "Yến Dương"
    # Saving the same values again writes no entry.
    assert admin_client.post(f"/admin/producers/{producer.slug}", data=data).status_code == 302
    assert len(entries(AuditObject.PRODUCER, producer.id)) == 1


@pytest.mark.parametrize("existing, typed", [
    ("Hợp tác xã Tài Hoan", "HTX Tài Hoan"), ("Hop tac xa Tai-Hoan", "HTX Tài Hoan"),
    ("HTX Tài Hoan", "Hợp Tác Xã  tài hoan."), ("Công ty TNHH Bằng Phúc", "Cty Bằng Phúc")])
def test_a_name_the_import_would_match_is_refused_naming_the_existing_producer(admin_client, make_producer,
                                                                                existing, typed):
    make_producer(existing)
    db.session.commit()
    response = admin_client.post("/admin/producers/new", data=form(name=typed))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "already has this name (accents" in page and existing in page
    assert db.session.scalar(select(func.count(Producer.id))) == 1


def test_an_edit_to_another_producers_name_key_is_refused_but_its_own_is_kept(admin_client, make_producer):
    make_producer("Hợp tác xã Tài Hoan")
    other = make_producer("HTX Bản Cháo")
    db.session.commit()
    refused = admin_client.post(f"/admin/producers/{other.slug}", data=form(name="HTX Tài-Hoan"))
    assert refused.status_code == 400 and "Hợp tác xã Tài Hoan" in refused.get_data(as_text=True)
    assert admin_client.post(f"/admin/producers/{other.slug}",
                             data=form(name="Hợp tác xã Bản Cháo")).status_code == 302
    # Different producers stay different: only legal form, accents and punctuation are set aside.
    assert admin_client.post("/admin/producers/new", data=form(name="HTX Tài Hoan 2")).status_code == 302


def test_a_bad_edit_changes_nothing(admin_client, make_producer):
    producer = make_producer("HTX Yến Dương")
    db.session.commit()
    response = admin_client.post(f"/admin/producers/{producer.slug}", data=form(name="", phone="abc"))
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Producer, producer.id).name == "HTX Yến Dương"
    assert entries(AuditObject.PRODUCER, producer.id) == []


def test_retiring_a_producer_takes_its_products_off_sale_and_bringing_it_back_relists_them(
        app, admin_client, make_producer, make_product):
    producer = make_producer("HTX Tài Hoan")
    on_sale = make_product("Miến dong Tài Hoan", producer=producer)
    already_unlisted = make_product("Miến cũ", producer=producer, listed=False)
    db.session.commit()
    guest = app.test_client()
    assert "Miến dong Tài Hoan" in guest.get("/products").get_data(as_text=True)
    assert "HTX Tài Hoan" in guest.get("/producers").get_data(as_text=True)

    assert admin_client.post(f"/admin/producers/{producer.slug}/retire").status_code == 302
    db.session.expire_all()
    assert not db.session.get(Producer, producer.id).active
    product = db.session.get(Product, on_sale.id)
    assert not product.listed and not product.sellable
    # Off sale everywhere the shop sells: the catalogue, the directory, the API, checkout.
    catalogue = guest.get("/products").get_data(as_text=True)
    assert "Miến dong Tài Hoan" not in catalogue
    assert "HTX Tài Hoan" not in catalogue  # nor in the catalogue's producer menu
    assert "HTX Tài Hoan" not in guest.get("/producers").get_data(as_text=True)
    api = guest.get(f"/api/v1/products/{on_sale.id}")
    assert api.status_code == 404 or api.get_json()["on_sale"] is False
    assert guest.get(f"/q/{on_sale.id}").status_code == 200  # the QR stamps' page stays
    # Each product unlisted has its own entry; the producer's entry names them.
    [product_entry] = entries(AuditObject.PRODUCT, on_sale.id)
    assert product_entry.action is AuditAction.RETIRE and product_entry.after["listed"] is False
    [retired] = entries(AuditObject.PRODUCER, producer.id)
    assert retired.after["unlisted"] == ["Miến dong Tài Hoan"]
    # It cannot be listed again while the producer is retired.
    data = {"edit-name": product.name, "edit-price": "100000", "edit-listed": "y"}
    response = admin_client.post(f"/admin/products/{product.slug}/edit", data=data)
    assert response.status_code == 400 and "producer is retired" in response.get_data(as_text=True)
    assert admin_client.post(f"/admin/producers/{producer.slug}/retire").status_code == 409

    assert admin_client.post(f"/admin/producers/{producer.slug}/reopen").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, on_sale.id).sellable
    assert not db.session.get(Product, already_unlisted.id).listed  # unlisted before: stays so
    assert "Miến dong Tài Hoan" in guest.get("/products").get_data(as_text=True)
    assert [e.action for e in entries(AuditObject.PRODUCER, producer.id)] == [AuditAction.RETIRE, AuditAction.REOPEN]
    assert admin_client.post(f"/admin/producers/{producer.slug}/reopen").status_code == 409
    page = admin_client.get(f"/admin/producers/{producer.slug}").get_data(as_text=True)
    assert "Retired" in page and "Brought back" in page


def test_a_retired_producers_orders_and_ledger_stay(admin_client, make_producer, make_product, make_shop):
    from shop.inventory import services as inventory
    from shop.inventory.models import StockMovement
    from shop.orders import services as orders
    from shop.orders.models import Order

    from test_orders import CUSTOMER, DELIVERY, cart_with

    shop = make_shop(slug="ba-be")
    producer = make_producer("HTX Tài Hoan")
    product = make_product("Miến dong Tài Hoan", producer=producer)
    inventory.receive(shop.id, product.id, 5)
    db.session.commit()
    order = orders.place_order(cart_with((product, 1)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    assert admin_client.post(f"/admin/producers/{producer.slug}/retire").status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id) is not None
    assert db.session.scalar(select(StockMovement.id).where(StockMovement.product_id == product.id)) is not None
    assert db.session.get(Producer, producer.id) is not None


def test_unknown_producer_is_404(admin_client):
    assert admin_client.get("/admin/producers/nobody").status_code == 404
    assert admin_client.post("/admin/producers/nobody/retire").status_code == 404


def test_the_kind_and_level_choices_are_in_the_page_language(admin_client):
    """Form choices declared at import are translated when the page is drawn, not frozen in English."""
    admin_client.set_cookie("lang", "vi")
    page = admin_client.get("/admin/producers/new").get_data(as_text=True)
    assert "Hợp tác xã" in page and ">Cooperative<" not in page
    page = admin_client.get("/admin/localities/new").get_data(as_text=True)
    assert ">Commune<" not in page and ">Province<" not in page
    page = admin_client.get("/admin/import").get_data(as_text=True)
    assert "provincial level" not in page
    admin_client.set_cookie("lang", "en")
    english = admin_client.get("/admin/producers/new").get_data(as_text=True)
    assert ">Cooperative<" in english
