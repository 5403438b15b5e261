"""Transfers between shops from the staff workspace (issue 13): sent (units leave, in transit),
received (units enter, a difference recorded) or cancelled before (units come back); every step a
ledger row naming the clerk; only the two shops' staff see it; bad input changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.errors import InvalidInput, NotAllowed, OutOfStock
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.enums import TransferState
from shop.inventory.models import LotStock, StockLevel, StockMovement, Transfer
from shop.orders import services as orders
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
    a = make_shop("Cửa hàng OCOP A", slug="shop-a", ships_online=True)
    b = make_shop("Cửa hàng OCOP B", slug="shop-b", ships_online=False)
    make_shop("Cửa hàng OCOP C", slug="shop-c", ships_online=False)
    mien = make_product("Miến dong Tài Hoan", slug="mien-dong")
    inventory.receive(a.id, mien.id, 4, lot_code="SOON", best_before=today_vn() + timedelta(days=60))
    inventory.receive(a.id, mien.id, 10, lot_code="LATER", best_before=today_vn() + timedelta(days=300))
    db.session.commit()
    users = {k: make_user("staff", email=f"{k}@example.vn", shops=[f"shop-{k[-1]}"]) for k in ("clerk_a", "clerk_b",
                                                                                                "clerk_c")}
    return {"a": a, "b": b, "mien": mien, "users": users}


def _on_hand(shop, product) -> int:
    db.session.expire_all()
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.shop_id == shop.id,
                                                              StockLevel.product_id == product.id)) or 0


def _send(client, **extra):
    data = {"to_shop": "", "lines-0-product": "mien-dong", "lines-0-quantity": "6", **extra}
    return client.post("/staff/shops/shop-a/transfers/new", data=data)


def test_sent_then_received_with_a_difference(client, world):
    a, b, mien = world["a"], world["b"], world["mien"]
    sign_in(client, "clerk_a@example.vn")
    assert _send(client, to_shop=str(b.id)).status_code == 302
    transfer = db.session.scalars(select(Transfer)).one()
    assert transfer.state == TransferState.SENT
    assert [(line.lot.code, line.quantity_sent) for line in transfer.lines] == [("SOON", 4), ("LATER", 2)]  # FEFO
    assert _on_hand(a, mien) == 8 and _on_hand(b, mien) == 0  # in transit: in nobody's stock
    out = db.session.scalars(select(StockMovement).where(StockMovement.reason == "transfer_out")).all()
    assert {(m.reference, m.user_id) for m in out} == {(f"T-{transfer.id}", world["users"]["clerk_a"].id)}
    assert client.post(f"/staff/shops/shop-a/transfers/{transfer.id}/receive", data={}).status_code == 404  # not the receiver
    client.post("/account/sign-out")

    sign_in(client, "clerk_b@example.vn")
    page = client.get(f"/staff/shops/shop-b/transfers/{transfer.id}").get_data(as_text=True)
    assert "SOON" in page and f'name="line-{transfer.lines[0].id}"' in page
    soon, later = transfer.lines
    for bad in ("5", "-1", "bốn", ""):
        answer = client.post(f"/staff/shops/shop-b/transfers/{transfer.id}/receive",
                             data={f"line-{soon.id}": bad, f"line-{later.id}": "2"})
        assert answer.status_code == 400, bad
    assert _on_hand(b, mien) == 0
    assert client.post(f"/staff/shops/shop-b/transfers/{transfer.id}/receive",
                       data={f"line-{soon.id}": "3", f"line-{later.id}": "2"}).status_code == 302
    db.session.expire_all()
    transfer = db.session.get(Transfer, transfer.id)
    assert transfer.state == TransferState.RECEIVED and [line.quantity_received for line in transfer.lines] == [3, 2]
    assert _on_hand(b, mien) == 5 and _on_hand(a, mien) == 8
    assert db.session.scalar(select(LotStock.on_hand).where(LotStock.shop_id == b.id, LotStock.lot_id == soon.lot_id)) == 3
    assert "(-1)" in client.get(f"/staff/shops/shop-b/transfers/{transfer.id}").get_data(as_text=True)
    again = client.post(f"/staff/shops/shop-b/transfers/{transfer.id}/receive",
                        data={f"line-{soon.id}": "1", f"line-{later.id}": "2"})
    assert again.status_code == 409 and _on_hand(b, mien) == 5


def test_cancelled_before_it_arrives_the_units_come_back(client, world):
    a, b, mien = world["a"], world["b"], world["mien"]
    sign_in(client, "clerk_a@example.vn")
    _send(client, to_shop=str(b.id))
    transfer = db.session.scalars(select(Transfer)).one()
    assert client.post(f"/staff/shops/shop-a/transfers/{transfer.id}/cancel", data={"reason": " "}).status_code == 400
    assert client.post(f"/staff/shops/shop-a/transfers/{transfer.id}/cancel",
                       data={"reason": "xe hỏng"}).status_code == 302
    assert _on_hand(a, mien) == 14
    db.session.expire_all()
    assert db.session.get(Transfer, transfer.id).state == TransferState.CANCELLED
    client.post("/account/sign-out")
    sign_in(client, "clerk_b@example.vn")
    assert client.post(f"/staff/shops/shop-b/transfers/{transfer.id}/receive", data={}).status_code == 409
    assert _on_hand(b, mien) == 0


def test_bad_transfers_are_form_errors_and_change_nothing(client, world):
    sign_in(client, "clerk_a@example.vn")
    a, b = world["a"], world["b"]
    for extra in ({"to_shop": str(a.id)}, {"to_shop": ""}, {"to_shop": "abc"},
                  {"to_shop": str(b.id), "lines-0-quantity": "-2"}, {"to_shop": str(b.id), "lines-0-quantity": "hai"},
                  {"to_shop": str(b.id), "lines-0-product": "khong-co"},
                  {"to_shop": str(b.id), "lines-0-lot_code": "NOPE"},
                  {"to_shop": str(b.id), "lines-0-quantity": "15"},
                  {"to_shop": str(b.id), "lines-0-product": "", "lines-0-quantity": ""}):
        assert _send(client, **extra).status_code == 400, extra
    assert db.session.scalar(select(func.count(Transfer.id))) == 0 and _on_hand(a, world["mien"]) == 14


def test_units_held_for_orders_stay(world):
    a, b, mien = world["a"], world["b"], world["mien"]
    orders.place_order(cart_with((mien, 10)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    with pytest.raises(OutOfStock):
        inventory.send_transfer(a.id, b.id, [(mien.id, None, 5)])
    db.session.rollback()
    transfer = inventory.send_transfer(a.id, b.id, [(mien.id, None, 4)])
    db.session.commit()
    assert transfer.lines[0].quantity_sent == 4 and _on_hand(a, mien) == 10
    with pytest.raises(InvalidInput):
        inventory.send_transfer(a.id, a.id, [(mien.id, None, 1)])
    with pytest.raises(NotAllowed):
        inventory.cancel_transfer(inventory.receive_transfer(transfer.id).id, note="late")
    db.session.commit()


def test_only_the_two_shops_see_a_transfer(client, world):
    transfer = inventory.send_transfer(world["a"].id, world["b"].id, [(world["mien"].id, None, 1)])
    db.session.commit()
    sign_in(client, "clerk_c@example.vn")
    for url in (f"/staff/shops/shop-a/transfers/{transfer.id}", f"/staff/shops/shop-b/transfers/{transfer.id}",
                f"/staff/shops/shop-c/transfers/{transfer.id}", "/staff/shops/shop-a/transfers"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/staff/shops/shop-c/transfers/{transfer.id}/receive", data={}).status_code == 404
    assert transfer.reference not in client.get("/staff/shops/shop-c/transfers").get_data(as_text=True)
