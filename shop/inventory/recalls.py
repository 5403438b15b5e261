"""Recalls and the "to withdraw" list: lots that must leave the shelves, and who bought them.

Rule source: issue 10 ("Recalls"; "a lot past its best-before date ... shows in a 'to withdraw'
list per shop") and DOMAIN.md ("a recall by lot, with the list of who bought it").

- ``recall_lot`` marks a lot recalled (when, why, the decision, who). It leaves sale everywhere
  at that instant: ``services.sellable_lot_clause`` refuses recalled lots in every availability
  read, hold and sale. Open orders that took units of the lot, or whose holds the remaining
  units no longer cover, are flagged for staff (``shop.orders.services.flag``).
- The units stay on the shops' shelves (on-hand is what is physically there) until staff take
  them off with ``withdraw``: a ``recall`` ledger row for a recalled lot, ``write_off`` for an
  expired one. ``to_withdraw`` lists, per shop, every unit of a recalled or expired lot still on
  hand (and, on request, short-dated lots that may be sold at the counter only).
- ``buyers`` lists every order that received units of a lot (sold, less units put back before
  hand-over), with the customer's contact details, for a phone call or an email; ``buyers_csv``
  writes it as CSV. The staff screen (with accounts) will call these; until then the CLI does
  (``flask --app wsgi lot …``, shop/inventory/cli.py).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from shop.errors import InvalidInput, NotAllowed, NotFound
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot, LotState, LotStock, MovementReason, Reservation, ReservationState, StockMovement
from shop.timeutil import utcnow

REASON_MAX = 500


@dataclass
class RecallResult:
    lot: Lot
    flagged: list[str]  # order numbers flagged for staff
    on_shelves: list[tuple[int, int]]  # (shop_id, units) still to withdraw


def _text(value, field: str, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value.strip()) > limit or any(
            ord(ch) < 32 and ch not in "\t\n" for ch in value):
        raise InvalidInput(f"The {field} is too long or contains characters we cannot accept.", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"A {field} is required.", field=field)
    return value


def recall_lot(lot_id: int, reason: str, *, reference: str | None = None, user_id: int | None = None,
               actor: str = "staff") -> RecallResult:
    """Recall a lot: it leaves sale everywhere at once, and open orders it concerns are flagged.

    ``reason`` (required, ≤ 500 characters) says why, ``reference`` the decision or notice (e.g.
    the province's food-safety decision number). Flagged: open orders whose sold units came from
    the lot (goods still in the shop must be swapped), and open orders holding the product at a
    shop whose sellable units no longer cover its live holds. The caller commits.

    Raises ``NotFound`` (no such lot), ``NotAllowed`` (already recalled), ``InvalidInput``.
    """
    from shop.orders import services as orders
    from shop.orders.models import Order, OrderLine

    lot = db.session.get(Lot, lot_id) if isinstance(lot_id, int) and not isinstance(lot_id, bool) else None
    if lot is None:
        raise NotFound("No such lot.")
    reason = _text(reason, "reason", REASON_MAX, required=True)
    reference = _text(reference, "reference", 80, required=False) or None
    if lot.recalled_at is not None:
        raise NotAllowed(f"Lot {lot.code} was already recalled on {lot.recalled_at:%Y-%m-%d}.")
    # Lock the lot's shop × product rows (a sale under way finishes first, or sees the recall).
    shops = sorted(db.session.scalars(select(LotStock.shop_id).where(LotStock.lot_id == lot.id)))
    for shop_id in shops:
        inventory._lock_level(shop_id, lot.product_id)
    lot.recalled_at = utcnow()
    lot.recall_reason = reason
    lot.recall_reference = reference
    lot.recalled_by = user_id
    db.session.flush()

    what = f"lot {lot.code} of {lot.product.name} was recalled ({reason})"
    sold_from_lot = (
        select(OrderLine.order_id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .join(StockMovement, StockMovement.reservation_id == Reservation.id)
        .where(StockMovement.lot_id == lot.id, Reservation.state == ReservationState.COMMITTED)
        .group_by(OrderLine.order_id)
        .having(func.sum(StockMovement.delta) < 0)
    )
    short_shops = [s for s in shops if _holds_exceed_sellable(s, lot.product_id)]
    held_here = (
        select(OrderLine.order_id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .where(Reservation.product_id == lot.product_id, Reservation.shop_id.in_(short_shops),
               inventory.active_hold_clause())
    )
    candidates = db.session.scalars(
        select(Order).where(Order.status.in_(orders.OPEN_STATUSES),
                            Order.id.in_(sold_from_lot.union(held_here) if short_shops else sold_from_lot))
        .order_by(Order.id)
    ).all()
    flagged = []
    for order in candidates:
        order = orders.lock_order(order)
        took = any(t.lot.id == lot.id for line in order.lines for t in inventory.lots_taken(line.id))
        advice = ("units of it were set aside for this order: swap them for another lot before the goods go out"
                  if took else "the units left may not cover this order's hold: check the stock before preparing it")
        if orders.flag(order, f"{what}: {advice}", actor=actor):
            flagged.append(order.number)
    on_shelves = [(s, n) for s, n in db.session.execute(
        select(LotStock.shop_id, LotStock.on_hand).where(LotStock.lot_id == lot.id, LotStock.on_hand > 0)
        .order_by(LotStock.shop_id))]
    db.session.flush()
    return RecallResult(lot=lot, flagged=flagged, on_shelves=on_shelves)


def _holds_exceed_sellable(shop_id: int, product_id: int) -> bool:
    return inventory._sellable_units(shop_id, product_id) < inventory._held_by_others(shop_id, product_id)


@dataclass(frozen=True)
class Withdrawal:
    """Units of one lot at one shop that must come off the shelf (or, short-dated, go to the counter)."""

    shop_id: int
    lot: Lot
    units: int
    state: LotState  # recalled, expired or short-dated


def to_withdraw(shop_id: int | None = None, *, now: datetime | None = None,
                short_dated: bool = False) -> list[Withdrawal]:
    """Per shop (all shops, or one), every lot on hand that must leave the shelves: recalled or
    past its best-before day; with ``short_dated``, also lots inside the online margin (counter
    only, with a notice). Ordered by shop, then first-expiring first. Reads lot stock with units only."""
    now = now or utcnow()
    margin = 0 if not short_dated else None
    stmt = (
        select(LotStock.shop_id, Lot, LotStock.on_hand)
        .join(Lot, Lot.id == LotStock.lot_id)
        .where(LotStock.on_hand > 0, ~inventory.sellable_lot_clause(now, margin_days=margin))
        .order_by(LotStock.shop_id, *inventory.fefo_order())
    )
    if shop_id is not None:
        stmt = stmt.where(LotStock.shop_id == shop_id)
    return [Withdrawal(shop_id=s, lot=lot, units=int(units), state=inventory.lot_state(lot, now))
            for s, lot, units in db.session.execute(stmt)]


def withdraw(shop_id: int, lot_id: int, quantity: int | None = None, *, user_id: int | None = None,
             note: str = ""):
    """Staff took a recalled or expired lot's units off a shop's shelf: ledger ``recall`` (recalled
    lot) or ``write_off`` (expired). ``quantity=None``: all of them. Refused (``NotAllowed``) for a
    lot that may still be sold: use ``inventory.adjust`` or ``write_off`` for damage."""
    lot = db.session.get(Lot, lot_id) if isinstance(lot_id, int) and not isinstance(lot_id, bool) else None
    if lot is None:
        raise NotFound("No such lot.")
    state = inventory.lot_state(lot, margin_days=0)
    if state not in (LotState.RECALLED, LotState.EXPIRED):
        raise NotAllowed(f"Lot {lot.code} is neither recalled nor expired.")
    reason = MovementReason.RECALL if state == LotState.RECALLED else MovementReason.WRITE_OFF
    note = _text(note, "note", 500, required=False) or (
        f"recall: {lot.recall_reason}" if state == LotState.RECALLED else "past its best-before date")
    return inventory.write_off(shop_id, lot.id, quantity, user_id=user_id, note=note, reason=reason)


@dataclass(frozen=True)
class Buyer:
    """One order that received units of a lot."""

    order_number: str
    status: str
    ordered_at: datetime
    customer_name: str
    phone: str
    email: str
    shop_id: int
    units: int
    returned: int


def buyers(lot_id: int) -> list[Buyer]:
    """Every order whose units came from the lot (units sold less units put back before hand-over;
    ``returned``: units that came back afterwards), oldest order first; ``NotFound`` for no lot."""
    from shop.orders.models import Order, OrderLine

    if db.session.get(Lot, lot_id) is None:
        raise NotFound("No such lot.")
    moved = func.sum(StockMovement.delta)
    rows = db.session.execute(
        select(Order.id, StockMovement.shop_id, StockMovement.reason, moved)
        .join(Reservation, Reservation.id == StockMovement.reservation_id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(StockMovement.lot_id == lot_id)
        .group_by(Order.id, StockMovement.shop_id, StockMovement.reason)
    ).all()
    totals: dict[tuple[int, int], list[int]] = {}
    for order_id, shop_id, reason, total in rows:
        entry = totals.setdefault((order_id, shop_id), [0, 0])
        if reason in (MovementReason.SALE, MovementReason.RELEASE):
            entry[0] -= int(total)
        elif reason == MovementReason.RETURN:
            entry[1] += int(total)
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_({k[0] for k in totals})))}
    found = [Buyer(order_number=orders[oid].number, status=orders[oid].status, ordered_at=orders[oid].created_at,
                   customer_name=orders[oid].customer_name, phone=orders[oid].phone, email=orders[oid].email,
                   shop_id=shop_id, units=units, returned=returned)
             for (oid, shop_id), (units, returned) in totals.items() if units > 0]
    return sorted(found, key=lambda b: (b.ordered_at, b.order_number, b.shop_id))


CSV_COLUMNS = ("order", "status", "ordered_at", "customer", "phone", "email", "shop", "units", "returned")  # vocabulary: CSV column names


def buyers_csv(lot_id: int) -> str:
    """``buyers`` as CSV text (UTF-8, a header row; times in Vietnam, ISO 8601; shop slugs)."""
    from shop.shops.models import Shop
    from shop.timeutil import VN_TZ

    rows = buyers(lot_id)
    slugs = dict(db.session.execute(select(Shop.id, Shop.slug).where(Shop.id.in_({b.shop_id for b in rows}))).all())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in rows:
        writer.writerow([b.order_number, b.status, b.ordered_at.astimezone(VN_TZ).isoformat(timespec="minutes"),
                         _cell(b.customer_name), b.phone, _cell(b.email), slugs.get(b.shop_id, b.shop_id),
                         b.units, b.returned])
    return out.getvalue()


def _cell(value: str) -> str:
    """Keep a spreadsheet from running a customer's name as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def lot_history(lot_id: int) -> list[tuple[datetime, str, int | None, int, str]]:
    """The lot's history, oldest first: (when, what, shop_id, units, note) for every ledger row of
    the lot and its recall. ``NotFound`` for no lot."""
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound("No such lot.")
    events = [(m.created_at, m.reason, m.shop_id, m.delta, m.note or (m.reference or ""))
              for m in db.session.scalars(select(StockMovement).where(StockMovement.lot_id == lot.id)
                                          .order_by(StockMovement.id))]
    if lot.recalled_at is not None:
        events.append((lot.recalled_at, LotState.RECALLED, None, 0,
                       lot.recall_reason + (f" ({lot.recall_reference})" if lot.recall_reference else "")))
    return sorted(events, key=lambda e: e[0])

