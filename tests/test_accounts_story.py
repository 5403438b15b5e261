"""Issue 12's "done when", tried as new users would, through the CLI and the pages only."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select, update

from shop.accounts.models import User

from shop.extensions import db
from shop.inventory import services as inventory

PASSWORD = "correct horse battery"


def test_the_administrator_the_clerk_the_producer_and_a_customer_each_find_their_own_world(
        app, runner, make_shop, make_producer, make_product):
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient  # each request its own ``g``, as in production
    ba_be, kho = make_shop("Cửa hàng OCOP Ba Bể", slug="ba-be"), make_shop("Kho tổng", slug="kho-tong")
    tai_hoan, ha_diep = make_producer("HTX Tài Hoan"), make_producer("Cty TNHH Hà Diệp")
    mien = make_product("Miến dong Tài Hoan", producer=tai_hoan)
    tra = make_product("Trà hoa vàng", producer=ha_diep)
    inventory.receive(ba_be.id, mien.id, 20)
    inventory.receive(kho.id, tra.id, 20)
    db.session.commit()

    # An administrator from the command line, who signs in with two steps.
    assert runner.invoke(args=["users", "create", "boss@example.vn", "--role", "admin", "--password-stdin"],
                         input=PASSWORD + "\n").exit_code == 0
    app.config["TOTP_REQUIRED_FOR_ADMINS"] = True
    try:
        boss = app.test_client()
        first = boss.post("/account/sign-in", data={"email": "boss@example.vn", "password": PASSWORD})
        assert first.headers["Location"].endswith("/account/two-step")
        setup = boss.get("/account/two-step").get_data(as_text=True)
        secret = re.search(r"<code>([A-Z2-7]{32})</code>", setup).group(1)
        assert boss.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
        # Thirty seconds later (a code is accepted once: the step it belongs to is remembered).
        db.session.execute(update(User).values(totp_last_step=User.totp_last_step - 1))
        db.session.commit()
        again = app.test_client()
        again.post("/account/sign-in", data={"email": "boss@example.vn", "password": PASSWORD})
        assert again.post("/account/sign-in/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
        landing = again.get("/backoffice/").get_data(as_text=True)
        assert "Cửa hàng OCOP Ba Bể" in landing and "Kho tổng" in landing and "HTX Tài Hoan" in landing
    finally:
        app.config["TOTP_REQUIRED_FOR_ADMINS"] = False

    # The administrator creates a clerk for one shop and a producer user.
    assert runner.invoke(args=["users", "create", "hoa@example.vn", "--role", "staff", "--shop", "ba-be",
                               "--password-stdin"], input=PASSWORD + "\n").exit_code == 0
    assert runner.invoke(args=["users", "create", "htx@example.vn", "--role", "producer", "--producer",
                               tai_hoan.slug, "--password-stdin"], input=PASSWORD + "\n").exit_code == 0

    clerk = app.test_client()
    clerk.post("/account/sign-in", data={"email": "hoa@example.vn", "password": PASSWORD})
    page = clerk.get("/backoffice/").get_data(as_text=True)
    assert "Cửa hàng OCOP Ba Bể" in page and "Kho tổng" not in page
    assert clerk.get("/backoffice/shops/ba-be").status_code == 200
    assert clerk.get("/backoffice/shops/kho-tong").status_code == 404
    assert clerk.get("/backoffice/users").status_code == 403

    maker = app.test_client()
    maker.post("/account/sign-in", data={"email": "htx@example.vn", "password": PASSWORD})
    page = maker.get("/backoffice/").get_data(as_text=True)
    assert "Miến dong Tài Hoan" in page and "Trà hoa vàng" not in page
    assert maker.get(f"/backoffice/producers/{ha_diep.slug}").status_code == 404

    # A guest fills a cart, registers, confirms the address, signs in: the cart is still there.
    sent: list[str] = []
    import shop.accounts.mails as mails

    real = mails.send_mail
    mails.send_mail = lambda to, subject, body: sent.append(body)
    try:
        lan = app.test_client()
        lan.post("/cart/add", data={"product_id": mien.id, "quantity": 2})
        lan.post("/account/register", data={"name": "Nguyễn Thị Lan", "email": "lan@example.vn",
                                            "password": PASSWORD})
        link = re.search(r"https?://[^/\s]+(/account/verify/\S+)", sent[-1]).group(1)
        lan.post(link)
    finally:
        mails.send_mail = real
    lan.post("/account/sign-in", data={"email": "lan@example.vn", "password": PASSWORD})
    assert "Miến dong Tài Hoan" in lan.get("/cart").get_data(as_text=True)

    # She orders, and finds the order in her history.
    placed = lan.post("/orders/checkout", data={
        "name": "Nguyễn Thị Lan", "phone": "0912345678", "email": "lan@example.vn", "fulfilment": "delivery",
        "street": "12 Trường Chinh", "ward": "Đức Xuân", "province": "Thái Nguyên", "payment_method": "cod"})
    assert placed.status_code == 302
    from shop.orders.models import Order

    order = db.session.scalars(select(Order)).one()
    assert order.number in lan.get("/account/").get_data(as_text=True)
    # The clerk of Ba Bể sees it (their shop supplies it); the producer user does not.
    assert order.number in clerk.get("/backoffice/shops/ba-be").get_data(as_text=True)
    assert maker.get(f"/backoffice/orders/{order.number}").status_code == 403
