"""The inventory module: every change of stock goes through here and leaves a ledger row.

``StockLevel.on_hand`` is a running total of the ``StockMovement`` ledger. Decrements use one
conditional UPDATE (``on_hand + delta >= 0``), so two transactions can never both take the last
unit, on SQLite or PostgreSQL. Functions here flush but do not commit: the caller owns the
transaction, so a ledger row and its level change always land (or vanish) together.
"""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shop.errors import InvalidInput, OutOfStock
from shop.extensions import db
from shop.inventory.models import MOVEMENT_REASONS, StockLevel, StockMovement

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


def on_hand_by_shop(product_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(StockLevel.shop_id, StockLevel.on_hand).where(StockLevel.product_id == product_id)
    )
    return {shop_id: on_hand for shop_id, on_hand in rows}


def available_subquery():
    """(product_id, available) summed over all shops, for listings and the "in stock" filter."""
    return (
        select(StockLevel.product_id.label("product_id"), func.sum(StockLevel.on_hand).label("available"))
        .group_by(StockLevel.product_id)
        .subquery("availability")
    )


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
