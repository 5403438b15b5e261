"""The inventory module: every change of stock goes through here and leaves a ledger row.

``StockLevel.on_hand`` is a running total of the ``StockMovement`` ledger. Decrements use one
conditional UPDATE (``on_hand + delta >= 0``), so two transactions can never both take the last
unit, on SQLite or PostgreSQL. Functions here flush but do not commit: the caller owns the
transaction, so a ledger row and its level change always land (or vanish) together.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from shop.errors import InvalidInput, OutOfStock
from shop.extensions import db
from shop.inventory.models import MOVEMENT_REASONS, Reservation, StockLevel, StockMovement
from shop.timeutil import utcnow

MAX_QUANTITY = 100_000


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("Quantity must be a whole number.")
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise InvalidInput(f"Quantity must be between 1 and {MAX_QUANTITY}.")
    return quantity


def get_or_create_level(shop_id: int, product_id: int) -> StockLevel:
    """The stock level row for a shop and product, created empty if it does not exist yet."""
    stmt = select(StockLevel).where(StockLevel.shop_id == shop_id, StockLevel.product_id == product_id)
    level = db.session.scalars(stmt).first()
    if level is not None:
        return level
    try:
        with db.session.begin_nested():
            level = StockLevel(shop_id=shop_id, product_id=product_id, on_hand=0)
            db.session.add(level)
    except IntegrityError:
        # Another transaction created it at the same moment: use theirs.
        level = db.session.scalars(stmt).one()
    return level


def record_movement(
    shop_id: int,
    product_id: int,
    delta: int,
    reason: str,
    *,
    reference: str | None = None,
    user_id: int | None = None,
    note: str = "",
) -> StockMovement:
    """Apply ``delta`` to a shop's stock and write the ledger row, atomically.

    Raises ``OutOfStock`` when the change would take on-hand stock below zero; nothing is written.
    """
    if reason not in MOVEMENT_REASONS:
        raise InvalidInput(f"Unknown stock movement reason: {reason}")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput("A stock movement needs a non-zero whole number.")
    level = get_or_create_level(shop_id, product_id)
    result = db.session.execute(
        update(StockLevel)
        .where(StockLevel.id == level.id, StockLevel.on_hand + delta >= 0)
        .values(on_hand=StockLevel.on_hand + delta)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)
    db.session.expire(level, ["on_hand", "updated_at"])
    movement = StockMovement(
        shop_id=shop_id, product_id=product_id, delta=delta, reason=reason,
        reference=reference, user_id=user_id, note=note,
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def receive(shop_id: int, product_id: int, quantity: int, *, user_id: int | None = None,
            note: str = "", reference: str | None = None) -> StockMovement:
    """Goods arrive at a shop: on-hand goes up by ``quantity``."""
    quantity = _check_quantity(quantity)
    return record_movement(shop_id, product_id, quantity, "receive",
                           reference=reference, user_id=user_id, note=note)


def adjust(shop_id: int, product_id: int, delta: int, *, user_id: int | None = None,
           note: str = "") -> StockMovement:
    """A correction (breakage, gift, found units); the note says why."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_QUANTITY:
        raise InvalidInput("An adjustment must be a non-zero whole number.")
    return record_movement(shop_id, product_id, delta, "adjust", user_id=user_id, note=note)


def count(shop_id: int, product_id: int, counted: int, *, user_id: int | None = None,
          note: str = "") -> StockMovement | None:
    """A stock count: set on-hand to what was counted, recording the difference in the ledger."""
    if isinstance(counted, bool) or not isinstance(counted, int) or not 0 <= counted <= MAX_QUANTITY:
        raise InvalidInput("A count must be a whole number of at least zero.")
    level = db.session.scalars(
        select(StockLevel)
        .where(StockLevel.shop_id == shop_id, StockLevel.product_id == product_id)
        .with_for_update()
    ).first()
    current = level.on_hand if level else 0
    if counted == current:
        return None
    return record_movement(shop_id, product_id, counted - current, "count", user_id=user_id, note=note)


def active_hold_clause(now: datetime | None = None):
    """Reservations that still count: held, and not past their expiry."""
    now = now or utcnow()
    return and_(Reservation.state == "held",
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


def shop_available_expr(now: datetime | None = None):
    """SQL: units of the enclosing ``StockLevel`` that can still be promised (on hand − live holds).

    Can be negative (units counted away under a hold); every total clamps each shop at zero.
    """
    return StockLevel.on_hand - _live_held(now)


def in_stock_clause(product_id, now: datetime | None = None):
    """SQL: at least one active shop has a unit of ``product_id`` (a column or value) to promise.

    The same rule as ``availability_matrix`` (a product's total is the sum over active shops of
    max(0, on hand − live holds), so it is positive exactly when one shop's share is).
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
    shops — the sum of max(0, on hand − live holds) per shop, as ``total_availability`` computes it.

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
    """{product_id: available} for every product, grouping every live hold: the reference that the
    fast, per-row functions above are tested against (never used by a page)."""
    from shop.shops.models import Shop

    held = (
        select(Reservation.shop_id, Reservation.product_id, func.sum(Reservation.quantity).label("held"))
        .where(active_hold_clause(now))
        .group_by(Reservation.shop_id, Reservation.product_id)
        .subquery("held")
    )
    rows = db.session.execute(
        select(StockLevel.product_id, StockLevel.on_hand - func.coalesce(held.c.held, 0))
        .join(Shop, and_(Shop.id == StockLevel.shop_id, Shop.active.is_(True)))
        .outerjoin(held, and_(held.c.shop_id == StockLevel.shop_id, held.c.product_id == StockLevel.product_id))
    )
    totals: dict[int, int] = {}
    for product_id, available in rows:
        totals[product_id] = totals.get(product_id, 0) + max(0, int(available))
    return totals


def availability_matrix(product_ids, shop_ids=None, now: datetime | None = None) -> dict[tuple[int, int], int]:
    """{(shop_id, product_id): available} at active shops for the given products, in one query.

    Available = on hand − live holds, at least 0. Touches only these products' stock rows.
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


def _held_by_others(shop_id: int, product_id: int, exclude_id: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
        Reservation.shop_id == shop_id, Reservation.product_id == product_id, active_hold_clause())
    if exclude_id is not None:
        stmt = stmt.where(Reservation.id != exclude_id)
    return int(db.session.scalar(stmt))


def hold(order_line_id: int, shop_id: int, product_id: int, quantity: int,
         expires_at: datetime | None) -> Reservation:
    """Reserve units at a shop for an order line, or raise ``OutOfStock``.

    The check and the hold happen under the stock row's lock, so concurrent checkouts for the
    last units queue up here and only as many succeed as there are units. Callers holding several
    rows must take them in a fixed order (see ``hold_many``) so that two orders never deadlock.
    """
    quantity = _check_quantity(quantity)
    level = _lock_level(shop_id, product_id)
    on_hand = level.on_hand if level else 0
    if on_hand - _held_by_others(shop_id, product_id) < quantity:
        raise OutOfStock("Not enough stock.", shop_id=shop_id, product_id=product_id)
    reservation = Reservation(order_line_id=order_line_id, shop_id=shop_id, product_id=product_id,
                              quantity=quantity, expires_at=expires_at, state="held")
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
    return reservation.state == "held" and (reservation.expires_at is None or reservation.expires_at > now)


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
        if reservation.state != "held":
            continue
        if not hold_counts(reservation, now):
            level = _lock_level(reservation.shop_id, reservation.product_id)
            on_hand = level.on_hand if level else 0
            others = _held_by_others(reservation.shop_id, reservation.product_id, reservation.id)
            if on_hand - others < reservation.quantity:
                raise OutOfStock("Not enough stock.", shop_id=reservation.shop_id,
                                 product_id=reservation.product_id)
        reservation.expires_at = expires_at
    db.session.flush()


def commit_reservation(reservation: Reservation, *, reference: str | None = None,
                       user_id: int | None = None) -> None:
    """Turn a hold into a sale: the units leave on-hand stock with a ``sale`` ledger row.

    A hold that expired may have been promised to someone else since, so the units are checked
    again under the lock; ``OutOfStock`` means the sale can no longer be honoured from this shop.
    """
    if reservation.state != "held":
        return
    level = _lock_level(reservation.shop_id, reservation.product_id)
    on_hand = level.on_hand if level else 0
    if on_hand - _held_by_others(reservation.shop_id, reservation.product_id, reservation.id) < reservation.quantity:
        raise OutOfStock("Not enough stock.", shop_id=reservation.shop_id, product_id=reservation.product_id)
    record_movement(reservation.shop_id, reservation.product_id, -reservation.quantity, "sale",
                    reference=reference, user_id=user_id)
    reservation.state = "committed"


def release_reservation(reservation: Reservation, *, reference: str | None = None,
                        user_id: int | None = None, note: str = "") -> None:
    """Give units back: a hold simply stops counting; sold units return to the shelf (``release``)."""
    if reservation.state == "held":
        reservation.state = "released"
    elif reservation.state == "committed":
        record_movement(reservation.shop_id, reservation.product_id, reservation.quantity, "release",
                        reference=reference, user_id=user_id, note=note)
        reservation.state = "released"
    db.session.flush()


def return_units(shop_id: int, product_id: int, quantity: int, *, reference: str | None = None,
                 user_id: int | None = None, note: str = "") -> StockMovement:
    """Sold goods came back to the shop that sold them: on-hand goes up (ledger ``return``).

    For goods that had left the shop (delivered, collected, or refused at the door); units that
    never left are given back with ``release_reservation`` instead. ``reference`` is the order
    number, so the ledger tells how many units of an order have come back.
    """
    quantity = _check_quantity(quantity)
    return record_movement(shop_id, product_id, quantity, "return", reference=reference,
                           user_id=user_id, note=note)


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
