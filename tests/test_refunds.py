"""Every payment method has a way back (issue 8 item 7): refunds and returned goods.

Bank transfers and cash are sent back by staff and recorded here; card refunds go through Stripe
(tests/test_payments.py). After every scenario the stock ledger must agree with the levels.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.cart import services as carts
from shop.errors import InvalidInput, NotAllowed
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import StockLevel, StockMovement
from shop.orders import returns
from shop.orders import services as orders
from shop.orders.models import Order
from shop.payments import services as payments
from shop.payments.models import Payment, Refund

CUSTOMER = orders.Customer(name="Nguyễn Thị Lan", phone="0912 345 678", email="lan@example.vn")
DELIVERY = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                             province="Thái Nguyên")


@pytest.fixture
def stocked(make_product, make_shop):
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong-tai-hoan")
    nep = make_product("Gạo Nếp Tài", stars=4, price=200_000, slug="gao-nep-tai")
    online = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    second = make_shop("Cửa hàng OCOP Chợ Mới", ships_online=True)
    inventory.receive(online.id, mien.id, 5)
    inventory.receive(second.id, mien.id, 3)
    inventory.receive(online.id, nep.id, 3)
    db.session.commit()
    return {"mien": mien, "nep": nep, "online": online, "second": second}


@pytest.fixture(autouse=True)
def english():
    """Messages are checked against their English source texts (Vietnamese is the default)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def ledger_agrees():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


def place(stocked, method, *lines, fulfilment=DELIVERY) -> Order:
    cart = carts.get_or_create_cart(None)
    for name, quantity in lines:
        carts.set_quantity(cart, stocked[name].id, quantity)
    db.session.commit()
    order = orders.place_order(cart.token, CUSTOMER, fulfilment, method)
    db.session.commit()
    return order


def reload(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def on_hand(shop, product) -> int:
    return db.session.scalar(select(StockLevel.on_hand).where(
        StockLevel.shop_id == shop.id, StockLevel.product_id == product.id))


def movements(order: Order) -> list[tuple[str, int, int]]:
    return [tuple(r) for r in db.session.execute(
        select(StockMovement.reason, StockMovement.shop_id, StockMovement.delta)
        .where(StockMovement.reference == order.number).order_by(StockMovement.id))]


def move(order: Order, *statuses: str) -> Order:
    for status in statuses:
        orders.transition(order, status, actor="staff")
    db.session.commit()
    return reload(order)


# ---- bank transfer --------------------------------------------------------------------------


def test_a_paid_bank_transfer_order_is_refunded_in_parts_with_its_bank_references(stocked, runner):
    order = place(stocked, "bank_transfer", ("nep", 2))  # 400.000 + 30.000 shipping
    assert order.total == 430_000
    assert runner.invoke(args=["order", "confirm-transfer", order.number]).exit_code == 0
    assert on_hand(stocked["online"], stocked["nep"]) == 1

    # It used to be "refund it" from one command and "no card payment" from the other.
    refused = runner.invoke(args=["order", "set-status", order.number, "cancelled"])
    assert refused.exit_code != 0 and "flask refund" in refused.output
    no_reference = runner.invoke(args=["refund", order.number, "100.000"])
    assert no_reference.exit_code != 0 and "--reference" in no_reference.output
    ambiguous = runner.invoke(args=["refund", order.number, "1,000.00", "--reference", "FT1"])
    assert ambiguous.exit_code != 0 and "separators" in ambiguous.output
    assert db.session.scalars(select(Refund)).all() == []

    result = runner.invoke(args=["refund", order.number, "100.000", "--reference", "FT26334001",
                                 "--note", "one bag torn", "--by", "lan@shop"])
    assert result.exit_code == 0, result.output
    order = reload(order)
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.provider, payment.amount_received, payment.amount_refunded, payment.status) == \
        ("bank_transfer", 430_000, 100_000, "partially_refunded")
    [row] = payment.refunds
    assert (row.amount, row.provider_reference, row.actor, row.reason, row.status) == \
        (100_000, "FT26334001", "lan@shop", "one bag torn", "succeeded")
    assert order.status == "paid" and "refund of 100.000" in order.events[-1].note
    assert "FT26334001" in order.events[-1].note and "330.000" in order.events[-1].note

    reused = runner.invoke(args=["refund", order.number, "5000", "--reference", "FT26334001"])
    assert reused.exit_code != 0 and "already recorded" in reused.output
    too_much = runner.invoke(args=["refund", order.number, "330.001", "--reference", "FT26334002"])
    assert too_much.exit_code != 0 and "330.000" in too_much.output

    # The rest, before hand-over: the order is refunded and its units go back on the shelf.
    result = runner.invoke(args=["refund", order.number, "--reference", "FT26334002"])
    assert result.exit_code == 0, result.output
    order = reload(order)
    assert order.status == "refunded" and "refunded in full" in order.events[-1].note
    assert on_hand(stocked["online"], stocked["nep"]) == 3
    assert [m[0] for m in movements(order)] == ["sale", "release"]
    nothing_left = runner.invoke(args=["refund", order.number, "--reference", "FT26334003"])
    assert nothing_left.exit_code != 0 and "already been refunded" in nothing_left.output


def test_a_bank_transfer_order_being_prepared_is_refunded_and_its_stock_released(stocked):
    order = place(stocked, "bank_transfer", ("mien", 2))
    orders.confirm_bank_transfer(order, actor="staff")
    order = move(order, "processing")
    row = payments.refund(order, actor="staff", reference="FT-77")
    assert row.amount == order.total
    order = reload(order)
    assert order.status == "refunded"
    assert on_hand(stocked["online"], stocked["mien"]) == 5


def test_an_unconfirmed_transfer_cannot_be_refunded_but_can_be_cancelled(stocked):
    order = place(stocked, "bank_transfer", ("mien", 1))
    with pytest.raises(NotAllowed, match="No money has been received"):
        payments.refund(order, actor="staff", reference="FT-1")
    order = move(reload(order), "cancelled")
    assert order.status == "cancelled" and db.session.scalars(select(Payment)).all() == []


@pytest.mark.parametrize("reference", ["FT\n1", "x" * 101, "<script>", "", "   "])
def test_bank_references_are_checked(stocked, reference):
    order = place(stocked, "bank_transfer", ("mien", 1))
    orders.confirm_bank_transfer(order, actor="staff")
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        payments.refund(order, 1000, actor="staff", reference=reference)
    assert error.value.details["field"] == "reference"
    assert db.session.scalars(select(Refund)).all() == []


@pytest.mark.parametrize("amount", [0, -1, True, 10**12, 1.5])
def test_refund_amounts_outside_what_was_paid_are_refused(stocked, amount):
    order = place(stocked, "bank_transfer", ("mien", 1))
    orders.confirm_bank_transfer(order, actor="staff")
    db.session.commit()
    with pytest.raises(InvalidInput):
        payments.refund(order, amount, actor="staff", reference="FT-9")
    assert db.session.scalars(select(Refund)).all() == []


# ---- cash on delivery and pay at the shop ---------------------------------------------------


def test_cod_money_and_goods_come_back_separately_to_the_shops_that_sold_them(stocked, runner):
    order = place(stocked, "cod", ("mien", 7), ("nep", 1))  # mien split: 5 online + 2 second
    with pytest.raises(NotAllowed, match="No money"):
        payments.refund(order, actor="staff")
    db.session.rollback()
    refused = runner.invoke(args=["order", "return-goods", order.number, "--all"])
    assert refused.exit_code != 0 and "have not left the shop" in refused.output
    order = move(order, "processing", "shipped", "delivered")
    assert on_hand(stocked["online"], stocked["mien"]) == 0 and on_hand(stocked["second"], stocked["mien"]) == 1

    # Cash handed back for two bags, then the bags themselves.
    result = runner.invoke(args=["refund", order.number, "220000đ", "--note", "two bags damp"])
    assert result.exit_code == 0, result.output
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.provider, payment.amount_refunded, payment.status) == ("cash", 220_000, "partially_refunded")
    assert reload(order).status == "delivered"

    result = runner.invoke(args=["order", "return-goods", order.number, "mien-dong-tai-hoan=6",
                                 "--note", "two bags damp"])
    assert result.exit_code == 0, result.output
    # 6 units back: 5 to the first shop that sold them, 1 to the second.
    assert on_hand(stocked["online"], stocked["mien"]) == 5 and on_hand(stocked["second"], stocked["mien"]) == 2
    over = runner.invoke(args=["order", "return-goods", order.number, "mien-dong-tai-hoan=2"])
    assert over.exit_code != 0 and "from 1 to 1" in over.output
    unknown = runner.invoke(args=["order", "return-goods", order.number, "tra-shan=1"])
    assert unknown.exit_code != 0 and "not a product" in unknown.output

    result = runner.invoke(args=["order", "return-goods", order.number, "--all"])
    assert result.exit_code == 0, result.output
    assert on_hand(stocked["second"], stocked["mien"]) == 3 and on_hand(stocked["online"], stocked["nep"]) == 3
    again = runner.invoke(args=["order", "return-goods", order.number, "--all"])
    assert again.exit_code != 0 and "Nothing" in again.output
    assert sorted(m[0] for m in movements(order)) == ["return"] * 4 + ["sale"] * 3
    assert sum(m[2] for m in movements(order)) == 0

    result = runner.invoke(args=["refund", order.number])
    assert result.exit_code == 0, result.output
    order = reload(order)
    assert order.status == "refunded" and "in cash" in order.events[-1].note


def test_a_cod_parcel_refused_at_the_door_is_cancelled_and_its_goods_returned(stocked, runner):
    order = place(stocked, "cod", ("nep", 2))
    order = move(order, "processing", "shipped")
    assert runner.invoke(args=["order", "set-status", order.number, "cancelled",
                               "--note", "refused at the door"]).exit_code == 0
    # On the road: cancelling does not put units on the shelf they are not on.
    assert on_hand(stocked["online"], stocked["nep"]) == 1
    with pytest.raises(NotAllowed, match="No money"):
        payments.refund(reload(order), actor="staff")
    db.session.rollback()
    result = runner.invoke(args=["order", "return-goods", order.number, "--all"])
    assert result.exit_code == 0, result.output
    assert on_hand(stocked["online"], stocked["nep"]) == 3
    assert [m[0] for m in movements(order)] == ["sale", "return"]


def test_the_customer_sees_refunds_and_returns_in_their_language(stocked, client):
    order = place(stocked, "cod", ("nep", 1))
    order = move(order, "processing", "shipped", "delivered")
    payments.refund(order, actor="staff")
    returns.return_goods(reload(order), None, actor="staff", note="kho ẩm")
    db.session.commit()
    client.set_cookie("lang", "vi")
    page = client.get(f"/orders/{order.number}?token={order.access_token}").get_data(as_text=True)
    assert "hàng trả lại đã về đến cửa hàng" in page and "goods returned" not in page
    assert "Đã hoàn tiền" in page or "Hoàn tiền" in page


def test_pay_at_shop_cash_is_refunded_once_collected(stocked, make_shop):
    shop = stocked["online"]
    order = place(stocked, "pay_at_shop", ("mien", 2),
                  fulfilment=orders.Fulfilment(type="pickup", pickup_shop_id=shop.id))
    order = move(order, "processing", "ready_for_pickup")
    with pytest.raises(NotAllowed):
        payments.refund(order, actor="staff")
    db.session.rollback()
    order = move(reload(order), "collected")
    payments.refund(order, 220_000, actor="staff", reference="PT-0042")
    done = returns.return_goods(reload(order), None, actor="staff", note="wrong product")
    db.session.commit()
    assert [(r.shop_id, r.quantity) for r in done] == [(shop.id, 2)]
    order = reload(order)
    assert order.status == "refunded" and on_hand(shop, stocked["mien"]) == 5
    assert db.session.scalars(select(Refund.provider_reference)).one() == "PT-0042"


def test_returned_quantities_are_checked(stocked):
    order = place(stocked, "cod", ("mien", 2))
    order = move(order, "processing", "shipped", "delivered")
    line = order.lines[0]
    for bad in ({line.id: 0}, {line.id: 3}, {line.id: -1}, {line.id: True}, {line.id + 999: 1}, {}):
        with pytest.raises(InvalidInput):
            returns.return_goods(order, bad, actor="staff")
        db.session.rollback()
    with pytest.raises(InvalidInput):
        returns.return_goods(order, None, actor="staff", note="x" * 501)
    db.session.rollback()
    assert [m[0] for m in movements(order)] == ["sale"]


def test_a_paid_card_order_is_not_refunded_with_a_bank_reference(stocked):
    order = place(stocked, "cod", ("mien", 1))
    order.payment_method = "card"  # as if paid by card: the card path refuses a typed reference
    order.status = "paid"
    db.session.commit()
    with pytest.raises(InvalidInput, match="Stripe"):
        payments.refund(order, actor="staff", reference="FT-1")


# ---- races (PostgreSQL: real row locks) ------------------------------------------------------


def _race(app, jobs: list) -> list:
    """Run each job (a function of no arguments) in its own thread and app context, all at once."""
    import threading

    from config import TestingConfig
    from shop import create_app

    racing = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": len(jobs) + 2, "max_overflow": 0})
    barrier = threading.Barrier(len(jobs), timeout=30)
    results: list = [None] * len(jobs)

    def run(i: int, job) -> None:
        with racing.app_context():
            barrier.wait()
            try:
                results[i] = job()
            except Exception as exc:  # noqa: BLE001 - the test looks at what each one got
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with racing.app_context():
        db.engine.dispose()
    return results


@pytest.mark.postgres
def test_simultaneous_refunds_never_pay_back_more_than_was_paid(app, stocked):
    order = place(stocked, "bank_transfer", ("nep", 2))  # 430.000
    orders.confirm_bank_transfer(order, actor="staff")
    db.session.commit()
    number = order.number

    def refund(i: int):
        return lambda: payments.refund(orders.get_by_number(number), 200_000, actor=f"staff {i}",
                                       reference=f"FT-RACE-{i}").amount

    results = _race(app, [refund(i) for i in range(6)])
    assert sorted(r for r in results if isinstance(r, int)) == [200_000, 200_000], results
    assert all(isinstance(r, (int, InvalidInput)) for r in results), results
    db.session.expire_all()
    payment = db.session.scalars(select(Payment)).one()
    assert payment.amount_refunded == 400_000 and len(payment.refunds) == 2


@pytest.mark.postgres
def test_simultaneous_returns_never_put_back_more_than_was_sold(app, stocked):
    order = place(stocked, "cod", ("nep", 2))
    order = move(order, "processing", "shipped", "delivered")
    number, line_id = order.number, order.lines[0].id

    def give_back():
        done = returns.return_goods(orders.get_by_number(number), {line_id: 1}, actor="staff")
        db.session.commit()
        return sum(r.quantity for r in done)

    results = _race(app, [give_back] * 6)
    assert sorted(r for r in results if isinstance(r, int)) == [1, 1], results
    assert all(isinstance(r, (int, InvalidInput, NotAllowed)) for r in results), results
    db.session.expire_all()
    assert on_hand(stocked["online"], stocked["nep"]) == 3
    assert [m[0] for m in movements(order)] == ["sale", "return", "return"]
