"""Administration (issue 14): users — the list with search and filters, the user's page to change
role, shop memberships (manager or clerk in each shop) and producer, disable and enable — through
the accounts services, so the user's sessions end; an administrator cannot disable or demote
themself or the last active administrator; every change in the user's history."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts import services as accounts
from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import User
from shop.admin import people
from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.errors import InvalidInput
from shop.extensions import db

from accounts_helpers import make_user, sign_in


@pytest.fixture
def boss(client):
    user = make_user("admin", email="boss@example.vn", name="Chị Hà")
    assert sign_in(client, "boss@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return user


def entries(user_id) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == AuditObject.USER,
                                                            AuditEntry.object_id == user_id)
                                   .order_by(AuditEntry.id)))


def signed_in_as(app, email):
    other = app.test_client()
    assert sign_in(other, email).status_code == 302
    return other


def test_the_list_searches_and_filters(client, boss, make_shop, make_producer):
    make_shop(slug="ba-be", name="Cửa hàng Ba Bể")
    make_shop(slug="kho", name="Kho tổng")
    producer = make_producer("HTX Tài Hoan")
    db.session.commit()
    make_user("staff", email="hoa@example.vn", name="Nguyễn Thị Hoà", shops=["ba-be"], shop_role="manager")
    make_user("staff", email="minh@example.vn", shops=["kho"])
    make_user("producer", email="htx@example.vn", producer=producer.slug)
    gone = make_user("customer", email="lan@example.vn")
    gone.disabled = True
    db.session.commit()
    page = client.get("/backoffice/users?q=hoa").get_data(as_text=True)  # "Hoà" without its accent
    assert "hoa@example.vn" in page and "minh@example.vn" not in page
    page = client.get("/backoffice/users?shop=ba-be").get_data(as_text=True)
    assert "hoa@example.vn" in page and "minh@example.vn" not in page and "boss@" not in page
    page = client.get("/backoffice/users?role=producer").get_data(as_text=True)
    assert "htx@example.vn" in page and "hoa@example.vn" not in page
    page = client.get("/backoffice/users?state=disabled").get_data(as_text=True)
    assert "lan@example.vn" in page and "hoa@example.vn" not in page
    page = client.get("/backoffice/users?state=enabled").get_data(as_text=True)
    assert "lan@example.vn" not in page and "hoa@example.vn" in page
    assert client.get("/backoffice/users?role=x&shop=nowhere&state=y").status_code == 200
    user = accounts.find_by_email("hoa@example.vn")
    assert f'href="/admin/users/{user.id}"' in client.get("/backoffice/users").get_data(as_text=True)


def test_admin_makes_a_clerk_manager_of_one_shop_and_clerk_of_another_and_her_session_ends(
        app, client, boss, make_shop):
    make_shop(slug="ba-be", name="Cửa hàng Ba Bể")
    make_shop(slug="kho", name="Kho tổng")
    db.session.commit()
    hoa = make_user("staff", email="hoa@example.vn", shops=["ba-be"], shop_role="clerk")
    her_phone = signed_in_as(app, "hoa@example.vn")
    assert her_phone.get("/backoffice/shops/ba-be").status_code == 200
    response = client.post(f"/admin/users/{hoa.id}/role", data={"role": "staff", "shop-ba-be": "manager",
                                                                 "shop-kho": "clerk", "producer": ""})
    assert response.status_code == 302
    db.session.expire_all()
    hoa = db.session.get(User, hoa.id)
    assert {m.shop.slug: m.shop_role for m in hoa.shop_memberships} == {"ba-be": ShopRole.MANAGER,
                                                                       "kho": ShopRole.CLERK}
    assert her_phone.get("/backoffice/shops/ba-be").status_code == 302  # signed out: sign in again
    [entry] = entries(hoa.id)
    assert entry.action is AuditAction.ROLE and entry.actor == "Chị Hà"
    assert entry.before["shops"] == "Cửa hàng Ba Bể (Clerk)"
    assert entry.after["shops"] == "Cửa hàng Ba Bể (Manager), Kho tổng (Clerk)"
    page = client.get(f"/admin/users/{hoa.id}").get_data(as_text=True)
    assert "Role and memberships changed" in page and "Kho tổng (Clerk)" in page
    # The same again: nothing changes, no entry, her new session is kept.
    her_phone = signed_in_as(app, "hoa@example.vn")
    client.post(f"/admin/users/{hoa.id}/role", data={"role": "staff", "shop-ba-be": "manager", "shop-kho": "clerk"})
    assert len(entries(hoa.id)) == 1 and her_phone.get("/backoffice/shops/ba-be").status_code == 200


def test_a_staff_member_becomes_a_producer_user(client, boss, make_shop, make_producer):
    make_shop(slug="ba-be")
    producer = make_producer("HTX Tài Hoan")
    db.session.commit()
    user = make_user("staff", email="hoa@example.vn", shops=["ba-be"])
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "producer", "shop-ba-be": "clerk",
                                                                  "producer": producer.slug})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role is Role.PRODUCER and user.shop_memberships == []
    assert user.producer_membership.producer_id == producer.id
    [entry] = entries(user.id)
    assert entry.after == {"role": "producer", "shops": "", "producer": "HTX Tài Hoan"}


@pytest.mark.parametrize("data, message", [
    ({"role": "staff"}, "at least one shop"),
    ({"role": "producer"}, "needs a producer"),
    ({"role": "producer", "producer": "nobody"}, "No producer nobody"),
    ({"role": "pirate"}, "Unknown role"),
    ({"role": "staff", "shop-ba-be": "boss"}, "Unknown role in the shop"),
    ({"role": "staff", "shop-nowhere": "clerk"}, "No shop nowhere"),
])
def test_bad_input_changes_nothing(app, client, boss, make_shop, data, message):
    make_shop(slug="ba-be")
    db.session.commit()
    user = make_user("customer", email="lan@example.vn")
    her_phone = signed_in_as(app, "lan@example.vn")
    response = client.post(f"/admin/users/{user.id}/role", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and message in page
    db.session.expire_all()
    assert db.session.get(User, user.id).role is Role.CUSTOMER and entries(user.id) == []
    assert her_phone.get("/account/").status_code == 200  # still signed in


def test_disable_ends_the_sessions_and_enable_lets_them_in_again(app, client, boss):
    user = make_user("customer", email="hoa@example.vn")
    her_phone = signed_in_as(app, "hoa@example.vn")
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 302
    assert her_phone.get("/account/").status_code == 302
    assert sign_in(app.test_client(), "hoa@example.vn").status_code != 302  # cannot sign in
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 409  # twice: refused
    assert client.post(f"/admin/users/{user.id}/enable").status_code == 302
    assert signed_in_as(app, "hoa@example.vn").get("/account/").status_code == 200
    assert [e.action for e in entries(user.id)] == [AuditAction.DISABLE, AuditAction.ENABLE]
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Disabled" in page and "Enabled" in page


def test_an_administrator_cannot_disable_or_demote_themself(client, boss):
    response = client.post(f"/admin/users/{boss.id}/disable")
    assert response.status_code == 400 and "your own account" in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{boss.id}/role", data={"role": "customer"})
    assert response.status_code == 400 and "your own administrator role" in response.get_data(as_text=True)
    db.session.expire_all()
    boss = db.session.get(User, boss.id)
    assert boss.role is Role.ADMIN and not boss.disabled and entries(boss.id) == []
    assert client.get("/admin/").status_code == 200  # and is still signed in


def test_another_administrator_can_be_demoted_but_never_the_last_one(client, boss):
    other = make_user("admin", email="lan@example.vn")
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "customer"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other.id).role is Role.CUSTOMER
    # From a command (no one asking), the last active administrator is still kept.
    with pytest.raises(InvalidInput, match="last active administrator"):
        people.change_role(boss.id, role="customer", shop_roles={}, producer=None, by=None)
    with pytest.raises(InvalidInput, match="last active administrator"):
        people.set_disabled(boss.id, True, by=None)
    db.session.rollback()


def test_a_closed_account_is_not_changed(client, boss):
    user = make_user("customer", email="lan@example.vn")
    accounts.delete_account(user, "correct horse battery")
    db.session.commit()
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 409
    assert client.post(f"/admin/users/{user.id}/role", data={"role": "staff"}).status_code == 409
    assert client.get(f"/admin/users/{user.id}").status_code == 200


def test_the_refusal_is_in_vietnamese_by_default(client):
    boss = make_user("admin", email="boss@example.vn")
    assert sign_in(client, "boss@example.vn").status_code == 302
    client.set_cookie("lang", "vi")
    page = client.post(f"/admin/users/{boss.id}/disable").get_data(as_text=True)
    assert "Bạn không thể khoá tài khoản của chính mình" in page


def test_unknown_user_is_404(client, boss):
    assert client.get("/admin/users/999999").status_code == 404
    assert client.post("/admin/users/999999/disable").status_code == 404
