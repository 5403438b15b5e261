"""Administration (issue 14): shops and products edited and retired — never deleted — with the
audit history (who, when, before / after) on the object's page; certificates' changes audited too."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.shops.models import Shop
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn", name="Quản trị Lan")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return client


def shop_form(shop, **over) -> dict:
    data = {"name": shop.name, "address": shop.address, "phone": "0912 345 678", "opening_hours": "7:30–17:30",
            "opening_hours_en": "7:30am–5:30pm", "offers_pickup": "y", "ships_online": "y"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def entries(object_type, object_id) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                            AuditEntry.object_id == object_id)
                                   .order_by(AuditEntry.id)))


def test_admin_edits_a_shop_and_the_change_is_on_its_page(admin_client, make_shop):
    shop = make_shop(slug="ba-be", name="Cửa hàng OCOP Ba Bể")
    db.session.commit()
    response = admin_client.post("/admin/shops/ba-be", data=shop_form(shop, name="Cửa hàng OCOP Hồ Ba Bể"))
    assert response.status_code == 302
    [entry] = entries(AuditObject.SHOP, shop.id)
    assert entry.action is AuditAction.EDIT and entry.actor == "Quản trị Lan" and entry.user_id is not None
    assert entry.before["name"] == "Cửa hàng OCOP Ba Bể" and entry.after["name"] == "Cửa hàng OCOP Hồ Ba Bể"
    page = admin_client.get("/admin/shops/ba-be").get_data(as_text=True)
    assert "Cửa hàng OCOP Hồ Ba Bể" in page and "Quản trị Lan" in page and "History" in page


def test_a_bad_phone_or_empty_name_changes_nothing(admin_client, make_shop):
    shop = make_shop(slug="ba-be", name="Cửa hàng OCOP Ba Bể")
    db.session.commit()
    response = admin_client.post("/admin/shops/ba-be", data=shop_form(shop, name="", phone="12345"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "phone number" in page
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).name == "Cửa hàng OCOP Ba Bể"
    assert entries(AuditObject.SHOP, shop.id) == []


def test_admin_retires_a_shop_it_leaves_sale_and_comes_back(app, admin_client, make_shop):
    shop = make_shop(slug="ba-be", name="Cửa hàng OCOP Ba Bể", offers_pickup=True)
    db.session.commit()
    assert shop in orders.pickup_shops_for({})
    guest = app.test_client()
    assert "Cửa hàng OCOP Ba Bể" in guest.get("/shops").get_data(as_text=True)  # a guest's page, kept
    assert admin_client.post("/admin/shops/ba-be/retire").status_code == 302
    assert "Cửa hàng OCOP Ba Bể" not in guest.get("/shops").get_data(as_text=True)  # not served from the cache
    db.session.expire_all()
    shop = db.session.get(Shop, shop.id)
    assert not shop.active and shop not in orders.pickup_shops_for({})
    assert "Cửa hàng OCOP Ba Bể" not in admin_client.get("/shops").get_data(as_text=True)
    assert admin_client.post("/admin/shops/ba-be/retire").status_code == 409  # twice: refused
    assert admin_client.post("/admin/shops/ba-be/reopen").status_code == 302
    assert [e.action for e in entries(AuditObject.SHOP, shop.id)] == [AuditAction.RETIRE, AuditAction.REOPEN]


def test_a_shop_with_shipments_in_progress_is_not_retired(admin_client, make_shop, make_product):
    shop = make_shop(slug="ba-be", ships_online=True)
    product = make_product()
    inventory.receive(shop.id, product.id, 5)
    db.session.commit()
    orders.place_order(cart_with((product, 1)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    response = admin_client.post("/admin/shops/ba-be/retire")
    assert response.status_code == 409 and "in progress" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).active


def test_admin_retires_a_product_by_unlisting_it(admin_client, make_product):
    product = make_product("Trà nụ vối", price=90_000)
    db.session.commit()
    data = {"edit-name": "Trà nụ vối", "edit-name_en": "", "edit-unit": "hộp", "edit-unit_en": "box",
            "edit-price": "95000", "edit-group": str(product.group_id), "edit-producer": product.producer.slug}
    assert admin_client.post(f"/admin/products/{product.slug}/edit", data=data).status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert not product.listed and product.price == 95_000 and not product.sellable
    [entry] = entries(AuditObject.PRODUCT, product.id)
    assert entry.action is AuditAction.RETIRE
    assert (entry.before["price"], entry.after["price"], entry.before["listed"], entry.after["listed"]) == (
        90_000, 95_000, True, False)
    page = admin_client.get(f"/admin/products/{product.slug}/certificates").get_data(as_text=True)
    assert "Retired" in page and "95000" in page


@pytest.mark.parametrize("price, listed, message", [("abc", "y", "whole đồng"), ("-5", "y", "whole đồng"),
                                                    ("0", "y", "only with a price")])
def test_a_bad_price_changes_nothing(admin_client, make_product, price, listed, message):
    product = make_product("Trà nụ vối", price=90_000)
    db.session.commit()
    data = {"edit-name": "Trà nụ vối", "edit-price": price, "edit-listed": listed,
            "edit-group": str(product.group_id), "edit-producer": product.producer.slug}
    response = admin_client.post(f"/admin/products/{product.slug}/edit", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Product, product.id).price == 90_000
    assert entries(AuditObject.PRODUCT, product.id) == []


def test_certificate_changes_are_in_the_products_history(admin_client, make_product):
    product = make_product("Rượu men lá Thanh Tâm", stars=4)
    db.session.commit()
    cert = product.certificates[0]
    admin_client.post(f"/admin/certificates/{cert.id}/revoke", data={
        "revoke-revocation_decision": "99/QĐ-UBND", "revoke-revoked_on": today_vn().isoformat(),
        "revoke-revocation_reason": "Ngừng sản xuất"})
    [entry] = entries(AuditObject.CERTIFICATE, cert.id)
    assert entry.action is AuditAction.REVOKE and entry.after["revocation_reason"] == "Ngừng sản xuất"
    page = admin_client.get(f"/admin/products/{product.slug}/certificates").get_data(as_text=True)
    assert "Certificate revoked" in page and "Ngừng sản xuất" in page
