"""Issue 13 (h17): the packing slip's "lots to pick" are the lots the sale takes (one rule for
both), and units held for orders written off by hand: warned before, refused for gifts and
samples, breakage recorded with the orders flagged, packing refused while the goods are gone."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.errors import NotAllowed
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.recalls import recall_lot
from shop.inventory.models import Lot, MovementReason, StockMovement
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, ShipmentState
from shop.orders.models import Order
from shop.staff import queries
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []
    assert inventory.lot_ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    """Shop A with four lots of one product, first-expiring first: short-dated (12 days: counter
    only), recalled, then two good lots (1 + 10 units sellable online)."""
    a = make_shop("Cửa hàng OCOP Ba Bể", slug="shop-a", ships_online=True)
    mien = make_product("Khẩu sli Pác Nặm", slug="khau-sli", price=100_000)
    today = today_vn()
    inventory.receive(a.id, mien.id, 3, lot_code="RECALLED", best_before=today + timedelta(days=5 + 60))
    inventory.receive(a.id, mien.id, 4, lot_code="SHORT", best_before=today + timedelta(days=12))
    inventory.receive(a.id, mien.id, 1, lot_code="GOOD-1", best_before=today + timedelta(days=90))
    inventory.receive(a.id, mien.id, 10, lot_code="GOOD-2", best_before=today + timedelta(days=300))
    db.session.commit()
    recalled = db.session.scalar(select(Lot).where(Lot.code == "RECALLED"))
    recall_lot(recalled.id, "test recall")
    db.session.commit()
    clerk = make_user("staff", email="clerk.a@example.vn", name="Hoa", shops=["shop-a"], shop_role="clerk")
    return {"a": a, "mien": mien, "clerk": clerk}


def _order(number) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number))


def _codes(lines) -> list[tuple[str, int]]:
    return [(lot.code, units) for line in lines for lot, units in line.lots]


@pytest.mark.parametrize("kind", ["pickup", "delivery"])
def test_the_slip_names_exactly_the_lots_the_sale_takes(client, world, kind):
    a, mien = world["a"], world["mien"]
    if kind == "pickup":
        order = orders.place_order(cart_with((mien, 2)), CUSTOMER,
                                   orders.Fulfilment(type="pickup", pickup_shop_id=a.id), "pay_at_shop")
        steps = [("packed", {}), ("ready_for_pickup", {}), ("collected", {"cash": "200000"})]
    else:
        order = orders.place_order(cart_with((mien, 2)), CUSTOMER, DELIVERY, "cod")
        steps = [("packed", {}), ("shipped", {"carrier": "GHN", "tracking_number": "X1"})]
    db.session.commit()
    number, base = order.number, f"/staff/shops/shop-a/orders/{order.number}"
    sign_in(client, "clerk.a@example.vn")
    assert client.post(f"{base}/confirm", data={"called": "y"}).status_code == 302

    before = _codes(queries.slip_lines(_order(number).shipments[0]))
    assert before == [("GOOD-1", 1), ("GOOD-2", 1)]  # neither the recalled nor the 12-day lot
    slip = client.get(f"{base}/slip").get_data(as_text=True)
    assert "GOOD-1" in slip and "GOOD-2" in slip and "SHORT" not in slip and "RECALLED" not in slip

    for step, data in steps:
        assert client.post(f"{base}/step", data={"to": step, **data}).status_code == 302, step
    sold = db.session.scalars(select(StockMovement).where(StockMovement.reason == MovementReason.SALE)
                              .order_by(StockMovement.id)).all()
    assert [(m.lot.code, -m.delta) for m in sold] == before
    after = queries.slip_lines(_order(number).shipments[0])
    assert _codes(after) == before and all(line.taken for line in after)


def _held_order(world, quantity=8):
    """A pay-at-shop pick-up order holding ``quantity`` of the 11 sellable units, confirmed."""
    order = orders.place_order(cart_with((world["mien"], quantity)), CUSTOMER,
                               orders.Fulfilment(type="pickup", pickup_shop_id=world["a"].id), "pay_at_shop")
    db.session.commit()
    orders.confirm_order(order, actor="test")
    db.session.commit()
    return order.number


def _adjust(client, **data):
    return client.post("/staff/shops/shop-a/stock/adjust", data={"product": "khau-sli", **data})


def test_writing_off_held_units_warns_refuses_gifts_and_flags_the_order(client, world):
    number = _held_order(world)          # 8 of the 11 sellable units held
    sign_in(client, "clerk.a@example.vn")
    rows = db.session.scalar(select(func.count(StockMovement.id)))
    # The short-dated and recalled lots leave first (FEFO): 7 units take nothing held;
    # 11 units (or 4 named from GOOD-2) leave 7 sellable units for 8 held.
    for data in ({"reason": "gift", "quantity": "11"}, {"reason": "sample", "quantity": "11"},
                 {"reason": "broken", "quantity": "11"}, {"reason": "broken", "quantity": "4", "lot_code": "GOOD-2"}):
        answer = _adjust(client, **data)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400, data
        assert number in page and re.search(r"8 (đơn vị|units)", page), data
    assert 'name="confirm_held"' in page
    assert db.session.scalar(select(func.count(StockMovement.id))) == rows
    assert not _order(number).needs_review

    assert _adjust(client, reason="broken", quantity="11", note="kệ đổ", confirm_held="y").status_code == 302
    order = _order(number)
    assert order.needs_review and "không còn trong kho" in order.review_reason and "broken: kệ đổ" in order.review_reason
    assert any(e.actor.startswith("Hoa") and "không còn trong kho" in e.note for e in order.events)

    base = f"/staff/shops/shop-a/orders/{number}"
    refused = client.post(f"{base}/step", data={"to": "packed"})
    assert refused.status_code == 409
    assert "không còn trong kho" in refused.get_data(as_text=True)
    assert _order(number).shipments[0].state == ShipmentState.TO_PREPARE

    # Restocked: packing goes on.
    inventory.receive(world["a"].id, world["mien"].id, 5, lot_code="GOOD-3",
                      best_before=today_vn() + timedelta(days=200))
    db.session.commit()
    assert client.post(f"{base}/step", data={"to": "packed"}).status_code == 302
    assert _order(number).status == OrderStatus.PROCESSING


def test_ready_for_pick_up_is_refused_when_the_held_units_went_after_packing(client, world):
    number = _held_order(world)
    sign_in(client, "clerk.a@example.vn")
    base = f"/staff/shops/shop-a/orders/{number}"
    assert client.post(f"{base}/step", data={"to": "packed"}).status_code == 302
    inventory.adjust(world["a"].id, world["mien"].id, -11, note="broken: flood")
    db.session.commit()
    assert _order(number).needs_review
    answer = client.post(f"{base}/step", data={"to": "ready_for_pickup"})
    assert answer.status_code == 409 and "không còn trong kho" in answer.get_data(as_text=True)
    assert _order(number).shipments[0].state == ShipmentState.PACKED


def test_a_loss_that_leaves_every_hold_covered_is_neither_warned_nor_flagged(client, world):
    number = _held_order(world, quantity=3)
    sign_in(client, "clerk.a@example.vn")
    # 7 units of the short-dated and recalled lots, then 2 good ones: 9 sellable left for 3 held.
    assert _adjust(client, reason="gift", quantity="9").status_code == 302
    assert not _order(number).needs_review
    assert client.post(f"/staff/shops/shop-a/orders/{number}/step", data={"to": "packed"}).status_code == 302


def test_the_service_refuses_a_gift_of_held_units(world):
    number = _held_order(world)
    with pytest.raises(NotAllowed) as refused:
        inventory.adjust(world["a"].id, world["mien"].id, -11, note="gift", held_ok=False)
    assert number in refused.value.message
    db.session.rollback()
    assert not _order(number).needs_review
