"""Reads for the staff pages: a shop's queue of shipments and what a packing slip lists.

Reads only; every change goes through ``shop.orders.services`` and ``shop.inventory.services``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot
from shop.orders.enums import PaymentMethod, ShipmentState
from shop.orders.models import Order, OrderLine, Shipment
from shop.timeutil import VN_TZ

QUEUE_LIMIT = 100
# The queue's default: shipments still to work on.
OPEN_STATES = (ShipmentState.TO_PREPARE, ShipmentState.PACKED, ShipmentState.SHIPPED,
               ShipmentState.READY_FOR_PICKUP)


@dataclass
class QueueFilter:
    """What the queue page was asked for (already checked): state, payment method, order dates
    (Vietnam's calendar, both ends included), and a search text (order number, name or phone)."""

    state: ShipmentState | None = None
    method: PaymentMethod | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def _vn_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=VN_TZ)


def _search_clause(q: str):
    """Order number (any part, case ignored), customer name (any part), or phone: digits typed
    nationally (0912…) are matched against the stored E.164 number (+84912…)."""
    q = " ".join(q.split())[:60]
    clauses = [Order.number.ilike(f"%{q}%"), Order.customer_name.ilike(f"%{q}%")]
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4 and re.fullmatch(r"[\d\s.+()-]+", q):
        clauses.append(Order.phone.contains(digits[1:] if digits.startswith("0") else digits))
    return or_(*clauses)


def queue(shop_id: int, flt: QueueFilter, limit: int = QUEUE_LIMIT) -> list[Shipment]:
    """A shop's shipments, newest order first, narrowed by ``flt`` (open ones when no state)."""
    query = (select(Shipment).join(Order, Order.id == Shipment.order_id).where(Shipment.shop_id == shop_id)
             .options(selectinload(Shipment.order).selectinload(Order.lines).selectinload(OrderLine.reservations))
             .order_by(Order.created_at.desc(), Shipment.id.desc()).limit(limit))
    query = query.where(Shipment.state == flt.state if flt.state else Shipment.state.in_(OPEN_STATES))
    if flt.method:
        query = query.where(Order.payment_method == flt.method)
    if flt.date_from:
        query = query.where(Order.created_at >= _vn_start(flt.date_from))
    if flt.date_to:
        query = query.where(Order.created_at < _vn_start(flt.date_to + timedelta(days=1)))
    if flt.q:
        query = query.where(_search_clause(flt.q))
    return list(db.session.scalars(query))


def state_counts(shop_id: int) -> dict[ShipmentState, int]:
    """Shipments of a shop per state (every state, zero included)."""
    rows = db.session.execute(select(Shipment.state, func.count()).where(Shipment.shop_id == shop_id)
                              .group_by(Shipment.state)).all()
    counts = {state: 0 for state in ShipmentState}
    counts.update({ShipmentState(state): int(n) for state, n in rows})
    return counts


@dataclass
class SlipLine:
    """One line of a packing slip: the order line, units from this shop, and the lots — those
    taken (from the ledger) once the units are sold, else the lots to pick: exactly the lots the sale
    would take now (``inventory.lots_to_take``, the rule ``commit_reservation`` uses)."""

    line: OrderLine
    quantity: int
    lots: list[tuple[Lot, int]] = field(default_factory=list)
    taken: bool = False


def slip_lines(shipment: Shipment) -> list[SlipLine]:
    """The packing slip's lines for one shipment (see ``SlipLine``)."""
    out = []
    for reservation in shipment.reservations:
        line = reservation.line
        if line is None or not reservation.quantity:
            continue
        taken = [(t.lot, t.quantity) for t in inventory.lots_taken(line.id)
                 if t.shop_id == shipment.shop_id and t.reservation_id == reservation.id]
        if taken:
            out.append(SlipLine(line, reservation.quantity, taken, True))
        else:
            out.append(SlipLine(line, reservation.quantity,
                                inventory.lots_to_take(shipment.shop_id, reservation.product_id, reservation.quantity)))
    return out
