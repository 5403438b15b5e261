"""Refunds and returns from the staff workspace (issue 13): a card refunded in part then in full
through Stripe (the real SDK against tests/stripe_stub.py), a bank transfer and cash recorded with a
reference, goods brought back onto the shelf or written off — each through the payments, orders and
inventory services, named after the signed-in person, and refused for other shops and bad input."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.enums import MovementReason
from shop.inventory.models import StockLevel, StockMovement
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, PaymentStatus, ShipmentState
from shop.orders.models import Order
from shop.payments.enums import PaymentRecordStatus
from shop.payments.models import Payment, Refund

from accounts_helpers import make_user, sign_in
from test_orders import DELIVERY, cart_with
from test_payments import pay, stripe_server, stub  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    a = make_shop("Cửa hàng OCOP A", slug="shop-a")
    make_shop("Cửa hàng OCOP B", slug="shop-b")
    mien = make_product("Miến dong Tài Hoan", price=110_000)
    inventory.receive(a.id, mien.id, 5, lot_code="L-1")
    db.session.commit()
    make_user("staff", email="manager.a@example.vn", name="Mai", shops=["shop-a"], shop_role="manager")
    make_user("staff", email="clerk.a@example.vn", shops=["shop-a"], shop_role="clerk")
    make_user("staff", email="manager.b@example.vn", shops=["shop-b"], shop_role="manager")
    return {"a": a, "mien": mien}


_seq = iter(range(10, 99))


def place(world, method, units=2) -> Order:
    n = next(_seq)
    customer = orders.Customer(name=f"Khách {n}", phone=f"09123450{n}", email=f"khach{n}@example.vn")
    order = orders.place_order(cart_with((world["mien"], units)), customer, DELIVERY, method)
    db.session.commit()
    return order


def _as(client, email):
    client.post("/account/sign-out")
    assert sign_in(client, email).status_code == 302
    return client


def _order(number) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number))


def on_hand(world) -> int:
    db.session.expire_all()
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.shop_id == world["a"].id,
                                                              StockLevel.product_id == world["mien"].id))


def _url(order, what):
    return f"/staff/shops/shop-a/orders/{order.number}/{what}?lang=en"


def test_a_card_order_is_partly_then_fully_refunded_through_stripe(client, stub, world):
    order = place(world, "card")  # 220.000 + 30.000 shipping
    completed = pay(client, stub, order)
    _as(client, "manager.a@example.vn")
    page = client.get(_url(order, "")[:-9] + "?lang=en").get_data(as_text=True)
    assert "Refund through Stripe" in page and "250.000" in page

    for bad, message in (("abc", "amount in đồng"), ("300.000", "between 1 and 250.000"), ("-5", "without a sign")):
        answer = client.post(_url(order, "refund"), data={"amount": bad})
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), bad
    answer = client.post(_url(order, "refund"), data={"amount": "50000", "reference": "FT1"})
    assert answer.status_code == 400 and "leave the reference out" in answer.get_data(as_text=True)
    assert stub.calls("POST", "/v1/refunds") == []

    assert client.post(_url(order, "refund"), data={"amount": "50.000", "reason": "một gói bị rách"}).status_code == 302
    [call] = stub.calls("POST", "/v1/refunds")
    assert call.form["amount"] == "50000" and call.form["payment_intent"] == completed["payment_intent"]
    paid = _order(order.number)
    assert paid.payment_status == PaymentStatus.PARTIALLY_REFUNDED and paid.amount_refunded == 50_000
    assert paid.events[-1].actor == "Mai <manager.a@example.vn>"
    refund = db.session.scalars(select(Refund)).one()
    assert refund.reason == "một gói bị rách" and refund.provider_reference.startswith("re_")
    assert refund.actor_user_id is not None

    assert client.post(_url(order, "refund"), data={"amount": ""}).status_code == 302  # all that is left
    assert stub.calls("POST", "/v1/refunds")[-1].form["amount"] == "200000"
    refunded = _order(order.number)
    assert refunded.status == OrderStatus.REFUNDED and refunded.amount_refunded == 250_000
    assert db.session.scalars(select(Payment)).one().status == PaymentRecordStatus.REFUNDED
    assert on_hand(world) == 5  # never handed over: the units are back on the shelf
    assert "Refund through Stripe" not in client.get(_url(order, "")[:-9]).get_data(as_text=True)
    assert client.post(_url(order, "refund"), data={}).status_code == 409
    assert len(stub.calls("POST", "/v1/refunds")) == 2


def test_who_may_refund(client, stub, world):
    order = place(world, "card")
    pay(client, stub, order)
    _as(client, "clerk.a@example.vn")
    assert "Refund through Stripe" not in client.get(_url(order, "")[:-9]).get_data(as_text=True)
    assert client.post(_url(order, "refund"), data={"amount": "1000"}).status_code == 403
    _as(client, "manager.b@example.vn")
    assert client.post(_url(order, "refund"), data={"amount": "1000"}).status_code == 404
    assert stub.calls("POST", "/v1/refunds") == [] and _order(order.number).amount_refunded == 0


def test_a_bank_transfer_is_refunded_with_its_reference(client, world):
    order = place(world, "bank_transfer")
    _as(client, "manager.a@example.vn")
    assert client.post(_url(order, "refund"), data={}).status_code == 409  # nothing received yet
    orders.confirm_bank_transfer(_order(order.number), actor="test")
    db.session.commit()
    answer = client.post(_url(order, "refund"), data={"amount": "100000"})
    assert answer.status_code == 400 and "reference of the bank transfer" in answer.get_data(as_text=True)
    answer = client.post(_url(order, "refund"), data={"amount": "100000", "reference": "FT<script>"})
    assert answer.status_code == 400
    assert client.post(_url(order, "refund"), data={"amount": "100000", "reference": "FT26335999"}).status_code == 302
    again = client.post(_url(order, "refund"), data={"amount": "1000", "reference": "FT26335999"})
    assert again.status_code == 400 and "already recorded" in again.get_data(as_text=True)
    after = _order(order.number)
    assert after.amount_refunded == 100_000 and "reference FT26335999" in after.events[-1].note


def test_cod_cash_refund_and_goods_back_on_the_shelf_or_written_off(client, world):
    order = place(world, "cod", units=3)
    _as(client, "clerk.a@example.vn")
    client.post(_url(order, "confirm"), data={"called": "y"})
    client.post(_url(order, "step"), data={"to": ShipmentState.SHIPPED.value, "carrier": "GHN",
                                           "tracking_number": "GHN123"})
    assert on_hand(world) == 2
    page = client.get(_url(order, "")[:-9] + "?lang=en").get_data(as_text=True)
    assert "Goods brought back" in page and "Record the refund" not in page  # a clerk; nothing paid yet
    # Refused parcel, or goods sent back by the customer: the clerk records them.
    assert client.post(_url(order, "return"), data={}).status_code == 400
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "4"}).status_code == 400
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "x"}).status_code == 400
    answer = client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "1", "write_off": "y"})
    assert answer.status_code == 400 and "written off" in answer.get_data(as_text=True)
    assert on_hand(world) == 2
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "1",
                                                    "note": "khách đổi ý"}).status_code == 302
    assert on_hand(world) == 3
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "1", "write_off": "y",
                                                    "note": "vỡ khi vận chuyển"}).status_code == 302
    assert on_hand(world) == 3  # returned, then written off
    rows = db.session.execute(select(StockMovement.reason, StockMovement.delta).where(
        StockMovement.reference == order.number).order_by(StockMovement.id)).all()
    assert [tuple(r) for r in rows][-3:] == [(MovementReason.RETURN, 1), (MovementReason.RETURN, 1),
                                             (MovementReason.WRITE_OFF, -1)]
    assert "written off" in _order(order.number).events[-1].note
    # Delivered and paid in cash: the manager hands cash back (a receipt number optional).
    client.post(_url(order, "step"), data={"to": ShipmentState.DELIVERED.value})
    _as(client, "manager.a@example.vn")
    assert client.post(_url(order, "refund"), data={"amount": "220.000", "reason": "2 gói trả lại"}).status_code == 302
    after = _order(order.number)
    assert after.amount_refunded == 220_000 and after.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    customer_page = client.get(f"/orders/{after.number}?token={after.access_token}&lang=en").get_data(as_text=True)
    assert "220.000" in customer_page


def test_returns_are_only_for_the_shops_own_goods(client, world):
    order = place(world, "cod")
    _as(client, "clerk.a@example.vn")
    # Not shipped yet: nothing to return (cancel instead).
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "1"}).status_code == 400
    _as(client, "manager.b@example.vn")
    assert client.post(_url(order, "return"), data={"line-%d" % order.lines[0].id: "1"}).status_code == 404


def test_money_that_came_for_a_cancelled_transfer_order_can_be_refunded(client, world):
    order = place(world, "bank_transfer")
    orders.cancel_by_customer(order)
    orders.confirm_bank_transfer(_order(order.number), actor="test")  # late money: recorded, flagged
    db.session.commit()
    assert _order(order.number).needs_review
    _as(client, "manager.a@example.vn")
    assert client.post(_url(order, "refund"), data={"reference": "FT26335000"}).status_code == 302
    after = _order(order.number)
    assert after.status == OrderStatus.CANCELLED and after.payment_status == PaymentStatus.REFUNDED
    assert after.amount_refunded == after.total
