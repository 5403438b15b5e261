"""Units held for customers' orders when stock is lost by hand (issue 13, staff workspace).

Holds are per shop × product (``services.hold``); the lots are chosen when the units leave. A
loss recorded by hand (``services.adjust``: broken, gift, sample) takes units first-expiring
first, so it can take units that live holds need. The rule (README, "Staff workspace"):

- Before: ``uncovered_by_loss`` tells which orders' holds a loss would leave uncovered, so the
  adjust form warns ("N units are held for orders X, Y"). Breakage is a fact and is recorded after
  the clerk confirms; a gift or a sample is a choice and may not take held units
  (``services.adjust(held_ok=False)`` refuses it with ``NotAllowed``).
- After: ``flag_uncovered`` flags (``needs_review``, reason in the order's history, in the
  language of the page that made the change) every open order whose hold can no longer be met
  (``services.hold_can_be_met``, the very check the sale makes). The flag ends when staff resolve
  it (``orders.resolve_flag``) after restocking or cancelling.
- Packing and ready-for-pick-up refuse a shipment whose held units are no longer on hand
  (``shop.orders.services.move_shipment``), so no one packs an empty box.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot, LotState, Reservation, ReservationState
from shop.timeutil import utcnow


@dataclass(frozen=True)
class HeldFor:
    """Units of one product held at one shop for one order (live holds only)."""

    order_id: int
    number: str
    units: int


def held_for_orders(shop_id: int, product_id: int, now: datetime | None = None) -> list[HeldFor]:
    """Live holds at a shop for a product, per order, oldest order first."""
    from shop.orders.models import Order, OrderLine

    rows = db.session.execute(
        select(Order.id, Order.number, func.sum(Reservation.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .where(Reservation.shop_id == shop_id, Reservation.product_id == product_id,
               inventory.active_hold_clause(now))
        .group_by(Order.id, Order.number).order_by(Order.id)
    ).all()
    return [HeldFor(order_id=oid, number=number, units=int(units)) for oid, number, units in rows]


def _sellable_units_taken(shop_id: int, product_id: int, units: int, lot_id: int | None,
                          now: datetime) -> int:
    """How many of ``units`` lost (from ``lot_id``, else first-expiring first over every lot, as
    ``services.adjust`` takes them) come out of lots that are sellable online at ``now``."""
    if lot_id is not None:
        lot = db.session.get(Lot, lot_id)
        return units if lot is not None and inventory.lot_state(lot, now) == LotState.SELLABLE else 0
    taken, left = 0, units
    for lot, on_hand in inventory._lots_at(shop_id, product_id):
        if left <= 0:
            break
        take = min(on_hand, left)
        left -= take
        if inventory.lot_state(lot, now) == LotState.SELLABLE:
            taken += take
    return taken


def uncovered_by_loss(shop_id: int, product_id: int, units: int, lot_id: int | None = None,
                      now: datetime | None = None) -> list[HeldFor]:
    """The orders whose holds a loss of ``units`` would leave uncovered (units of sellable lots
    fewer than the live holds afterwards), or [] when every hold stays covered. Read only."""
    now = now or utcnow()
    held = inventory._held_by_others(shop_id, product_id)
    if held == 0 or units <= 0:
        return []
    from_sellable = _sellable_units_taken(shop_id, product_id, units, lot_id, now)
    if from_sellable == 0 or inventory._sellable_units(shop_id, product_id, now) - from_sellable >= held:
        return []
    return held_for_orders(shop_id, product_id, now)


def held_message(held: list[HeldFor]) -> str:
    """"N units are held for orders X, Y." in the page's language."""
    return _("%(n)s units are held for orders %(orders)s.", n=sum(h.units for h in held),
             orders=", ".join(h.number for h in held))


def flag_uncovered(shop_id: int, product_id: int, why: str, *, actor: str = "stock") -> list[str]:
    """After a loss: flag every open order with a live hold at this shop × product that can no
    longer be met (``services.hold_can_be_met``). ``why`` is the ledger note (e.g. "broken: rơi vỡ").
    Returns the numbers of the orders flagged now (an order already flagged for the same reason
    is not flagged twice: ``orders.flag``)."""
    from shop.orders import services as orders
    from shop.orders.models import Order, OrderLine

    live = db.session.scalars(
        select(Reservation).where(Reservation.shop_id == shop_id, Reservation.product_id == product_id,
                                  Reservation.state == ReservationState.HELD, inventory.active_hold_clause())
        .order_by(Reservation.id)).all()
    short: dict[int, int] = {}
    for reservation in live:
        if not inventory.hold_can_be_met(reservation):
            order_id = db.session.scalar(select(OrderLine.order_id).where(OrderLine.id == reservation.order_line_id))
            short[order_id] = short.get(order_id, 0) + reservation.quantity
    flagged = []
    for order_id, units in short.items():
        order = db.session.get(Order, order_id)
        if order is None or order.status not in orders.OPEN_STATUSES:
            continue
        line = next((ln for ln in order.lines if ln.product_id == product_id), None)
        reason = _("%(n)s × %(product)s held for this order at %(shop)s are no longer on hand (%(why)s): "
                   "restock the shop, or cancel the shipment", n=units,
                   product=line.product_name if line else product_id,
                   shop=_shop_name(shop_id), why=why or _("stock adjusted"))
        if orders.flag(order, reason, actor=actor):
            flagged.append(order.number)
    db.session.flush()
    return flagged


def _shop_name(shop_id: int) -> str:
    from shop.shops.models import Shop

    shop = db.session.get(Shop, shop_id)
    return shop.name if shop else str(shop_id)
