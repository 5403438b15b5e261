"""The staff workspace's order pages (issue 13): the queue, confirming, packing, shipping with a
tracking link, delivering, pick-up with the cash taken, cancelling, the packing slip — each step
through the order services, named after the signed-in clerk, and refused for other shops."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import MovementReason, StockMovement
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, PaymentStatus, ShipmentState
from shop.orders.models import Order, OrderEvent
from shop.staff.carriers import carrier_code, tracking_url

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    """Shop A (with two lots of one product) and shop B, a COD delivery order from each, a clerk
    of each shop."""
    a = make_shop("Cửa hàng OCOP A", slug="shop-a", ships_online=True)
    b = make_shop("Cửa hàng OCOP B", slug="shop-b", ships_online=True)
    mien = make_product("Miến dong Tài Hoan", price=110_000)
    nep = make_product("Gạo Nếp Tài", price=200_000)
    from datetime import date, timedelta

    from shop.timeutil import today_vn
    soon, later = today_vn() + timedelta(days=90), today_vn() + timedelta(days=300)
    inventory.receive(a.id, mien.id, 2, lot_code="L-SOON", best_before=soon)
    inventory.receive(a.id, mien.id, 10, lot_code="L-LATER", best_before=later)
    inventory.receive(b.id, nep.id, 10, lot_code="N-1")
    db.session.commit()
    order_a = orders.place_order(cart_with((mien, 3)), CUSTOMER, DELIVERY, "cod")
    order_b = orders.place_order(cart_with((nep, 1)), orders.Customer(
        name="Trần Văn Bình", phone="0987654321", email="binh@example.vn"), DELIVERY, "cod")
    db.session.commit()
    clerk_a = make_user("staff", email="clerk.a@example.vn", name="Hoa", shops=["shop-a"], shop_role="clerk")
    make_user("staff", email="clerk.b@example.vn", shops=["shop-b"], shop_role="clerk")
    return {"a": a, "b": b, "mien": mien, "nep": nep, "order_a": order_a, "order_b": order_b, "clerk_a": clerk_a}


def _as(client, email):
    assert sign_in(client, email).status_code == 302
    return client


def _order(number) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number))


def test_the_queue_shows_my_shops_shipments_with_counts_and_finds_by_number_name_and_phone(client, world):
    _as(client, "clerk.a@example.vn")
    assert client.get("/staff/").headers["Location"].endswith("/staff/shops/shop-a/orders")
    page = client.get("/staff/shops/shop-a/orders").get_data(as_text=True)
    assert world["order_a"].number in page and world["order_b"].number not in page
    assert re.search(r'Chờ chuẩn bị <span class="badge badge--new">1</span>|To prepare <span class="badge badge--new">1</span>', page)
    for q in (world["order_a"].number[-4:], "thị lan", "0912 345 678", "912345"):
        assert world["order_a"].number in client.get("/staff/shops/shop-a/orders", query_string={"q": q}).get_data(as_text=True), q
    assert world["order_a"].number not in client.get("/staff/shops/shop-a/orders", query_string={"q": "Bình"}).get_data(as_text=True)
    assert world["order_a"].number not in client.get("/staff/shops/shop-a/orders",
                                                     query_string={"method": "bank_transfer"}).get_data(as_text=True)
    assert world["order_a"].number not in client.get("/staff/shops/shop-a/orders",
                                                     query_string={"state": "packed"}).get_data(as_text=True)
    assert world["order_a"].number not in client.get("/staff/shops/shop-a/orders",
                                                     query_string={"from": "2099-01-01"}).get_data(as_text=True)
    odd = client.get("/staff/shops/shop-a/orders?state=nonsense&method=x&from=yesterday&to=2026-13-45")
    assert odd.status_code == 200 and world["order_a"].number in odd.get_data(as_text=True)


def test_staff_of_another_shop_get_404_and_customers_403(client, world):
    make_user("customer", email="lan@example.vn")
    _as(client, "clerk.b@example.vn")
    number = world["order_a"].number
    for url in ("/staff/shops/shop-a/orders", f"/staff/shops/shop-a/orders/{number}",
                f"/staff/shops/shop-a/orders/{number}/slip", f"/staff/shops/shop-b/orders/{number}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/staff/shops/shop-a/orders/{number}/confirm", data={"called": "y"}).status_code == 404
    assert _order(number).status == OrderStatus.PLACED
    client.post("/account/sign-out")
    _as(client, "lan@example.vn")
    assert client.get("/staff/shops/shop-a/orders").status_code == 403
    assert client.get("/staff/").status_code == 403


def test_a_cod_order_confirmed_packed_shipped_with_tracking_and_delivered(client, world):
    _as(client, "clerk.a@example.vn")
    number, base = world["order_a"].number, f"/staff/shops/shop-a/orders/{world['order_a'].number}"
    refused = client.post(f"{base}/confirm", data={})
    assert refused.status_code == 400 and "field--error" in refused.get_data(as_text=True)
    assert _order(number).status == OrderStatus.PLACED
    assert client.post(f"{base}/confirm", data={"called": "y"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.PROCESSING
    event = order.events[-1]
    assert "clerk.a@example.vn" in event.actor and event.actor_user_id == world["clerk_a"].id

    slip = client.get(f"{base}/slip").get_data(as_text=True)
    assert "12 Trường Chinh" in slip and "L-SOON" in slip and "L-LATER" in slip and "slip-a4.css" in slip
    assert slip.index("L-SOON") < slip.index("L-LATER")  # first-expiring first
    assert "slip-80mm.css" in client.get(f"{base}/slip?paper=80").get_data(as_text=True)

    assert client.post(f"{base}/step", data={"to": "packed"}).status_code == 302
    no_tracking = client.post(f"{base}/step", data={"to": "shipped", "carrier": "GHN", "tracking_number": " "})
    assert no_tracking.status_code == 400
    assert _order(number).shipments[0].state == ShipmentState.PACKED
    assert not db.session.scalars(select(StockMovement).where(StockMovement.reason == MovementReason.SALE)).all()
    assert client.post(f"{base}/step", data={"to": "shipped", "carrier": "GHN",
                                             "tracking_number": "GHN 123/AB"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.SHIPPED and order.shipments[0].tracking_number == "GHN 123/AB"
    sales = db.session.scalars(select(StockMovement).where(StockMovement.reason == MovementReason.SALE)).all()
    assert sum(m.delta for m in sales) == -3 and {m.user_id for m in sales} == {world["clerk_a"].id}
    client.post("/account/sign-out")
    customer_page = client.get(f"/orders/{number}?token={order.access_token}").get_data(as_text=True)
    assert 'href="https://donhang.ghn.vn/?order_code=GHN%20123%2FAB"' in customer_page

    _as(client, "clerk.a@example.vn")
    assert client.post(f"{base}/step", data={"to": "delivered"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.DELIVERED and order.payment_status == PaymentStatus.PAID
    assert client.post(f"{base}/step", data={"to": "collected"}).status_code == 400  # not a pick-up order


def test_cancel_needs_a_reason_and_puts_the_units_back(client, world):
    _as(client, "clerk.a@example.vn")
    number, base = world["order_a"].number, f"/staff/shops/shop-a/orders/{world['order_a'].number}"
    assert client.post(f"{base}/cancel", data={"reason": "  "}).status_code == 400
    assert _order(number).status == OrderStatus.PLACED
    assert client.post(f"{base}/cancel", data={"reason": "không liên lạc được"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.CANCELLED and order.shipments[0].state == ShipmentState.CANCELLED
    assert any(e.note == "không liên lạc được" and e.actor_user_id == world["clerk_a"].id for e in order.events)
    assert inventory.availability_matrix([world["mien"].id], [world["a"].id])[(world["a"].id, world["mien"].id)] == 12


def test_a_pick_up_order_is_handed_over_with_the_cash_recorded(client, world):
    order = orders.place_order(cart_with((world["mien"], 2)), CUSTOMER,
                               orders.Fulfilment(type="pickup", pickup_shop_id=world["a"].id), "pay_at_shop")
    db.session.commit()
    number, base = order.number, f"/staff/shops/shop-a/orders/{order.number}"
    _as(client, "clerk.a@example.vn")
    assert client.post(f"{base}/confirm", data={"called": "y"}).status_code == 302
    assert client.post(f"{base}/step", data={"to": "shipped", "carrier": "GHN", "tracking_number": "1"}).status_code == 400
    for step in ("packed", "ready_for_pickup"):
        assert client.post(f"{base}/step", data={"to": step}).status_code == 302, step
    assert _order(number).status == OrderStatus.READY_FOR_PICKUP
    for cash in ("", "abc", "-5", "219999", "2.2e5", "219.999", "250.000,5"):
        answer = client.post(f"{base}/step", data={"to": "collected", "cash": cash})
        assert answer.status_code == 400, cash
        assert _order(number).status == OrderStatus.READY_FOR_PICKUP
    # Typed as people write đồng (shop.money.parse_vnd).
    assert client.post(f"{base}/step", data={"to": "collected", "cash": "250.000 ₫"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.COLLECTED and order.payment_status == PaymentStatus.PAID
    assert any("250.000" in e.note and "30.000" in e.note for e in order.events)


def test_a_refused_step_shows_the_reason_and_changes_nothing(client, world):
    _as(client, "clerk.a@example.vn")
    base = f"/staff/shops/shop-a/orders/{world['order_a'].number}"
    answer = client.post(f"{base}/step", data={"to": "packed"})  # not confirmed yet
    assert answer.status_code == 409 and "notice--warning" in answer.get_data(as_text=True)
    assert _order(world["order_a"].number).shipments[0].state == ShipmentState.TO_PREPARE
    assert client.post(f"{base}/step", data={"to": "nonsense"}).status_code == 400


def test_every_change_needs_the_csrf_token(app, world):
    from config import TestingConfig
    from shop import create_app

    guarded = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        page = client.get("/account/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/account/sign-in", data={"email": "clerk.a@example.vn", "password": "correct horse battery",
                                              "csrf_token": token})
        from flask import g

        g.pop("csrf_token", None)  # requests share this app context's g: the token cached before sign-in is gone
        base = f"/staff/shops/shop-a/orders/{world['order_a'].number}"
        for action in ("confirm", "cancel", "step"):
            assert client.post(f"{base}/{action}", data={"called": "y", "reason": "x", "to": "packed"}).status_code == 400
        answer = client.get(base)
        assert answer.status_code == 200, answer.headers
        page = answer.get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        done = client.post(f"{base}/confirm", data={"called": "y", "csrf_token": token})
        assert done.status_code == 302, done.get_data(as_text=True)[-3000:]
        db.session.remove()


@pytest.mark.parametrize("carrier, number, url", [
    ("GHN", "GA123", "https://donhang.ghn.vn/?order_code=GA123"),
    ("ghtk", "S1.2", "https://i.ghtk.vn/S1.2"),
    ("Viettel Post", "VTP 9", "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?orderNumber=VTP%209"),
    ("Vietnam Post", "EB1VN", "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key=EB1VN"),
    ("J&T Express", "8123", "https://jtexpress.vn/vi/tracking?type=track&billcode=8123"),
    ("Giao tận nơi", "1", None),
    ("GHN", "", None),
])
def test_tracking_links_for_the_common_carriers(app, carrier, number, url):
    assert tracking_url(carrier, number) == url


def test_the_carrier_table_is_a_setting(app):
    app.config["CARRIERS"] = {"ahamove": ("Ahamove", "https://track.example/{number}")}
    try:
        assert tracking_url("Ahamove", "x y") == "https://track.example/x%20y"
        assert carrier_code("GHN") is None
    finally:
        app.config.pop("CARRIERS")
