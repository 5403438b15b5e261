"""Recalls in one step, the "to withdraw" list, and who bought a lot (issue 10)."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.cart import services as carts
from shop.errors import InvalidInput, NotAllowed, NotFound, OutOfStock
from shop.extensions import db
from shop.inventory import recalls
from shop.inventory import services as inventory
from shop.inventory.models import Lot, LotStock, StockMovement
from shop.orders import services as orders
from shop.orders.models import Order
from shop.timeutil import today_vn

DELIVERY = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                             province="Thái Nguyên")


def customer(n: int) -> orders.Customer:
    return orders.Customer(name=f"Khách {n}", phone=f"+84 912 345 6{n:02d}", email=f"khach{n}@example.vn")


@pytest.fixture
def tea(make_product, make_shop):
    """Tea at two online shops: lot TV-01 (earliest, at both) and lot TV-02 (later, centre only)."""
    product = make_product("Trà hoa vàng Bắc Kạn", stars=4, price=300_000)
    centre = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, slug="trung-tam")
    river = make_shop("Cửa hàng OCOP Sông Cầu", ships_online=True, slug="song-cau")
    today = today_vn()
    early = inventory.create_lot(product.id, "TV-01", produced_on=today - timedelta(days=60),
                                 best_before=today + timedelta(days=300))
    late = inventory.create_lot(product.id, "TV-02", produced_on=today - timedelta(days=5),
                                best_before=today + timedelta(days=500))
    inventory.receive(centre.id, product.id, 4, lot_id=early.id)
    inventory.receive(centre.id, product.id, 10, lot_id=late.id)
    inventory.receive(river.id, product.id, 3, lot_id=early.id)
    db.session.commit()
    return {"product": product, "centre": centre, "river": river, "early": early, "late": late}


def order_of(product, quantity: int, n: int, method: str = "cod", fulfilment=DELIVERY) -> Order:
    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, product.id, quantity)
    db.session.commit()
    order = orders.place_order(cart.token, customer(n), fulfilment, method)
    db.session.commit()
    return order


def test_a_recall_takes_the_lot_off_sale_everywhere_at_once(tea):
    product = tea["product"]
    assert inventory.total_availability([product.id]) == {product.id: 17}
    recalls.recall_lot(tea["early"].id, "Vi sinh vượt ngưỡng", reference="123/QĐ-ATTP")
    db.session.commit()

    assert inventory.total_availability([product.id]) == {product.id: 10}
    assert inventory.availability_matrix([product.id], [tea["river"].id]) == {(tea["river"].id, product.id): 0}
    with pytest.raises(OutOfStock):
        inventory.hold(1, tea["river"].id, product.id, 1, None)
    db.session.rollback()
    # The units are still on the shelves (on-hand is what is there) until staff take them off.
    rows = recalls.to_withdraw()
    assert [(r.shop_id, r.lot.code, r.units, r.state) for r in rows] == [
        (tea["centre"].id, "TV-01", 4, "recalled"), (tea["river"].id, "TV-01", 3, "recalled")]
    movement = recalls.withdraw(tea["river"].id, tea["early"].id)
    db.session.commit()
    assert (movement.reason, movement.delta, movement.note) == ("recall", -3, "recall: Vi sinh vượt ngưỡng")
    assert [r.shop_id for r in recalls.to_withdraw()] == [tea["centre"].id]
    history = [(what, units) for _when, what, _shop, units, _note in recalls.lot_history(tea["early"].id)]
    assert history == [("receive", 4), ("receive", 3), ("recalled", 0), ("recall", -3)]


def test_a_recall_flags_open_orders_and_lists_past_buyers(tea):
    product, early = tea["product"], tea["early"]
    delivered = order_of(product, 2, 1)  # FEFO: two units of TV-01 from the centre
    for status in ("processing", "shipped", "delivered"):
        orders.transition(delivered, status, actor="staff")
    paid = order_of(product, 3, 2, method="bank_transfer")  # sold at payment: 2 × TV-01 + 1 × TV-02
    orders.confirm_bank_transfer(paid, actor="staff")
    pickup = orders.Fulfilment(type="pickup", pickup_shop_id=tea["river"].id)
    held = order_of(product, 2, 3, method="pay_at_shop", fulfilment=pickup)  # held at Sông Cầu: TV-01 only
    other = order_of(product, 1, 4)  # held at the centre, where TV-02 covers it
    db.session.commit()
    assert [t.lot.code for t in inventory.lots_taken(paid.lines[0].id)] == ["TV-01", "TV-02"]

    result = recalls.recall_lot(early.id, "Vi sinh vượt ngưỡng", reference="123/QĐ-ATTP", actor="staff")
    db.session.commit()

    assert sorted(result.flagged) == sorted([paid.number, held.number])
    for order in (paid, held):
        db.session.refresh(order)
        assert order.needs_review and "lot TV-01" in order.review_reason
    assert "swap them" in paid.review_reason and "may not cover" in held.review_reason
    db.session.refresh(other)
    db.session.refresh(delivered)
    assert not other.needs_review and not delivered.needs_review  # delivered: a past buyer, listed below

    buyers = recalls.buyers(early.id)
    assert [(b.order_number, b.units, b.phone) for b in buyers] == [
        (delivered.number, 2, "+84912345601"), (paid.number, 2, "+84912345602")]
    table = list(csv.DictReader(io.StringIO(recalls.buyers_csv(early.id))))
    assert [(r["order"], r["customer"], r["shop"], r["units"]) for r in table] == [
        (delivered.number, "Khách 1", "trung-tam", "2"), (paid.number, "Khách 2", "trung-tam", "2")]
    # The same recall again changes nothing.
    with pytest.raises(NotAllowed):
        recalls.recall_lot(early.id, "again")


def test_a_returned_unit_of_a_recalled_lot_comes_back_recalled(tea):
    order = order_of(tea["product"], 2, 1)
    for status in ("processing", "shipped", "delivered"):
        orders.transition(order, status, actor="staff")
    recalls.recall_lot(tea["early"].id, "Nhãn sai hạn sử dụng")
    inventory.return_units(tea["centre"].id, tea["product"].id, 1, reference=order.number, note="recall")
    db.session.commit()
    assert [b.returned for b in recalls.buyers(tea["early"].id)] == [1]
    assert db.session.scalar(select(LotStock.on_hand).where(LotStock.lot_id == tea["early"].id,
                                                            LotStock.shop_id == tea["centre"].id)) == 3
    assert inventory.total_availability([tea["product"].id]) == {tea["product"].id: 10}


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bad\x00reason", None])
def test_a_recall_needs_a_reason(tea, reason):
    with pytest.raises(InvalidInput):
        recalls.recall_lot(tea["early"].id, reason)
    db.session.rollback()
    assert db.session.get(Lot, tea["early"].id).recalled_at is None


def test_recalling_an_unknown_lot_changes_nothing(tea):
    for lot_id in (999_999, "1", None, True):
        with pytest.raises(NotFound):
            recalls.recall_lot(lot_id, "Vi sinh vượt ngưỡng")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Lot.id)).where(Lot.recalled_at.is_not(None))) == 0


def test_an_expired_lot_is_on_the_to_withdraw_list_at_once(tea):
    lot = Lot(product_id=tea["product"].id, code="TV-00", note="")
    lot.set_dates(today_vn() - timedelta(days=400), today_vn() - timedelta(days=1))
    db.session.add(lot)
    db.session.flush()
    inventory.receive(tea["river"].id, tea["product"].id, 2, lot_id=lot.id)
    db.session.commit()
    rows = recalls.to_withdraw(tea["river"].id)
    assert [(r.lot.code, r.units, r.state) for r in rows] == [("TV-00", 2, "expired")]
    # A lot that may still be sold cannot be "withdrawn"; an expired one is written off.
    with pytest.raises(NotAllowed):
        recalls.withdraw(tea["river"].id, tea["early"].id)
    assert recalls.withdraw(tea["river"].id, lot.id).reason == "write_off"
    assert recalls.to_withdraw(tea["river"].id) == []


def test_short_dated_lots_are_listed_for_the_counter_on_request(tea, app):
    inventory.receive(tea["river"].id, tea["product"].id, 2, lot_code="TV-03", produced_on=today_vn(),
                      best_before=today_vn() + timedelta(days=5))
    db.session.commit()
    assert recalls.to_withdraw(tea["river"].id) == []
    rows = recalls.to_withdraw(tea["river"].id, short_dated=True)
    assert [(r.lot.code, r.state) for r in rows] == [("TV-03", "short_dated")]


# ---- the command line ---------------------------------------------------------------------------


def test_recall_from_the_command_line(tea, runner, tmp_path):
    order = order_of(tea["product"], 2, 1)
    for status in ("processing", "shipped", "delivered"):
        orders.transition(order, status, actor="staff")
    db.session.commit()
    slug = tea["product"].slug

    result = runner.invoke(args=["lot", "recall", slug, "tv-01", "--reason", "Vi sinh vượt ngưỡng",
                                 "--reference", "123/QĐ-ATTP"])
    assert result.exit_code == 0, result.output
    assert "recalled" in result.output and "1 order(s) received units" in result.output
    again = runner.invoke(args=["lot", "recall", slug, "TV-01", "--reason", "again"])
    assert again.exit_code == 1 and "already recalled" in again.output
    unknown = runner.invoke(args=["lot", "recall", slug, "NO-LOT", "--reason", "x"])
    assert unknown.exit_code == 1 and "No lot" in unknown.output

    out = tmp_path / "buyers.csv"
    result = runner.invoke(args=["lot", "buyers", slug, "TV-01", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["order"], r["phone"], r["units"]) for r in rows] == [(order.number, "+84912345601", "2")]

    listed = runner.invoke(args=["lot", "to-withdraw", "--shop", "trung-tam"])
    assert "2 × Trà hoa vàng Bắc Kạn, lot TV-01" in listed.output and "recalled" in listed.output
    taken = runner.invoke(args=["lot", "withdraw", "trung-tam", slug, "TV-01"])
    assert taken.exit_code == 0 and "2 unit(s) of lot TV-01 taken off" in taken.output
    assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.reason == "recall")) == 1


def test_lots_from_the_command_line(tea, runner):
    slug, today = tea["product"].slug, today_vn()
    produced, best = today - timedelta(days=20), today + timedelta(days=345)
    made = runner.invoke(args=["lot", "create", slug, "--code", "tv-09", "--produced", f"{produced:%d/%m/%Y}",
                               "--best-before", best.isoformat()])
    assert made.exit_code == 0, made.output
    assert "Lot TV-09" in made.output and f"HSD {best:%d/%m/%Y}" in made.output
    bad = runner.invoke(args=["lot", "create", slug, "--code", "TV-10", "--produced", produced.isoformat(),
                              "--best-before", (produced - timedelta(days=1)).isoformat()])
    assert bad.exit_code == 1 and "before the production date" in bad.output
    wrong = runner.invoke(args=["lot", "create", slug, "--best-before", "31/02/2027"])
    assert wrong.exit_code == 2 and "is not a date" in wrong.output
    got = runner.invoke(args=["lot", "receive", "song-cau", slug, "TV-09", "6"])
    assert got.exit_code == 0, got.output
    listed = runner.invoke(args=["lot", "list", slug])
    assert f"TV-09: NSX {produced:%d/%m/%Y}, HSD {best:%d/%m/%Y}, sellable; song-cau 6" in listed.output
