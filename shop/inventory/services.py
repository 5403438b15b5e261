"""The inventory module: every change of stock goes through here and leaves a ledger row.

Stock is kept per shop and lot (``LotStock``) and totalled per shop and product (``StockLevel``);
every ``StockMovement`` names its lot, so both are running totals of the ledger. A change takes
the shop × product row first (one conditional UPDATE, ``on_hand + delta >= 0``, which is also its
row lock on PostgreSQL), then the lot's row the same way, so two transactions can never both take
the last unit and never lock the two rows in opposite orders. Functions here flush but do not
commit: the caller owns the transaction, so a ledger row and its level changes always land (or
vanish) together.

Lots (rule source: issue 10, DESIGN.md "Stock rules", DOMAIN.md "Lots, dates and food safety"):
- A lot is *sellable online* at an instant when it is not recalled and its best-before day, in
  Vietnam's time, is at least ``LOT_ONLINE_MARGIN_DAYS`` days after today (``sellable_lot_clause``;
  a lot is good through its best-before day). A lot without a best-before date (crafts, and the
  stock that existed before lots were tracked) is always sellable unless recalled. The cut-off is
  stored as an instant (``Lot.expires_at``) and compared with now in SQL, so an expiry takes
  effect at once, with no job, like a hold's expiry.
- Available = units of sellable lots − live holds, per shop, at least 0.
- Units leave first-expiring-first (FEFO, ``fefo_order``): lots without a best-before date first
  (they are the oldest stock: see the README, "Lots and best-before dates"), then by best-before,
  then by arrival.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import and_, case, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shop.errors import InvalidInput, NotAllowed, NotFound, OutOfStock
from shop.extensions import db
from shop.inventory.models import (MOVEMENT_REASONS, Lot, LotState, LotStock, MovementReason, Reservation,
                                   ReservationState, StockLevel, StockMovement, TransferState)
from shop.inventory.rules import LOW_STOCK_THRESHOLD
from shop.timeutil import VN_TZ, today_vn, utcnow

MAX_QUANTITY = 100_000
LOT_CODE_MAX = 40
DEFAULT_MARGIN_DAYS = 30


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("Quantity must be a whole number.")
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise InvalidInput(f"Quantity must be between 1 and {MAX_QUANTITY}.")
    return quantity


# ---- lots: the rules of time ------------------------------------------------------------------


def online_margin_days() -> int:
    """Days of shelf life a lot must still have to be sold online (``LOT_ONLINE_MARGIN_DAYS``)."""
    if has_app_context():
        return int(current_app.config.get("LOT_ONLINE_MARGIN_DAYS", DEFAULT_MARGIN_DAYS))
    return DEFAULT_MARGIN_DAYS


def _cutoff(now: datetime | None, margin_days: int | None) -> datetime:
    margin = online_margin_days() if margin_days is None else margin_days
    return (now or utcnow()) + timedelta(days=margin)


def sellable_lot_clause(now: datetime | None = None, *, margin_days: int | None = None):
    """SQL on ``Lot``: not recalled, and not expiring within the margin at ``now``.

    ``expires_at`` is midnight (Vietnam) after the best-before day, and Vietnam keeps no summer
    time, so ``expires_at > now + margin days`` ⇔ today (Vietnam) + margin ≤ best-before.
    ``margin_days=0`` is the counter's rule: anything not yet expired.
    """
    cutoff = _cutoff(now, margin_days)
    return and_(Lot.recalled_at.is_(None), or_(Lot.expires_at.is_(None), Lot.expires_at > cutoff))


def lot_state(lot: Lot, now: datetime | None = None, *, margin_days: int | None = None) -> LotState:
    """``recalled``, ``expired`` (past its best-before day), ``short_dated`` (within the online
    margin: counter only, with a notice) or ``sellable`` — the Python twin of ``sellable_lot_clause``."""
    now = now or utcnow()
    if lot.recalled_at is not None:
        return LotState.RECALLED
    if lot.expires_at is None:
        return LotState.SELLABLE
    if lot.expires_at <= now:
        return LotState.EXPIRED
    if lot.expires_at <= _cutoff(now, margin_days):
        return LotState.SHORT_DATED
    return LotState.SELLABLE


def fefo_order():
    """ORDER BY terms for lots, first to leave first: no best-before date, then the earliest
    best-before, then the earliest received (id)."""
    return (Lot.expires_at.is_not(None), Lot.expires_at, Lot.id)


def fefo_key(lot: Lot) -> tuple:
    """The Python twin of ``fefo_order``."""
    return (lot.expires_at is not None, lot.expires_at or datetime.min.replace(tzinfo=VN_TZ), lot.id)


# ---- lots: creating and finding ---------------------------------------------------------------


def normalise_lot_code(code) -> str:
    """A lot code as stored: NFC, spaces collapsed, upper case, 1–40 printable characters.

    Raises ``InvalidInput`` otherwise. Upper case because codes are read off packages and typed
    back by hand: ``l01/26`` and ``L01/26`` are the same lot.
    """
    if not isinstance(code, str):
        raise InvalidInput("A lot code must be text.", field="code")
    if any(not ch.isprintable() for ch in code):  # tabs, new lines, control characters
        raise InvalidInput(f"A lot code is 1 to {LOT_CODE_MAX} printable characters.", field="code")
    code = " ".join(unicodedata.normalize("NFC", code).split()).upper()
    if not code or len(code) > LOT_CODE_MAX:
        raise InvalidInput(f"A lot code is 1 to {LOT_CODE_MAX} printable characters.", field="code")
    return code


def _check_date(value, field: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{field} must be a date.", field=field)
    return value


def check_lot_dates(produced_on, best_before) -> tuple[date | None, date | None]:
    """Validate a lot's dates; ``InvalidInput`` names the problem. Today is Vietnam's."""
    produced_on = _check_date(produced_on, "produced_on")
    best_before = _check_date(best_before, "best_before")
    if produced_on and produced_on > today_vn():
        raise InvalidInput("The production date is in the future.", field="produced_on")
    if produced_on and best_before and best_before < produced_on:
        raise InvalidInput("The best-before date is before the production date.", field="best_before")
    return produced_on, best_before


def _generated_code(product_id: int) -> str:
    """``L<yymmdd>-<n>``: today's date in Vietnam and the next free number for the product."""
    prefix = f"L{today_vn():%y%m%d}-"
    taken = db.session.scalars(select(Lot.code).where(Lot.product_id == product_id,
                                                      Lot.code.like(prefix + "%"))).all()
    numbers = [int(c[len(prefix):]) for c in taken if c[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def create_lot(product_id: int, code: str | None = None, *, produced_on: date | None = None,
               best_before: date | None = None, note: str = "") -> Lot:
    """A new lot of a product; ``code`` is the producer's lot code, or one is generated.

    Raises ``NotFound`` (no such product), ``InvalidInput`` (a code already used for this product,
    a malformed code, best-before before production, a production date in the future, a
    best-before date already past: such goods cannot be received for sale).
    """
    from shop.catalog.models import Product

    if isinstance(product_id, bool) or not isinstance(product_id, int) or db.session.get(Product, product_id) is None:
        raise NotFound("No such product.")
    produced_on, best_before = check_lot_dates(produced_on, best_before)
    if best_before is not None and best_before < today_vn():
        raise InvalidInput("The best-before date has already passed.", field="best_before")
    if not isinstance(note, str) or len(note) > 2000:
        raise InvalidInput("The note is too long.", field="note")
    code = normalise_lot_code(code) if code is not None else _generated_code(product_id)
    if db.session.scalar(select(Lot.id).where(Lot.product_id == product_id, Lot.code == code)) is not None:
        raise InvalidInput(f"Lot code {code} is already used for this product.", field="code")
    lot = Lot(product_id=product_id, code=code, note=note.strip())
    lot.set_dates(produced_on, best_before)
    try:
        with db.session.begin_nested():
            db.session.add(lot)
    except IntegrityError:  # the same code created at the same moment by someone else
        raise InvalidInput(f"Lot code {code} is already used for this product.", field="code") from None
    return lot


def find_lot(product_id: int, code: str) -> Lot:
    """The lot of a product by its code (compared as ``normalise_lot_code`` stores it); ``NotFound``."""
    lot = db.session.scalar(select(Lot).where(Lot.product_id == product_id, Lot.code == normalise_lot_code(code)))
    if lot is None:
        raise NotFound(f"No lot {code!r} for this product.")
    return lot


def _lot_of(product_id: int, lot_id) -> Lot:
    if isinstance(lot_id, bool) or not isinstance(lot_id, int):
        raise InvalidInput("A lot is given by its number.", field="lot")
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.product_id != product_id:
        raise NotFound("No such lot for this product.")
    return lot


# ---- the ledger -------------------------------------------------------------------------------


def _insert(model):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _insert_if_missing(model, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL): a row another transaction created
    at the same moment is simply kept, with no savepoint round trips."""
    db.session.execute(_insert(model).values(**values).on_conflict_do_nothing())


def _add(model, key: tuple[str, ...], delta: int, **values) -> None:
    """``on_hand += delta`` (delta > 0) on the row with these key values, created if missing, in
    one statement (INSERT … ON CONFLICT DO UPDATE; the row lock on PostgreSQL). A copy of the row
    already loaded in the session is expired, so it is re-read."""
    stmt = _insert(model).values(on_hand=delta, **values)
    changes = {"on_hand": model.on_hand + delta}
    if "updated_at" in values:
        changes["updated_at"] = values["updated_at"]
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=changes)
    for row_id in db.session.execute(stmt.returning(model.id)).scalars().all():
        loaded = db.session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            db.session.expire(loaded, ["on_hand"])


def get_or_create_level(shop_id: int, product_id: int) -> StockLevel:
    """The stock level row for a shop and product, created empty if it does not exist yet."""
    stmt = select(StockLevel).where(StockLevel.shop_id == shop_id, StockLevel.product_id == product_id)
    level = db.session.scalars(stmt).first()
    if level is None:
        _insert_if_missing(StockLevel, shop_id=shop_id, product_id=product_id, on_hand=0,
                           low_stock_threshold=LOW_STOCK_THRESHOLD, updated_at=utcnow())
        level = db.session.scalars(stmt).one()
    return level


def _get_or_create_lot_stock(shop_id: int, lot: Lot) -> LotStock:
    stmt = select(LotStock).where(LotStock.shop_id == shop_id, LotStock.lot_id == lot.id)
    row = db.session.scalars(stmt).first()
    if row is None:
        _insert_if_missing(LotStock, shop_id=shop_id, lot_id=lot.id, product_id=lot.product_id, on_hand=0)
        row = db.session.scalars(stmt).one()
    return row


def _apply(model, where, delta: int) -> bool:
    """``on_hand += delta`` on the one row matching ``where`` unless it would go below zero, in one
    conditional UPDATE (the row lock on PostgreSQL); False when no row was changed (missing, or
    not enough). A copy of the row already loaded in the session is expired, so it is re-read."""
    ids = db.session.execute(
        update(model).where(*where, model.on_hand + delta >= 0).values(on_hand=model.on_hand + delta)
        .returning(model.id).execution_options(synchronize_session=False)
    ).scalars().all()
    for row_id in ids:
        loaded = db.session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            db.session.expire(loaded, ["on_hand"])
    return len(ids) == 1


def record_movement(
    shop_id: int,
    product_id: int,
    delta: int,
    reason: str,
    *,
    lot_id: int,
    reference: str | None = None,
    user_id: int | None = None,
    note: str = "",
    reservation_id: int | None = None,
) -> StockMovement:
    """Apply ``delta`` units of lot ``lot_id`` to a shop's stock and write the ledger row, atomically.

    The shop × product total is changed first (its row lock orders concurrent writers), then the
    lot's row. Raises ``OutOfStock`` when either would go below zero (nothing is written),
    ``InvalidInput`` for an unknown reason or a zero or non-integer delta, ``NotFound`` for a lot
    of another product.
    """
    if reason not in MOVEMENT_REASONS:
        raise InvalidInput(f"Unknown stock movement reason: {reason}")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput("A stock movement needs a non-zero whole number.")
    lot = _lot_of(product_id, lot_id)
    level_where = (StockLevel.shop_id == shop_id, StockLevel.product_id == product_id)
    if delta > 0:
        _add(StockLevel, ("shop_id", "product_id"), delta, shop_id=shop_id, product_id=product_id,
             low_stock_threshold=LOW_STOCK_THRESHOLD, updated_at=utcnow())
        _add(LotStock, ("shop_id", "lot_id"), delta, shop_id=shop_id, lot_id=lot.id, product_id=lot.product_id)
    else:
        if not _apply(StockLevel, level_where, delta):
            raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)
        if not _apply(LotStock, (LotStock.shop_id == shop_id, LotStock.lot_id == lot.id), delta):
            # Undo the total under the lock we still hold, so the caller may go on (e.g. short_ok).
            _apply(StockLevel, level_where, -delta)
            raise OutOfStock("Not enough stock in this lot.", shop_id=shop_id, product_id=product_id,
                             lot_id=lot.id)
    movement = StockMovement(
        shop_id=shop_id, product_id=product_id, lot_id=lot.id, delta=delta, reason=reason,
        reference=reference, user_id=user_id, note=note, reservation_id=reservation_id,
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def _lots_at(shop_id: int, product_id: int, *, sellable_at: datetime | None = None,
             margin_days: int | None = None) -> list[tuple[Lot, int]]:
    """(lot, units) with units on hand at a shop, FEFO order; only sellable lots when ``sellable_at``."""
    stmt = (
        select(Lot, LotStock.on_hand)
        .join(LotStock, LotStock.lot_id == Lot.id)
        .where(LotStock.shop_id == shop_id, LotStock.product_id == product_id, LotStock.on_hand > 0)
        .order_by(*fefo_order())
    )
    if sellable_at is not None:
        stmt = stmt.where(sellable_lot_clause(sellable_at, margin_days=margin_days))
    return [(lot, int(units)) for lot, units in db.session.execute(stmt)]


def _newest_lot(shop_id: int, product_id: int) -> Lot:
    """Where units of an unknown lot go (found units, a count above the books): the lot this shop
    received last, or a new lot without dates when the shop never had one."""
    lot = db.session.scalars(
        select(Lot).join(LotStock, LotStock.lot_id == Lot.id)
        .where(LotStock.shop_id == shop_id, LotStock.product_id == product_id)
        .order_by(Lot.id.desc()).limit(1)
    ).first()
    return lot or create_lot(product_id, note="units found without a lot")


def _take_fefo(shop_id: int, product_id: int, units: int, reason: str, **kw) -> list[StockMovement]:
    """Take ``units`` from a shop's lots, first-expiring first (every lot, sellable or not)."""
    movements = []
    for lot, on_hand in _lots_at(shop_id, product_id):
        take = min(on_hand, units)
        movements.append(record_movement(shop_id, product_id, -take, reason, lot_id=lot.id, **kw))
        units -= take
        if units == 0:
            return movements
    raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)


def _change(shop_id: int, product_id: int, delta: int, reason: str, lot_id: int | None, **kw) -> StockMovement:
    """One change of stock in a named lot, or (no lot) taken FEFO / added to the newest lot.

    Returns the first ledger row written (one per lot touched)."""
    if lot_id is not None:
        return record_movement(shop_id, product_id, delta, reason, lot_id=lot_id, **kw)
    if delta > 0:
        return record_movement(shop_id, product_id, delta, reason, lot_id=_newest_lot(shop_id, product_id).id, **kw)
    _lock_level(shop_id, product_id)
    return _take_fefo(shop_id, product_id, -delta, reason, **kw)[0]


def receive(shop_id: int, product_id: int, quantity: int, *, user_id: int | None = None,
            note: str = "", reference: str | None = None, lot_id: int | None = None,
            lot_code: str | None = None, produced_on: date | None = None,
            best_before: date | None = None) -> StockMovement:
    """Goods arrive at a shop: on-hand of one lot goes up by ``quantity`` (ledger ``receive``).

    ``lot_id`` adds to an existing lot (another delivery of it, or its share for another shop);
    otherwise a new lot is created with ``lot_code`` (or a generated code) and the dates (see
    ``create_lot`` for its errors). A recalled lot cannot be received (``NotAllowed``).
    """
    quantity = _check_quantity(quantity)
    if lot_id is None:
        lot = create_lot(product_id, lot_code, produced_on=produced_on, best_before=best_before)
    else:
        lot = _lot_of(product_id, lot_id)
        if lot.recalled_at is not None:
            raise NotAllowed(f"Lot {lot.code} was recalled: it cannot be received.")
    return record_movement(shop_id, product_id, quantity, MovementReason.RECEIVE, lot_id=lot.id,
                           reference=reference, user_id=user_id, note=note)


def adjust(shop_id: int, product_id: int, delta: int, *, user_id: int | None = None,
           note: str = "", lot_id: int | None = None, held_ok: bool = True,
           actor: str = "stock") -> StockMovement:
    """A correction (breakage, gift, found units); the note says why.

    Without ``lot_id`` a loss is taken first-expiring first and found units join the lot the
    shop received last. Returns the first ledger row written (one per lot touched).

    Units held for orders (issue 13, ``shop.inventory.holds``): a loss that leaves live holds
    uncovered is refused with ``NotAllowed`` when ``held_ok`` is False (a gift or a sample);
    otherwise (breakage: the goods are gone whatever we write) it is recorded and every open order
    whose hold can no longer be met is flagged for staff (history note by ``actor``).
    """
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_QUANTITY:
        raise InvalidInput("An adjustment must be a non-zero whole number.")
    uncovered = []
    if delta < 0:
        from shop.inventory import holds

        _lock_level(shop_id, product_id)
        uncovered = holds.uncovered_by_loss(shop_id, product_id, -delta, lot_id)
        if uncovered and not held_ok:
            raise NotAllowed(holds.held_message(uncovered), orders=[h.number for h in uncovered])
    movement = _change(shop_id, product_id, delta, MovementReason.ADJUST, lot_id, user_id=user_id, note=note)
    if uncovered:
        holds.flag_uncovered(shop_id, product_id, note, actor=actor)
    return movement


def count(shop_id: int, product_id: int, counted: int, *, user_id: int | None = None,
          note: str = "", lot_id: int | None = None, reference: str | None = None) -> StockMovement | None:
    """A stock count: set on-hand (of one lot, or of the product) to what was counted, recording
    the difference in the ledger (``count``; ``reference`` names the count, e.g. ``C-20261201-0930``).
    Nothing is written when the count agrees."""
    if isinstance(counted, bool) or not isinstance(counted, int) or not 0 <= counted <= MAX_QUANTITY:
        raise InvalidInput("A count must be a whole number of at least zero.")
    level = _lock_level(shop_id, product_id)
    if lot_id is not None:
        lot = _lot_of(product_id, lot_id)
        current = db.session.scalar(select(LotStock.on_hand).where(
            LotStock.shop_id == shop_id, LotStock.lot_id == lot.id)) or 0
    else:
        current = level.on_hand if level else 0
    if counted == current:
        return None
    return _change(shop_id, product_id, counted - current, MovementReason.COUNT, lot_id, user_id=user_id, note=note,
                   reference=reference)


def write_off(shop_id: int, lot_id: int, quantity: int | None = None, *, user_id: int | None = None,
              note: str = "", reason: str = MovementReason.WRITE_OFF,
              reference: str | None = None) -> StockMovement | None:
    """Take units of one lot off a shop's shelf for good (expired, recalled, damaged): ledger
    ``write_off`` (or ``recall`` for a recalled lot sent back). ``quantity=None``: every unit the
    shop has. ``reference`` (an order number for goods returned unsellable) goes on the row.
    Returns the ledger row, or None when the shop has none of the lot.
    Raises ``NotFound`` (no such lot), ``InvalidInput``, ``OutOfStock`` (more than the shop has)."""
    if reason not in (MovementReason.WRITE_OFF, MovementReason.RECALL):
        raise InvalidInput("A write-off is a write_off or a recall.")
    lot = db.session.get(Lot, lot_id) if isinstance(lot_id, int) and not isinstance(lot_id, bool) else None
    if lot is None:
        raise NotFound("No such lot.")
    _lock_level(shop_id, lot.product_id)
    on_hand = db.session.scalar(select(LotStock.on_hand).where(LotStock.shop_id == shop_id,
                                                               LotStock.lot_id == lot.id)) or 0
    if quantity is None:
        if on_hand == 0:
            return None
        quantity = on_hand
    quantity = _check_quantity(quantity)
    return record_movement(shop_id, lot.product_id, -quantity, reason, lot_id=lot.id, user_id=user_id, note=note,
                           reference=reference)


# ---- availability -----------------------------------------------------------------------------


def active_hold_clause(now: datetime | None = None):
    """Reservations that still count: held, and not past their expiry."""
    now = now or utcnow()
    return and_(Reservation.state == ReservationState.HELD,
                or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))


def _live_held(now: datetime | None = None):
    """Correlated scalar: units held by live holds at the enclosing ``StockLevel``'s shop and product.

    An index lookup (reservation by shop, product, state) per stock row: only the rows asked about
    are touched, never every hold.
    """
    return (
        select(func.coalesce(func.sum(Reservation.quantity), 0))
        .where(Reservation.shop_id == StockLevel.shop_id, Reservation.product_id == StockLevel.product_id,
               active_hold_clause(now))
        .correlate(StockLevel)
        .scalar_subquery()
    )


def _sellable_on_hand(now: datetime | None = None):
    """Correlated scalar: units of sellable lots at the enclosing ``StockLevel``'s shop and product
    (an index lookup on lot stock by shop and product, joined to its lots)."""
    return (
        select(func.coalesce(func.sum(LotStock.on_hand), 0))
        .select_from(LotStock)
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(LotStock.shop_id == StockLevel.shop_id, LotStock.product_id == StockLevel.product_id,
               sellable_lot_clause(now))
        .correlate(StockLevel)
        .scalar_subquery()
    )


def shop_available_expr(now: datetime | None = None):
    """SQL: units of the enclosing ``StockLevel`` that can still be promised online (units of
    sellable lots − live holds).

    Can be negative (units counted away or expired under a hold); every total clamps each shop at zero.
    """
    return _sellable_on_hand(now) - _live_held(now)


def in_stock_clause(product_id, now: datetime | None = None):
    """SQL: at least one active shop has a unit of ``product_id`` (a column or value) to promise.

    The same rule as ``availability_matrix`` (a product's total is the sum over active shops of
    max(0, sellable − live holds), so it is positive exactly when one shop's share is).
    """
    from shop.shops.models import Shop

    return (
        select(StockLevel.id)
        .join(Shop, and_(Shop.id == StockLevel.shop_id, Shop.active.is_(True)))
        .where(StockLevel.product_id == product_id, shop_available_expr(now) > 0)
        .exists()
    )


def available_units_expr(product_id, now: datetime | None = None):
    """SQL scalar: units of ``product_id`` (a column, e.g. ``Product.id``) available over all active
    shops — the sum of max(0, sellable − live holds) per shop, as ``total_availability`` computes it.

    Correlated to the row it is selected with, so a page of 24 products reads 24 products' stock.
    """
    from shop.shops.models import Shop

    per_shop = shop_available_expr(now)
    return (
        select(func.coalesce(func.sum(case((per_shop > 0, per_shop), else_=0)), 0))
        .select_from(StockLevel)
        .join(Shop, and_(Shop.id == StockLevel.shop_id, Shop.active.is_(True)))
        .where(StockLevel.product_id == product_id)
        .scalar_subquery()
    )


def slow_availability(now: datetime | None = None) -> dict[int, int]:
    """{product_id: available} for every product, grouping every live hold and every sellable lot:
    the reference that the fast, per-row functions above are tested against (never used by a page)."""
    from shop.shops.models import Shop

    held = (
        select(Reservation.shop_id, Reservation.product_id, func.sum(Reservation.quantity).label("held"))
        .where(active_hold_clause(now))
        .group_by(Reservation.shop_id, Reservation.product_id)
        .subquery("held")
    )
    sellable = (
        select(LotStock.shop_id, LotStock.product_id, func.sum(LotStock.on_hand).label("units"))
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(sellable_lot_clause(now))
        .group_by(LotStock.shop_id, LotStock.product_id)
        .subquery("sellable")
    )
    rows = db.session.execute(
        select(StockLevel.product_id, func.coalesce(sellable.c.units, 0) - func.coalesce(held.c.held, 0))
        .join(Shop, and_(Shop.id == StockLevel.shop_id, Shop.active.is_(True)))
        .outerjoin(held, and_(held.c.shop_id == StockLevel.shop_id, held.c.product_id == StockLevel.product_id))
        .outerjoin(sellable, and_(sellable.c.shop_id == StockLevel.shop_id,
                                  sellable.c.product_id == StockLevel.product_id))
    )
    totals: dict[int, int] = {}
    for product_id, available in rows:
        totals[product_id] = totals.get(product_id, 0) + max(0, int(available))
    return totals


def availability_matrix(product_ids, shop_ids=None, now: datetime | None = None) -> dict[tuple[int, int], int]:
    """{(shop_id, product_id): available} at active shops for the given products, in one query.

    Available = units of sellable lots − live holds, at least 0. Touches only these products' rows.
    """
    from shop.shops.models import Shop

    product_ids = list(product_ids)
    if not product_ids:
        return {}
    stmt = (
        select(StockLevel.shop_id, StockLevel.product_id, shop_available_expr(now))
        .join(Shop, and_(Shop.id == StockLevel.shop_id, Shop.active.is_(True)))
        .where(StockLevel.product_id.in_(product_ids))
    )
    if shop_ids is not None:
        stmt = stmt.where(StockLevel.shop_id.in_(list(shop_ids)))
    return {(s, p): max(0, int(a)) for s, p, a in db.session.execute(stmt)}


def total_availability(product_ids, now: datetime | None = None) -> dict[int, int]:
    """{product_id: units available over all active shops} (products with none are left out)."""
    totals: dict[int, int] = {}
    for (_shop, product_id), units in availability_matrix(product_ids, now=now).items():
        totals[product_id] = totals.get(product_id, 0) + units
    return totals


def next_lot_cutoffs(product_ids, now: datetime | None = None) -> dict[int, datetime]:
    """{product_id: the next instant a lot with stock stops being sellable online} (products with no
    such lot are left out): for read models that store availability, the instant to recompute at,
    as ``Product.stars_until`` is for certificates."""
    product_ids = list(product_ids)
    if not product_ids:
        return {}
    now = now or utcnow()
    margin = timedelta(days=online_margin_days())
    rows = db.session.execute(
        select(LotStock.product_id, func.min(Lot.expires_at))
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(LotStock.product_id.in_(product_ids), LotStock.on_hand > 0, sellable_lot_clause(now))
        .group_by(LotStock.product_id)
    )
    return {pid: at - margin for pid, at in rows if at is not None}


def next_lots(product_id: int, shop_ids=None, now: datetime | None = None) -> dict[int, Lot]:
    """{shop_id: the lot the next buyer would receive from that shop} for one product.

    Per shop, the sellable lots in FEFO order, less the units live holds will take first (a hold
    takes the first-expiring units when it is sold); shops with nothing left to promise are left
    out. What the product page shows as "best before" (two queries, this product's rows only).
    """
    now = now or utcnow()
    stmt = (
        select(LotStock.shop_id, Lot, LotStock.on_hand)
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(LotStock.product_id == product_id, LotStock.on_hand > 0, sellable_lot_clause(now))
        .order_by(LotStock.shop_id, *fefo_order())
    )
    held_stmt = (select(Reservation.shop_id, func.sum(Reservation.quantity))
                 .where(Reservation.product_id == product_id, active_hold_clause(now))
                 .group_by(Reservation.shop_id))
    if shop_ids is not None:
        stmt = stmt.where(LotStock.shop_id.in_(list(shop_ids)))
        held_stmt = held_stmt.where(Reservation.shop_id.in_(list(shop_ids)))
    held = {shop_id: int(units) for shop_id, units in db.session.execute(held_stmt)}
    found: dict[int, Lot] = {}
    for shop_id, lot, on_hand in db.session.execute(stmt):
        if shop_id in found:
            continue
        if on_hand > held.get(shop_id, 0):
            found[shop_id] = lot
        else:
            held[shop_id] = held.get(shop_id, 0) - on_hand
    return found


def best_before_range(lots) -> tuple[date, date] | None:
    """(earliest, latest) best-before date of these lots, or None when none has one."""
    days = sorted(lot.best_before for lot in lots if lot.best_before is not None)
    return (days[0], days[-1]) if days else None


def next_lot_cutoff(now: datetime | None = None) -> datetime | None:
    """The next instant any lot stops being sellable online (its best-before day minus the margin
    begins), over every lot that is not recalled; None when no lot ever will. One index read
    (``ix_lot_expires_at``): for caches keyed by "the next instant something changes by the clock"."""
    now = now or utcnow()
    margin = timedelta(days=online_margin_days())
    first = db.session.scalar(select(func.min(Lot.expires_at))
                              .where(Lot.expires_at > now + margin, Lot.recalled_at.is_(None)))
    return first - margin if first is not None else None


def _lock_level(shop_id: int, product_id: int) -> StockLevel | None:
    """Lock a stock level row for the rest of the transaction.

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks; a no-op UPDATE takes its
    database write lock instead, which serialises writers just the same.
    """
    where = (StockLevel.shop_id == shop_id, StockLevel.product_id == product_id)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(StockLevel).where(*where).values(on_hand=StockLevel.on_hand)
                           .execution_options(synchronize_session=False))
    level = db.session.scalars(select(StockLevel).where(*where).with_for_update()).first()
    if level is not None:
        db.session.refresh(level)
    return level


def _sellable_units(shop_id: int, product_id: int, now: datetime | None = None) -> int:
    """Units of sellable lots at a shop (read under the caller's lock on the shop × product row)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(LotStock.on_hand), 0))
        .select_from(LotStock)
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(LotStock.shop_id == shop_id, LotStock.product_id == product_id, sellable_lot_clause(now))
    ))


def _held_by_others(shop_id: int, product_id: int, exclude_id: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
        Reservation.shop_id == shop_id, Reservation.product_id == product_id, active_hold_clause())
    if exclude_id is not None:
        stmt = stmt.where(Reservation.id != exclude_id)
    return int(db.session.scalar(stmt))


# ---- holds, sales, releases, returns ----------------------------------------------------------


def hold(order_line_id: int, shop_id: int, product_id: int, quantity: int,
         expires_at: datetime | None) -> Reservation:
    """Reserve units at a shop for an order line, or raise ``OutOfStock``.

    The check (units of sellable lots − live holds) and the hold happen under the stock row's
    lock, so concurrent checkouts for the last units queue up here and only as many succeed as
    there are units. Callers holding several rows must take them in a fixed order (see
    ``hold_many``) so that two orders never deadlock. Holds are per product, not per lot: the lots
    are chosen when the units leave (``commit_reservation``).
    """
    quantity = _check_quantity(quantity)
    _lock_level(shop_id, product_id)
    if _sellable_units(shop_id, product_id) - _held_by_others(shop_id, product_id) < quantity:
        raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)
    reservation = Reservation(order_line_id=order_line_id, shop_id=shop_id, product_id=product_id,
                              quantity=quantity, expires_at=expires_at, state=ReservationState.HELD)
    db.session.add(reservation)
    db.session.flush()
    return reservation


def hold_many(requests: list[tuple[int, int, int, int]], expires_at: datetime | None) -> list[Reservation]:
    """Hold (order_line_id, shop_id, product_id, quantity) requests, locking rows in a fixed order."""
    ordered = sorted(requests, key=lambda r: (r[1], r[2], r[0]))
    return [hold(line_id, shop_id, product_id, qty, expires_at)
            for line_id, shop_id, product_id, qty in ordered]


def hold_counts(reservation: Reservation, now: datetime | None = None) -> bool:
    """Whether a reservation still holds its units (the Python twin of ``active_hold_clause``)."""
    now = now or utcnow()
    return reservation.state == ReservationState.HELD and (reservation.expires_at is None
                                                           or reservation.expires_at > now)


def renew_holds(reservations: list[Reservation], expires_at: datetime | None) -> None:
    """Make held reservations last until ``expires_at`` (``None``: until hand-over or cancel).

    A hold that still counts is simply extended. A hold whose expiry has passed no longer counts,
    so its units may have been promised to someone else: it is held again only if they are still
    there, checked under the stock row's lock like a new hold; otherwise ``OutOfStock`` is raised
    (with ``shop_id``/``product_id``) and nothing is changed for that reservation. Rows are locked
    in the same fixed order as ``hold_many``. Committed and released reservations are left alone.
    """
    now = utcnow()
    for reservation in sorted(reservations, key=lambda r: (r.shop_id, r.product_id, r.id)):
        if reservation.state != ReservationState.HELD:
            continue
        if not hold_counts(reservation, now):
            _lock_level(reservation.shop_id, reservation.product_id)
            sellable = _sellable_units(reservation.shop_id, reservation.product_id, now)
            others = _held_by_others(reservation.shop_id, reservation.product_id, reservation.id)
            if sellable - others < reservation.quantity:
                raise OutOfStock("Not enough stock.", shop_id=reservation.shop_id,
                                 product_id=reservation.product_id)
        reservation.expires_at = expires_at
    db.session.flush()


def lots_to_take(shop_id: int, product_id: int, units: int, now: datetime | None = None) -> list[tuple[Lot, int]]:
    """The lots a sale of ``units`` at a shop takes at ``now`` (default: this instant), as
    [(lot, units from it)], first-expiring first — the one rule for both the sale
    (``commit_reservation``) and the packing slip's "lots to pick", so the two cannot disagree.

    Only lots sellable online at ``now`` (``sellable_lot_clause``: not recalled, best-before at
    least ``LOT_ONLINE_MARGIN_DAYS`` away); a short-dated lot stays for the counter. Fewer units
    than asked when the shop has fewer (the caller checks; nothing raised, nothing written).
    Rule source: issue 10 (lots, FEFO), issue 13 (the slip must name what the sale takes).
    """
    picks: list[tuple[Lot, int]] = []
    left = units
    for lot, on_hand in _lots_at(shop_id, product_id, sellable_at=now or utcnow()):
        if left <= 0:
            break
        take = min(on_hand, left)
        picks.append((lot, take))
        left -= take
    return picks


def hold_can_be_met(reservation: Reservation, now: datetime | None = None) -> bool:
    """Whether a held reservation's units are still at its shop: units of sellable lots less the
    other live holds cover its quantity — the check ``commit_reservation`` makes before selling.
    A reservation no longer held (sold, released) is True: nothing waits on the shelf for it.
    Read only (the sale repeats the check under the stock row's lock)."""
    if reservation.state != ReservationState.HELD:
        return True
    shop_id, product_id = reservation.shop_id, reservation.product_id
    return (_sellable_units(shop_id, product_id, now)
            - _held_by_others(shop_id, product_id, reservation.id)) >= reservation.quantity


def commit_reservation(reservation: Reservation, *, reference: str | None = None,
                       user_id: int | None = None) -> None:
    """Turn a hold into a sale: the units leave on-hand stock, first-expiring lot first (FEFO),
    with one ``sale`` ledger row per lot taken, each naming the reservation.

    Only lots sellable online now are taken (never a recalled, expired or short-dated lot). The
    units are checked again under the lock (a hold that expired may have been promised to someone
    else since; a lot may have expired or been recalled under the hold): ``OutOfStock`` means the
    sale can no longer be honoured from this shop, and nothing is written.
    """
    if reservation.state != ReservationState.HELD:
        return
    shop_id, product_id, quantity = reservation.shop_id, reservation.product_id, reservation.quantity
    _lock_level(shop_id, product_id)
    now = utcnow()
    if not hold_can_be_met(reservation, now):
        raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)
    for lot, take in lots_to_take(shop_id, product_id, quantity, now):
        record_movement(shop_id, product_id, -take, MovementReason.SALE, lot_id=lot.id, reference=reference,
                        user_id=user_id, reservation_id=reservation.id)
    reservation.state = ReservationState.COMMITTED
    db.session.flush()


def _outstanding(where) -> dict[tuple[int, int], int]:
    """{(reservation_id, lot_id): units sold and not yet back} for ledger rows matching ``where``."""
    rows = db.session.execute(
        select(StockMovement.reservation_id, StockMovement.lot_id, func.sum(StockMovement.delta))
        .where(StockMovement.reservation_id.is_not(None), *where,
               StockMovement.reason.in_((MovementReason.SALE, MovementReason.RELEASE, MovementReason.RETURN)))
        .group_by(StockMovement.reservation_id, StockMovement.lot_id)
        .order_by(StockMovement.reservation_id, func.min(StockMovement.id))
    )
    return {(res, lot): -int(total) for res, lot, total in rows if total < 0}


def release_reservation(reservation: Reservation, *, reference: str | None = None,
                        user_id: int | None = None, note: str = "") -> None:
    """Give units back: a hold simply stops counting; sold units return to the shelf, each to the
    lot it was taken from (ledger ``release`` naming the reservation)."""
    if reservation.state == ReservationState.HELD:
        reservation.state = ReservationState.RELEASED
    elif reservation.state == ReservationState.COMMITTED:
        _lock_level(reservation.shop_id, reservation.product_id)
        for (_res, lot_id), units in _outstanding([StockMovement.reservation_id == reservation.id]).items():
            record_movement(reservation.shop_id, reservation.product_id, units, MovementReason.RELEASE,
                            lot_id=lot_id, reference=reference, user_id=user_id, note=note,
                            reservation_id=reservation.id)
        reservation.state = ReservationState.RELEASED
    db.session.flush()


def return_units(shop_id: int, product_id: int, quantity: int, *, reference: str | None = None,
                 user_id: int | None = None, note: str = "",
                 reservation_id: int | None = None) -> StockMovement:
    """Sold goods came back to the shop that sold them: on-hand goes up (ledger ``return``).

    For goods that had left the shop (delivered, collected, or refused at the door); units that
    never left are given back with ``release_reservation`` instead. ``reference`` is the order
    number, so the ledger tells how many units of an order have come back. Each unit goes back
    to the lot it was sold from (a unit of a recalled lot comes back recalled), found from the
    order's ``sale`` rows at this shop (only ``reservation_id``'s when given); units the ledger
    cannot place join the lot the shop received last. Returns the first ledger row written.
    """
    quantity = _check_quantity(quantity)
    _lock_level(shop_id, product_id)
    where = [StockMovement.shop_id == shop_id, StockMovement.product_id == product_id]
    where.append(StockMovement.reservation_id == reservation_id if reservation_id is not None
                 else StockMovement.reference == reference)
    movements = []
    left = quantity
    if reservation_id is not None or reference is not None:
        for (res, lot_id), units in _outstanding(where).items():
            take = min(units, left)
            movements.append(record_movement(shop_id, product_id, take, MovementReason.RETURN, lot_id=lot_id,
                                             reference=reference, user_id=user_id, note=note,
                                             reservation_id=res))
            left -= take
            if left == 0:
                break
    if left:
        movements.append(record_movement(shop_id, product_id, left, MovementReason.RETURN,
                                         lot_id=_newest_lot(shop_id, product_id).id,
                                         reference=reference, user_id=user_id, note=note))
    return movements[0]


@dataclass(frozen=True)
class LotTaken:
    """Units of one lot that left a shop for an order line (sold, less released and returned)."""

    lot: Lot
    shop_id: int
    reservation_id: int
    quantity: int
    returned: int


def lots_taken(order_line_id: int) -> list[LotTaken]:
    """Which lots an order line's units came from, per source shop, FEFO order.

    ``quantity`` is units sold less units released (back on the shelf before hand-over);
    ``returned`` is how many of those came back afterwards. Read from the ledger rows naming the
    line's reservations, so it is right for any order, old or new.
    """
    rows = db.session.execute(
        select(StockMovement.lot_id, StockMovement.shop_id, StockMovement.reservation_id, StockMovement.reason,
               func.sum(StockMovement.delta))
        .join(Reservation, Reservation.id == StockMovement.reservation_id)
        .where(Reservation.order_line_id == order_line_id)
        .group_by(StockMovement.lot_id, StockMovement.shop_id, StockMovement.reservation_id, StockMovement.reason)
    ).all()
    taken: dict[tuple[int, int, int], list[int]] = {}
    for lot_id, shop_id, res_id, reason, total in rows:
        entry = taken.setdefault((lot_id, shop_id, res_id), [0, 0])
        if reason in (MovementReason.SALE, MovementReason.RELEASE):
            entry[0] -= int(total)
        elif reason == MovementReason.RETURN:
            entry[1] += int(total)
    lots = {lot.id: lot for lot in db.session.scalars(select(Lot).where(Lot.id.in_({k[0] for k in taken})))}
    result = [LotTaken(lot=lots[lot_id], shop_id=shop_id, reservation_id=res_id, quantity=q, returned=r)
              for (lot_id, shop_id, res_id), (q, r) in taken.items() if q > 0]
    return sorted(result, key=lambda t: (t.shop_id, fefo_key(t.lot)))


# ---- transfers between shops ---------------------------------------------------------------------


def _transfer_in_state(transfer_id: int, state: str) -> "Transfer":
    from shop.inventory.models import Transfer

    transfer = db.session.get(Transfer, transfer_id, with_for_update=True) \
        if isinstance(transfer_id, int) and not isinstance(transfer_id, bool) else None
    if transfer is None:
        raise NotFound("No such transfer.")
    db.session.refresh(transfer)
    if transfer.state != state:
        raise NotAllowed(f"Transfer {transfer.reference} is {transfer.state}.", state=str(transfer.state))
    return transfer


def send_transfer(from_shop_id: int, to_shop_id: int, lines: list[tuple[int, int | None, int]], *,
                  user_id: int | None = None, note: str = "") -> "Transfer":
    """Step one of a transfer: units leave ``from_shop_id`` (ledger ``transfer_out``, reference
    ``T-<id>``) and are in transit until ``receive_transfer`` or ``cancel_transfer``.

    ``lines``: (product id, lot id or None, units). Without a lot the units are taken
    first-expiring first, one transfer line per lot touched. Units held for customers' orders stay:
    after the move the shop must still have as many sellable units as live holds (``OutOfStock``
    otherwise). Raises ``InvalidInput`` (the same shop twice, no line, a bad quantity),
    ``NotFound`` (a lot of another product), ``OutOfStock``. The caller commits (or rolls back:
    nothing is half sent).
    """
    from shop.inventory.models import Transfer, TransferLine

    if from_shop_id == to_shop_id:
        raise InvalidInput("A transfer goes to another shop.", field="to_shop")
    if not lines:
        raise InvalidInput("A transfer needs at least one line.")
    checked = [(product_id, lot_id, _check_quantity(quantity)) for product_id, lot_id, quantity in lines]
    transfer = Transfer(from_shop_id=from_shop_id, to_shop_id=to_shop_id, state=TransferState.SENT,
                        sent_by=user_id, note=(note or "").strip())
    db.session.add(transfer)
    db.session.flush()
    products = sorted({product_id for product_id, _lot, _q in checked})
    for product_id in products:  # one lock order for every writer
        _lock_level(from_shop_id, product_id)
    for product_id, lot_id, quantity in checked:
        kw = {"reference": transfer.reference, "user_id": user_id, "note": transfer.note}
        if lot_id is not None:
            moves = [record_movement(from_shop_id, product_id, -quantity, MovementReason.TRANSFER_OUT,
                                     lot_id=lot_id, **kw)]
        else:
            moves = _take_fefo(from_shop_id, product_id, quantity, MovementReason.TRANSFER_OUT, **kw)
        for move in moves:
            db.session.add(TransferLine(transfer=transfer, product_id=product_id, lot_id=move.lot_id,
                                        quantity_sent=-move.delta))
    for product_id in products:
        if _sellable_units(from_shop_id, product_id) < _held_by_others(from_shop_id, product_id):
            raise OutOfStock("These units are held for customers' orders.", shop_id=from_shop_id,
                             product_id=product_id)
    db.session.flush()
    return transfer


def receive_transfer(transfer_id: int, received: dict[int, int] | None = None, *, user_id: int | None = None,
                     note: str = "") -> "Transfer":
    """Step two: the receiver counts what arrived. ``received``: transfer line id → units that
    arrived (0 to what was sent; lines not given arrived in full). Arrived units enter the
    receiver's stock in the same lot (ledger ``transfer_in``); each line keeps sent and received,
    so a difference stays on record (the missing units left the sender and never arrived).
    Raises ``NotFound``, ``NotAllowed`` (not in transit any more), ``InvalidInput`` (a count
    outside 0..sent, or for a line of another transfer). The caller commits."""
    transfer = _transfer_in_state(transfer_id, TransferState.SENT)
    received = dict(received or {})
    ids = {line.id for line in transfer.lines}
    if set(received) - ids:
        raise InvalidInput("A count for a line of another transfer.")
    for line in transfer.lines:
        units = received.get(line.id, line.quantity_sent)
        if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units <= line.quantity_sent:
            raise InvalidInput(f"Between 0 and {line.quantity_sent} units.", field=f"line-{line.id}")
        line.quantity_received = units
        if units:
            record_movement(transfer.to_shop_id, line.product_id, units, MovementReason.TRANSFER_IN,
                            lot_id=line.lot_id, reference=transfer.reference, user_id=user_id,
                            note=(note or "").strip())
    transfer.state = TransferState.RECEIVED
    transfer.closed_by, transfer.closed_at, transfer.closing_note = user_id, utcnow(), (note or "").strip()
    db.session.flush()
    return transfer


def cancel_transfer(transfer_id: int, *, user_id: int | None = None, note: str) -> "Transfer":
    """Cancel a transfer still in transit: its units go back to the sender, in their lots (ledger
    ``transfer_in`` at the sender, reference ``T-<id>``). ``note`` (why) is required.
    Raises ``NotFound``, ``NotAllowed`` (already received or cancelled), ``InvalidInput``."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Say why the transfer is cancelled.", field="note")
    transfer = _transfer_in_state(transfer_id, TransferState.SENT)
    for line in transfer.lines:
        record_movement(transfer.from_shop_id, line.product_id, line.quantity_sent, MovementReason.TRANSFER_IN,
                        lot_id=line.lot_id, reference=transfer.reference, user_id=user_id,
                        note=f"transfer cancelled: {note}")
    transfer.state = TransferState.CANCELLED
    transfer.closed_by, transfer.closed_at, transfer.closing_note = user_id, utcnow(), note
    db.session.flush()
    return transfer


# ---- checks -----------------------------------------------------------------------------------


def ledger_mismatches() -> list[tuple[int, int, int, int]]:
    """(shop_id, product_id, on_hand, ledger sum) for every level that disagrees with its ledger."""
    ledger = (
        select(StockMovement.shop_id, StockMovement.product_id, func.sum(StockMovement.delta).label("total"))
        .group_by(StockMovement.shop_id, StockMovement.product_id)
        .subquery()
    )
    rows = db.session.execute(
        select(StockLevel.shop_id, StockLevel.product_id, StockLevel.on_hand, func.coalesce(ledger.c.total, 0))
        .outerjoin(ledger, (ledger.c.shop_id == StockLevel.shop_id) & (ledger.c.product_id == StockLevel.product_id))
    ).all()
    return [tuple(r) for r in rows if r[2] != r[3]]


def lot_ledger_mismatches() -> list[str]:
    """Every way lot stock disagrees with the ledger or with the shop × product totals, as sentences.

    Per shop and lot: ``LotStock.on_hand`` = Σ ledger deltas of that lot at that shop; per shop
    and product: ``StockLevel.on_hand`` = Σ of its lots; and no ledger row names a lot of
    another product. Used after every test and by ``flask check-ledger``.
    """
    problems = []
    ledger = dict(((s, lot), int(t)) for s, lot, t in db.session.execute(
        select(StockMovement.shop_id, StockMovement.lot_id, func.sum(StockMovement.delta))
        .group_by(StockMovement.shop_id, StockMovement.lot_id)))
    stock = dict(((s, lot), int(n)) for s, lot, n in db.session.execute(
        select(LotStock.shop_id, LotStock.lot_id, LotStock.on_hand)))
    for key in sorted(set(ledger) | set(stock)):
        if ledger.get(key, 0) != stock.get(key, 0):
            problems.append(f"shop {key[0]} lot {key[1]}: on hand {stock.get(key, 0)}, ledger {ledger.get(key, 0)}")
    per_product = dict(((s, p), int(n)) for s, p, n in db.session.execute(
        select(LotStock.shop_id, LotStock.product_id, func.sum(LotStock.on_hand))
        .group_by(LotStock.shop_id, LotStock.product_id)))
    levels = dict(((s, p), int(n)) for s, p, n in db.session.execute(
        select(StockLevel.shop_id, StockLevel.product_id, StockLevel.on_hand)))
    for key in sorted(set(per_product) | set(levels)):
        if per_product.get(key, 0) != levels.get(key, 0):
            problems.append(f"shop {key[0]} product {key[1]}: on hand {levels.get(key, 0)}, "
                            f"its lots {per_product.get(key, 0)}")
    wrong = db.session.scalar(
        select(func.count(StockMovement.id)).join(Lot, Lot.id == StockMovement.lot_id)
        .where(Lot.product_id != StockMovement.product_id))
    if wrong:
        problems.append(f"{wrong} ledger rows name a lot of another product")
    wrong = db.session.scalar(
        select(func.count(LotStock.id)).join(Lot, Lot.id == LotStock.lot_id)
        .where(Lot.product_id != LotStock.product_id))
    if wrong:
        problems.append(f"{wrong} lot stock rows carry another product than their lot's")
    return problems


# ---- the stock version -------------------------------------------------------------------------
# Kept public pages (shop.pagecache) are keyed by a stock token that changes in the same
# transaction as any change of what they show about stock: a movement (every on-hand change writes
# one), a hold placed, renewed, committed or released, a lot created, recalled or re-dated, a shop
# opened, closed or renamed. The flush only notes the change; the token is written just before
# COMMIT, as the transaction's last statement, so on PostgreSQL its row lock is held for the
# commit alone and never taken before a stock row's lock (no lock-order cycle, no long queue).

def _stock_models():
    from shop.shops.models import Shop

    return (StockMovement, Reservation, Lot, LotStock, StockLevel, Shop)


@event.listens_for(Session, "after_flush")
def _note_stock_change(session: Session, _context) -> None:
    if session.info.get("stock_changed"):
        return
    models = _stock_models()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, models) and (obj in session.new or obj in session.deleted or session.is_modified(obj)):
            session.info["stock_changed"] = True
            return


@event.listens_for(Session, "before_commit")
def _bump_stock_version(session: Session) -> None:
    session.flush()
    if session.info.pop("stock_changed", False):
        from shop.catalog.listing import STOCK, bump_version

        bump_version(session.connection(), STOCK)


@event.listens_for(Session, "after_rollback")
def _forget_stock_change(session: Session) -> None:
    session.info.pop("stock_changed", None)


# ---- low-stock thresholds (issue 13) ----------------------------------------------------------

MAX_THRESHOLD = 100_000


def set_low_stock_threshold(shop_id: int, product_id: int, threshold: int) -> StockLevel:
    """Set the units at or below which a shop's product counts as running low (``is_low_stock``).

    Only for a product the shop stocks (a ``StockLevel`` row exists); ``threshold`` a whole number
    from 0 (never low until out) to ``MAX_THRESHOLD``. The caller commits. Raises ``InvalidInput``
    and ``NotFound`` (the shop never had the product).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(f"A threshold is a whole number from 0 to {MAX_THRESHOLD}.", field="threshold")
    level = db.session.scalar(select(StockLevel).where(StockLevel.shop_id == shop_id,
                                                       StockLevel.product_id == product_id))
    if level is None:
        raise NotFound("This shop has no stock of that product.")
    level.low_stock_threshold = threshold
    db.session.flush()
    return level


def running_low(shop_id: int) -> list[StockLevel]:
    """A shop's stock rows at or below their own threshold (``StockLevel.is_low``), lowest first."""
    levels = db.session.scalars(select(StockLevel).where(StockLevel.shop_id == shop_id)).all()
    return sorted((lv for lv in levels if lv.is_low), key=lambda lv: (lv.on_hand, lv.product_id))
