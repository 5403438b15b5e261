"""The staff's e-mails and the managers' settings (issue 13): the new-order e-mail to the shop, the
daily low-stock e-mail only when the list changed, per-product thresholds on the stock page and the
blind count as the manager's setting."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot, StockLevel
from shop.orders import services as orders
from shop.orders.notifications import send_order_confirmation
from shop.outbox.models import OutboxMessage
from shop.shops.models import Shop

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    a = make_shop("Cửa hàng OCOP A", slug="shop-a")
    b = make_shop("Cửa hàng OCOP B", slug="shop-b")
    mien = make_product("Miến dong Tài Hoan", price=110_000)
    nep = make_product("Gạo Nếp Tài", price=200_000)
    inventory.receive(a.id, mien.id, 3, lot_code="L-1")
    inventory.receive(a.id, nep.id, 20, lot_code="N-1")
    inventory.receive(b.id, nep.id, 2, lot_code="N-2")
    db.session.commit()
    make_user("staff", email="manager.a@example.vn", shops=["shop-a"], shop_role="manager")
    make_user("staff", email="clerk.a@example.vn", shops=["shop-a"], shop_role="clerk")
    make_user("staff", email="manager.b@example.vn", shops=["shop-b"], shop_role="manager")
    return {"a": a, "b": b, "mien": mien, "nep": nep}


def mail_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)
                                   .order_by(OutboxMessage.id)))


def _as(client, email):
    client.post("/account/sign-out")
    assert sign_in(client, email).status_code == 302
    return client


def test_a_new_order_is_mailed_to_the_staff_of_the_shop_that_supplies_it(app, world):
    with app.test_request_context():
        order = orders.place_order(cart_with((world["mien"], 2)), CUSTOMER, DELIVERY, "cod")
        send_order_confirmation(order)
        db.session.commit()
    [to_manager] = mail_to("manager.a@example.vn")
    assert len(mail_to("clerk.a@example.vn")) == 1 and mail_to("manager.b@example.vn") == []
    assert order.number in to_manager.subject and "Cửa hàng OCOP A" in to_manager.subject
    assert "2 × Miến dong Tài Hoan" in to_manager.body
    assert f"/staff/shops/shop-a/orders/{order.number}" in to_manager.body
    assert len(mail_to(CUSTOMER.email)) == 1  # the customer's confirmation as before


def test_an_order_rolled_back_mails_nobody(app, world):
    with app.test_request_context():
        order = orders.place_order(cart_with((world["mien"], 1)), CUSTOMER, DELIVERY, "cod")
        send_order_confirmation(order)
        db.session.rollback()
    assert mail_to("manager.a@example.vn") == []


def test_the_daily_low_stock_mail_goes_only_when_the_list_changed(runner, world):
    first = runner.invoke(args=["low-stock", "--mail"])
    assert first.exit_code == 0, first.output
    assert "shop-a  " in first.output and "mailed shop-a to manager.a@example.vn" in first.output
    assert "mailed shop-b to manager.b@example.vn" in first.output
    [mail] = mail_to("manager.a@example.vn")
    assert "Miến dong Tài Hoan: còn 3" in mail.body and "Gạo Nếp Tài" not in mail.body
    assert mail_to("clerk.a@example.vn") == []  # managers only
    # The same list the next day: nothing.
    again = runner.invoke(args=["low-stock", "--mail"])
    assert "nothing changed" in again.output and len(mail_to("manager.a@example.vn")) == 1
    # Fewer units of a product already listed: still the same list.
    inventory.adjust(world["a"].id, world["mien"].id, -1, note="broken: test")
    db.session.commit()
    runner.invoke(args=["low-stock", "--mail"])
    assert len(mail_to("manager.a@example.vn")) == 1
    # A second product runs low: the list changed.
    inventory.adjust(world["a"].id, world["nep"].id, -16, note="broken: test")
    db.session.commit()
    runner.invoke(args=["low-stock", "--mail"])
    mails = mail_to("manager.a@example.vn")
    assert len(mails) == 2 and "Gạo Nếp Tài: còn 4" in mails[-1].body
    # Restocked: the list is empty, nothing is sent, and a later low list is reported again.
    inventory.receive(world["a"].id, world["mien"].id, 20, lot_code="L-2")
    inventory.receive(world["a"].id, world["nep"].id, 20, lot_code="N-3")
    db.session.commit()
    runner.invoke(args=["low-stock", "--mail"])
    assert len(mail_to("manager.a@example.vn")) == 2 and db.session.get(Shop, world["a"].id).low_stock_digest == ""
    inventory.adjust(world["a"].id, world["mien"].id, -20, note="broken: test")
    db.session.commit()
    runner.invoke(args=["low-stock", "--mail"])
    assert len(mail_to("manager.a@example.vn")) == 3


def threshold(world, shop="a", product="mien") -> int:
    db.session.expire_all()
    return db.session.scalar(select(StockLevel.low_stock_threshold).where(
        StockLevel.shop_id == world[shop].id, StockLevel.product_id == world[product].id))


def test_managers_edit_thresholds_on_the_stock_page(client, world):
    key = f"threshold-{world['mien'].id}"
    _as(client, "clerk.a@example.vn")
    assert key not in client.get("/staff/shops/shop-a/stock").get_data(as_text=True)
    assert client.post("/staff/shops/shop-a/stock/thresholds", data={key: "10"}).status_code == 403
    _as(client, "manager.b@example.vn")
    assert client.post("/staff/shops/shop-a/stock/thresholds", data={key: "10"}).status_code == 404
    _as(client, "manager.a@example.vn")
    assert key in client.get("/staff/shops/shop-a/stock").get_data(as_text=True)
    other = f"threshold-{world['nep'].id}"
    for bad in ("abc", "-1", "1.5", "100001", ""):
        answer = client.post("/staff/shops/shop-a/stock/thresholds?lang=en", data={key: bad, other: "8"})
        assert answer.status_code == 400 and "whole number from 0 to 100000" in answer.get_data(as_text=True), bad
    assert threshold(world) == 5 and threshold(world, product="nep") == 5  # nothing written
    nowhere = client.post("/staff/shops/shop-a/stock/thresholds", data={"threshold-2147483647": "3"})
    assert nowhere.status_code == 400
    assert client.post("/staff/shops/shop-a/stock/thresholds", data={key: "2", other: "25"}).status_code == 302
    assert threshold(world) == 2 and threshold(world, product="nep") == 25
    page = client.get("/staff/shops/shop-a/stock?lang=en").get_data(as_text=True)
    low = page.split("Running low")[1].split("Everything else")[0]
    assert "Gạo Nếp Tài" in low and "Miến dong Tài Hoan" not in low  # 20 ≤ 25 now; 3 > 2


def test_the_blind_count_is_the_managers_setting(client, world):
    _as(client, "clerk.a@example.vn")
    assert "On the books" in client.get("/staff/shops/shop-a/count?lang=en").get_data(as_text=True)
    assert client.post("/staff/shops/shop-a/count/setting", data={"blind_count": "y"}).status_code == 403
    _as(client, "manager.a@example.vn")
    assert client.post("/staff/shops/shop-a/count/setting", data={"blind_count": "y"}).status_code == 302
    assert db.session.get(Shop, world["a"].id).blind_count
    assert "On the books" in client.get("/staff/shops/shop-a/count?lang=en").get_data(as_text=True)  # managers see
    _as(client, "clerk.a@example.vn")
    page = client.get("/staff/shops/shop-a/count?lang=en").get_data(as_text=True)
    assert "On the books" not in page and "Your manager chose blind counts" in page
    assert "On the books" not in client.get("/staff/shops/shop-a/count?lang=en&blind=0").get_data(as_text=True)
    assert "blind_count" not in page  # no setting for a clerk
    lot = db.session.scalar(select(Lot).where(Lot.code == "L-1"))
    answer = client.post("/staff/shops/shop-a/count?lang=en", data={f"lot-{lot.id}": "x"})
    assert answer.status_code == 400 and "On the books" not in answer.get_data(as_text=True)
    _as(client, "manager.a@example.vn")
    client.post("/staff/shops/shop-a/count/setting", data={})
    assert not db.session.get(Shop, world["a"].id).blind_count
