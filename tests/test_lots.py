"""Lots and best-before dates: stock per lot, FEFO when units leave, expiry without a job (issue 10)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.cart import services as carts
from shop.errors import InvalidInput, NotAllowed, NotFound, OutOfStock
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot, LotStock, Reservation, StockLevel, StockMovement, expiry_instant
from shop.orders import services as orders
from shop.timeutil import VN_TZ, today_vn, utcnow

CUSTOMER = orders.Customer(name="Nguyễn Thị Lan", phone="+84 912 345 678", email="lan@example.vn")
DELIVERY = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                             province="Thái Nguyên")


@pytest.fixture
def margin(app):
    """The online margin, set for the test and put back after it."""
    before = app.config["LOT_ONLINE_MARGIN_DAYS"]
    app.config["LOT_ONLINE_MARGIN_DAYS"] = 30
    yield 30
    app.config["LOT_ONLINE_MARGIN_DAYS"] = before


@pytest.fixture
def honey(make_product, make_shop, margin):
    """Honey at one online shop in two lots: 3 jars best before in 100 days, 10 in 300 days."""
    product = make_product("Mật ong rừng nguyên chất", stars=3, price=250_000)
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    today = today_vn()
    late = inventory.receive(shop.id, product.id, 10, lot_code="MO-2611", produced_on=today - timedelta(days=5),
                             best_before=today + timedelta(days=300)).lot
    early = inventory.receive(shop.id, product.id, 3, lot_code="MO-2608", produced_on=today - timedelta(days=90),
                              best_before=today + timedelta(days=100)).lot
    db.session.commit()
    return {"product": product, "shop": shop, "early": early, "late": late}


def order_of(product, quantity: int, method: str = "cod"):
    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, product.id, quantity)
    db.session.commit()
    order = orders.place_order(cart.token, CUSTOMER, DELIVERY, method)
    db.session.commit()
    return order


def lot_units(shop, lot) -> int:
    return db.session.scalar(select(LotStock.on_hand).where(LotStock.shop_id == shop.id, LotStock.lot_id == lot.id))


def available(product) -> int:
    return inventory.total_availability([product.id]).get(product.id, 0)


# ---- FEFO ---------------------------------------------------------------------------------------


def test_a_sale_takes_the_first_expiring_lot_first_and_the_order_line_knows_its_lots(honey):
    order = order_of(honey["product"], 5)
    for status in ("processing", "shipped"):
        orders.transition(order, status, actor="staff")
    db.session.commit()

    taken = inventory.lots_taken(order.lines[0].id)
    assert [(t.lot.code, t.quantity, t.shop_id) for t in taken] == [
        ("MO-2608", 3, honey["shop"].id), ("MO-2611", 2, honey["shop"].id)]
    assert lot_units(honey["shop"], honey["early"]) == 0 and lot_units(honey["shop"], honey["late"]) == 8
    sales = db.session.execute(select(StockMovement.lot_id, StockMovement.delta, StockMovement.reservation_id)
                               .where(StockMovement.reason == "sale").order_by(StockMovement.id)).all()
    reservation = db.session.scalar(select(Reservation))
    assert sales == [(honey["early"].id, -3, reservation.id), (honey["late"].id, -2, reservation.id)]


def test_units_put_back_return_to_the_lots_they_came_from(honey):
    order = order_of(honey["product"], 5)
    reservation = db.session.scalar(select(Reservation))
    inventory.commit_reservation(reservation, reference=order.number)
    inventory.release_reservation(reservation, reference=order.number, note="refunded before hand-over")
    db.session.commit()

    assert lot_units(honey["shop"], honey["early"]) == 3 and lot_units(honey["shop"], honey["late"]) == 10
    assert inventory.lots_taken(order.lines[0].id) == []


def test_returned_goods_go_back_to_their_lot(honey):
    order = order_of(honey["product"], 4)
    for status in ("processing", "shipped", "delivered"):
        orders.transition(order, status, actor="staff")
    inventory.return_units(honey["shop"].id, honey["product"].id, 2, reference=order.number, note="sent back")
    db.session.commit()

    # 3 from the early lot and 1 from the late one left; the first 2 sold come back to the early lot.
    assert lot_units(honey["shop"], honey["early"]) == 2 and lot_units(honey["shop"], honey["late"]) == 9
    taken = {t.lot.code: (t.quantity, t.returned) for t in inventory.lots_taken(order.lines[0].id)}
    assert taken == {"MO-2608": (3, 2), "MO-2611": (1, 0)}


def test_a_lot_without_best_before_leaves_first(honey):
    undated = inventory.receive(honey["shop"].id, honey["product"].id, 2, note="found in the back room").lot
    assert undated.best_before is None and undated.code.startswith("L")
    order = order_of(honey["product"], 3)
    inventory.commit_reservation(db.session.scalar(select(Reservation)), reference=order.number)
    db.session.commit()
    assert [(t.lot.id, t.quantity) for t in inventory.lots_taken(order.lines[0].id)] == [
        (undated.id, 2), (honey["early"].id, 1)]


# ---- time: expired and short-dated lots ---------------------------------------------------------


def test_an_expired_lot_stops_counting_at_the_end_of_its_best_before_day(honey, margin):
    product, early = honey["product"], honey["early"]
    cutoff = early.expires_at - timedelta(days=margin)  # midnight in Vietnam, margin days before expiry
    assert cutoff.astimezone(VN_TZ).time().isoformat() == "00:00:00"
    assert cutoff.astimezone(VN_TZ).date() == early.best_before - timedelta(days=margin - 1)
    just_before, at = cutoff - timedelta(seconds=1), cutoff
    assert inventory.total_availability([product.id], now=just_before) == {product.id: 13}
    assert inventory.total_availability([product.id], now=at) == {product.id: 10}
    # Every fast read (per row, in-stock filter) agrees with the slow one at both instants.
    from shop.catalog.listing import read_model_mismatches
    assert read_model_mismatches(db.session, now=just_before) == []
    assert read_model_mismatches(db.session, now=at) == []
    assert inventory.next_lot_cutoffs([product.id], now=just_before) == {product.id: cutoff}
    assert inventory.next_lot_cutoff(just_before) == cutoff
    assert inventory.next_lot_cutoff(at) == honey["late"].expires_at - timedelta(days=margin)
    # The counter's rule (margin 0) still sells the lot until its best-before day ends.
    assert inventory.lot_state(early, at) == "short_dated"
    assert inventory.lot_state(early, early.expires_at) == "expired"
    assert inventory.lot_state(early, early.expires_at - timedelta(seconds=1), margin_days=0) == "sellable"


def test_an_expired_lot_is_not_available_online_at_once(make_product, make_shop, margin):
    product, shop = make_product("Bánh gio Pắc San", stars=3), make_shop(ships_online=True)
    # Received last week, best before yesterday: no job has touched it since.
    lot = Lot(product_id=product.id, code="BG-01", note="")
    lot.set_dates(today_vn() - timedelta(days=8), today_vn() - timedelta(days=1))
    db.session.add(lot)
    db.session.flush()
    inventory.receive(shop.id, product.id, 6, lot_id=lot.id)
    db.session.commit()

    assert available(product) == 0
    cart = carts.get_or_create_cart(None)
    with pytest.raises(OutOfStock):  # the cart refuses it
        carts.set_quantity(cart, product.id, 1)
    db.session.rollback()
    with pytest.raises(OutOfStock):  # and so would the hold itself
        inventory.hold(1, shop.id, product.id, 1, None)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Reservation.id))) == 0
    assert db.session.scalar(select(StockLevel.on_hand)) == 6  # still on the shelf, to withdraw


def test_a_short_dated_lot_is_kept_for_the_counter(make_product, make_shop, margin):
    product, shop = make_product("Bánh gio Pắc San", stars=3), make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, 4, lot_code="BG-02", produced_on=today_vn(),
                      best_before=today_vn() + timedelta(days=margin - 1))
    fresh = inventory.receive(shop.id, product.id, 2, lot_code="BG-03", produced_on=today_vn(),
                              best_before=today_vn() + timedelta(days=margin)).lot
    db.session.commit()
    assert available(product) == 2  # only the lot with a full margin left
    order = order_of(product, 2)
    inventory.commit_reservation(db.session.scalar(select(Reservation)), reference=order.number)
    assert [t.lot.id for t in inventory.lots_taken(order.lines[0].id)] == [fresh.id]


def test_a_lot_that_expires_under_a_hold_is_not_sold(honey):
    order = order_of(honey["product"], 12)  # needs both lots
    db.session.execute(Lot.__table__.update().where(Lot.id == honey["early"].id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))  # time passed
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(OutOfStock):
        orders.transition(order, "processing", actor="staff")
        orders.transition(order, "shipped", actor="staff")
    db.session.rollback()
    assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.reason == "sale")) == 0
    assert lot_units(honey["shop"], honey["early"]) == 3


# ---- the ledger ---------------------------------------------------------------------------------


def test_the_ledger_sums_per_lot_and_per_product(honey, make_shop):
    shop, product, early, late = honey["shop"], honey["product"], honey["early"], honey["late"]
    other = make_shop("Cửa hàng OCOP Na Rì", ships_online=False)
    inventory.receive(other.id, product.id, 4, lot_id=late.id)  # the same lot's share for another shop
    inventory.adjust(shop.id, product.id, -1, note="jar broken")  # FEFO: the early lot
    inventory.count(shop.id, product.id, 9, lot_id=late.id, note="monthly count")
    inventory.write_off(shop.id, early.id, 1, note="label torn")
    order = order_of(product, 3)
    for status in ("processing", "shipped"):
        orders.transition(order, status, actor="staff")
    db.session.commit()

    def ledger(**where):
        stmt = select(func.coalesce(func.sum(StockMovement.delta), 0))
        return db.session.scalar(stmt.where(*[getattr(StockMovement, k) == v for k, v in where.items()]))

    # early: 3 - 1 adjusted - 1 written off - 1 sold; late at the shop: 10 counted to 9, 2 sold.
    assert lot_units(shop, early) == 0 == ledger(shop_id=shop.id, lot_id=early.id)
    assert lot_units(shop, late) == 7 == ledger(shop_id=shop.id, lot_id=late.id)
    assert lot_units(other, late) == 4 == ledger(shop_id=other.id, lot_id=late.id)
    level = db.session.scalar(select(StockLevel.on_hand).where(StockLevel.shop_id == shop.id))
    assert level == 7 == ledger(shop_id=shop.id, product_id=product.id)
    assert ledger(lot_id=late.id) == 11 and ledger(product_id=product.id) == 11
    assert inventory.ledger_mismatches() == [] and inventory.lot_ledger_mismatches() == []
    reasons = db.session.scalars(select(StockMovement.reason).where(StockMovement.lot_id == early.id)
                                 .order_by(StockMovement.id)).all()
    assert reasons == ["receive", "adjust", "write_off", "sale"]


# ---- bad input ----------------------------------------------------------------------------------


def _nothing_written():
    return (db.session.scalar(select(func.count(Lot.id))), db.session.scalar(select(func.count(StockMovement.id))))


def test_best_before_before_production_is_refused(honey):
    before = _nothing_written()
    with pytest.raises(InvalidInput, match="before the production date"):
        inventory.receive(honey["shop"].id, honey["product"].id, 5, lot_code="MO-X",
                          produced_on=today_vn(), best_before=today_vn() - timedelta(days=1))
    with pytest.raises(InvalidInput, match="future"):
        inventory.create_lot(honey["product"].id, "MO-Y", produced_on=today_vn() + timedelta(days=2))
    with pytest.raises(InvalidInput, match="already passed"):
        inventory.create_lot(honey["product"].id, "MO-Z", best_before=today_vn() - timedelta(days=1))
    db.session.rollback()
    assert _nothing_written() == before


@pytest.mark.parametrize("code", ["MO-2608", "mo-2608", "  MO-2608 "])
def test_a_lot_code_already_used_for_the_product_is_refused(honey, make_product, code):
    before = _nothing_written()
    with pytest.raises(InvalidInput, match="already used"):
        inventory.receive(honey["shop"].id, honey["product"].id, 5, lot_code=code)
    db.session.rollback()
    assert _nothing_written() == before
    # Another product may use the same code.
    other = make_product("Trà hoa vàng")
    assert inventory.create_lot(other.id, code).code == "MO-2608"


@pytest.mark.parametrize("code", ["", "   ", "x" * 41, "MO\n1", 12])
def test_malformed_lot_codes_are_refused(honey, code):
    with pytest.raises(InvalidInput):
        inventory.create_lot(honey["product"].id, code)


def test_an_unknown_lot_is_refused(honey, make_product):
    before = _nothing_written()
    with pytest.raises(NotFound):
        inventory.receive(honey["shop"].id, honey["product"].id, 1, lot_id=999_999)
    other = make_product("Trà hoa vàng")
    with pytest.raises(NotFound):  # a lot of another product
        inventory.receive(honey["shop"].id, other.id, 1, lot_id=honey["early"].id)
    with pytest.raises(NotFound):
        inventory.find_lot(honey["product"].id, "NO-SUCH-LOT")
    with pytest.raises(NotFound):
        inventory.write_off(honey["shop"].id, 999_999)
    with pytest.raises(NotFound):
        inventory.create_lot(999_999, "A1")
    db.session.rollback()
    assert _nothing_written()[1] == before[1]


def test_a_recalled_lot_cannot_be_received(honey):
    honey["early"].recalled_at = utcnow()
    db.session.flush()
    with pytest.raises(NotAllowed):
        inventory.receive(honey["shop"].id, honey["product"].id, 1, lot_id=honey["early"].id)


def test_expiry_instant_is_midnight_in_vietnam_after_the_best_before_day():
    from datetime import date

    instant = expiry_instant(date(2026, 12, 31))
    assert instant.isoformat() == "2026-12-31T17:00:00+00:00"  # 01/01/2027 00:00 in Hanoi


# ---- the migration ------------------------------------------------------------------------------


def test_the_lots_migration_turns_existing_stock_into_one_undated_lot_per_shop_and_product(tmp_path):
    """A shop upgrading with stock and a shipped order keeps every unit, and the order its lots."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from config import TestingConfig
    from shop import create_app
    from shop.catalog.models import Certificate, Product, ProductGroup
    from shop.producers.models import Producer
    from shop.shops.models import Shop

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lots.db'}",
                     UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        product = Product(slug="mien", name="Miến", price=100_000, unit="túi",
                          producer=Producer(slug="htx", name="HTX", kind="cooperative"),
                          group=ProductGroup(code="I", slug="thuc-pham", name="Thực phẩm"))
        issued = today_vn() - timedelta(days=10)
        db.session.add(Certificate(product=product, stars=4, decision_number="1/QĐ", issuing_body="UBND",
                                   level="province", issued_on=issued, expires_on=issued + timedelta(days=900)))
        shops = [Shop(slug=f"s{i}", name=f"Cửa hàng {i}", address="Bắc Kạn", ships_online=True) for i in (1, 2)]
        db.session.add_all(shops)
        db.session.flush()
        inventory.receive(shops[0].id, product.id, 7)
        inventory.receive(shops[0].id, product.id, 5)
        inventory.receive(shops[1].id, product.id, 4)
        db.session.commit()
        order = order_of(product, 2)
        orders.transition(order, "processing", actor="staff")
        orders.transition(order, "shipped", actor="staff")
        db.session.commit()
        number, line_id, shop_ids, product_id = order.number, order.lines[0].id, [s.id for s in shops], product.id
        db.session.remove()

        downgrade(revision="0009_order_shape")
        upgrade()

        lots = db.session.execute(select(Lot.code, Lot.best_before, LotStock.shop_id, LotStock.on_hand)
                                  .join(LotStock, LotStock.lot_id == Lot.id).order_by(LotStock.shop_id)).all()
        assert lots == [(f"OPENING-{shop_ids[0]}", None, shop_ids[0], 10), (f"OPENING-{shop_ids[1]}", None, shop_ids[1], 4)]
        assert inventory.ledger_mismatches() == [] and inventory.lot_ledger_mismatches() == []
        taken = inventory.lots_taken(line_id)
        assert [(t.lot.code, t.quantity) for t in taken] == [(f"OPENING-{shop_ids[0]}", 2)]
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM stock_movement WHERE reference = :n "
                                        "AND reservation_id IS NOT NULL"), {"n": number}).scalar_one() == 1
        # After the upgrade, units still leave and come back through lots.
        inventory.return_units(shop_ids[0], product_id, 1, reference=number)
        db.session.commit()
        assert inventory.lot_ledger_mismatches() == []
        db.session.remove()
        db.engine.dispose()


def test_the_demo_has_lots_with_realistic_dates(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    now = utcnow()
    states: dict[str, set] = {}
    for lot in db.session.scalars(select(Lot).join(LotStock, LotStock.lot_id == Lot.id).where(LotStock.on_hand > 0)):
        states.setdefault(lot.product.slug, set()).add(inventory.lot_state(lot, now))
    assert "expired" in states["bun-kho-huyen-nga"]  # one expired lot, still on shelves: to withdraw
    assert "short_dated" in states["mien-dong-tai-hoan"]  # expiring soon: counter only
    assert states["banh-gio-pac-san"] == {"short_dated"}  # fresh goods never online
    assert "recalled" in states["tinh-nghe-bac-kan"]  # one recalled lot, to withdraw everywhere
    assert states["cam-ngot-thanh-mai"] == {"sellable"}
    crafts = db.session.scalars(select(Lot).join(Lot.product).where(Lot.product.has(slug="khan-tho-cam-tay")))
    assert [lot.best_before for lot in crafts] == [None]
    # Online products still have units to sell after the old lots are set aside.
    from shop.catalog.models import Product
    mien = db.session.scalar(select(Product).where(Product.slug == "mien-dong-tai-hoan"))
    assert available(mien) > 20
    assert inventory.lot_ledger_mismatches() == []


def test_the_product_page_shows_the_best_before_date_of_what_the_buyer_would_receive(client, honey, make_shop):
    product = honey["product"]
    page = client.get(f"/products/{product.slug}?lang=en").get_data(as_text=True)
    early = honey["early"].best_before.strftime("%d/%m/%Y")
    assert f"Best before {early} for the units you would receive." in page
    # Three jars of the early lot held by an order: the next buyer gets the later lot.
    order_of(product, 3)
    late = honey["late"].best_before.strftime("%d/%m/%Y")
    page = client.get(f"/products/{product.slug}?lang=en").get_data(as_text=True)
    assert f"Best before {late} for the units you would receive." in page
    # Another shop with an earlier lot: a range.
    other = make_shop("Cửa hàng OCOP Na Rì", ships_online=True)
    inventory.receive(other.id, product.id, 2, lot_code="MO-2605", produced_on=today_vn() - timedelta(days=200),
                      best_before=today_vn() + timedelta(days=60))
    db.session.commit()
    soon = (today_vn() + timedelta(days=60)).strftime("%d/%m/%Y")
    page = client.get(f"/products/{product.slug}?lang=vi").get_data(as_text=True)
    assert f"Hạn sử dụng từ {soon} đến {late}, tùy cửa hàng." in page
