"""Goods that come back after they left the shop: a return puts them on the shelf they came from.

Units that never left the shop (an order cancelled or refunded before hand-over) are released by
``orders.transition``; this module is for goods the customer or the courier brings back: a
delivered or collected order returned in whole or in part, or a cash-on-delivery parcel refused
at the door. Money is a separate step (``shop.payments.services.refund``): goods can come back
without money going out (an exchange) and money can go out without goods (a damaged item).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.errors import InvalidInput, NotAllowed
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.enums import MovementReason, ReservationState
from shop.inventory.models import Reservation, StockMovement
from shop.orders import services as orders
from shop.orders.models import Order, OrderEvent, OrderLine

NOTE_MAX = 500


@dataclass
class Returned:
    """One ledger ``return`` row written: ``quantity`` units of ``line`` back at ``shop_id``."""

    line: OrderLine
    shop_id: int
    quantity: int


def _returned_so_far(order: Order) -> dict[tuple[int, int], int]:
    """Units of this order already returned, by (shop_id, product_id), read from the ledger."""
    rows = db.session.execute(
        select(StockMovement.shop_id, StockMovement.product_id, func.sum(StockMovement.delta))
        .where(StockMovement.reason == MovementReason.RETURN, StockMovement.reference == order.number)
        .group_by(StockMovement.shop_id, StockMovement.product_id)
    ).all()
    return {(shop_id, product_id): int(total) for shop_id, product_id, total in rows}


def _shops_goods_left(order: Order) -> set[int]:
    """The shops whose part of the order left them (an order from before shipments: all, once handed over)."""
    if not order.shipments:
        return set() if order.status in orders.NOT_HANDED_OVER else {r.shop_id for r in orders.reservations_of(order)}
    return {s.shop_id for s in order.shipments if s.left_the_shop}


def returnable(order: Order, shop_id: int | None = None) -> dict[int, list[tuple[Reservation, int]]]:
    """For each order line id: its sold reservations and how many of their units may still come back.

    Only units that left the shop count: committed reservations at a shop whose shipment left
    (shipped or collected; ``Shipment.left_at``). Returns already recorded in the ledger are taken
    off, shop by shop, in reservation order. ``shop_id``: only what that shop sold.
    """
    gone = _shops_goods_left(order)
    if shop_id is not None:
        gone &= {shop_id}
    if not gone:
        return {}
    left = _returned_so_far(order)
    result: dict[int, list[tuple[Reservation, int]]] = {}
    for line in order.lines:
        for reservation in line.reservations:
            if reservation.state != ReservationState.COMMITTED or reservation.shop_id not in gone:
                continue
            key = (reservation.shop_id, reservation.product_id)
            already = min(left.get(key, 0), reservation.quantity)
            left[key] = left.get(key, 0) - already
            if reservation.quantity - already > 0:
                result.setdefault(line.id, []).append((reservation, reservation.quantity - already))
    return result


def return_goods(order: Order, quantities: dict[int, int] | None = None, *, actor: str, note: str = "",
                 user_id: int | None = None, shop_id: int | None = None,
                 write_off: bool = False) -> list[Returned]:
    """Record goods brought back: ``{order_line_id: units}``, or ``None`` for everything still out.

    Each unit goes back to the shop that sold it, with a ledger ``return`` row referencing the
    order number, and the order's history says what came back. The order's status is left alone
    (staff refund the money with ``refund`` and, for a refused COD parcel, cancel the order). The
    caller commits. Rule source: issue 8 item 7 ("stock back through the ledger").

    ``shop_id``: only the units that shop sold come back (a shop's staff record their own part).
    ``write_off``: the goods came back unsellable (broken, spoilt): each unit is returned to its lot
    and at once written off (ledger ``return`` then ``write_off``, the note saying why; required),
    so the ledger tells both facts and the shelf does not change.

    Raises ``NotAllowed`` (the goods never left the shop: cancel or refund the order instead; or
    nothing is left to return) and ``InvalidInput`` (a line not in this order, a quantity that is
    not a whole number from 1 to what is still out, a note that is too long, a write-off without
    a note).
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX or any(ord(ch) < 32 and ch not in "\t" for ch in note):
        raise InvalidInput(_("The note is too long or contains characters we cannot accept."), field="note")
    if write_off and not note:
        raise InvalidInput(_("Say why the returned goods are written off."), field="note")
    order = orders.lock_order(order)
    if not _shops_goods_left(order):
        raise NotAllowed(_("The goods of order %(number)s have not left the shop: cancel or refund the order "
                           "instead, which puts its stock back.", number=order.number))
    out = returnable(order, shop_id)
    if not out:
        raise NotAllowed(_("Nothing of order %(number)s is left to return.", number=order.number))
    lines = {line.id: line for line in order.lines}
    if quantities is None:
        quantities = {line_id: sum(q for _r, q in pairs) for line_id, pairs in out.items()}
    if not quantities:
        raise InvalidInput(_("Say which goods came back."), field="quantities")
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise InvalidInput(_("That line is not part of order %(number)s.", number=order.number), field="line")
        still_out = sum(q for _r, q in out.get(line_id, []))
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= still_out:
            raise InvalidInput(_("%(name)s: give a whole number of units from 1 to %(max)s.",
                                 name=line.product_name, max=still_out), field="quantity")
    done: list[Returned] = []
    last_row = db.session.scalar(select(func.max(StockMovement.id))) or 0
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        for reservation, can in out[line_id]:
            take = min(can, quantity)
            if take <= 0:
                break
            inventory.return_units(reservation.shop_id, reservation.product_id, take, reference=order.number,
                                   user_id=user_id, note=note or "goods returned")
            done.append(Returned(line=line, shop_id=reservation.shop_id, quantity=take))
            quantity -= take
    summary = ", ".join(f"{r.quantity} × {r.line.product_name}" for r in done)
    what = "goods returned to the shelf"
    if write_off:
        db.session.flush()
        for row in db.session.scalars(select(StockMovement).where(
                StockMovement.id > last_row, StockMovement.reason == MovementReason.RETURN,
                StockMovement.reference == order.number).order_by(StockMovement.id)).all():
            inventory.write_off(row.shop_id, row.lot_id, row.delta, user_id=user_id,
                                note=f"returned by the customer, written off: {note}", reference=order.number)
        what = "goods returned and written off"
    order.events.append(OrderEvent(from_status=order.status, to_status=order.status, actor=actor,
                                   note=f"{what}: {summary}" + (f" ({note})" if note else "")))
    db.session.flush()
    return done
