"""Reads for the producer portal: a producer's stock across the shops (by lot) and its sales by
month, and the geometry of the small sales chart (drawn as SVG by the template, no script).

Reads only. Stock comes from the inventory's own tables and rules (``LotStock`` per shop and lot,
``inventory.lot_state``, ``inventory.availability_matrix``); sales from the ledger rows that name
an order's hold (``StockMovement.reservation_id``), priced at the order line's unit price.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.enums import LotState, MovementReason
from shop.inventory.models import Lot, LotStock, Reservation, StockMovement
from shop.orders.models import OrderLine
from shop.shops.models import Shop
from shop.timeutil import VN_TZ, utcnow

SALES_MONTHS = 12


def products_of(producer_id: int) -> list[Product]:
    """The producer's products by name, with their certificates (newest first) loaded."""
    return list(db.session.scalars(select(Product).where(Product.producer_id == producer_id)
                                   .options(selectinload(Product.certificates))
                                   .order_by(Product.name_folded, Product.id)))


@dataclass
class LotLine:
    """Units of one lot at one shop."""

    lot: Lot
    units: int
    state: LotState


@dataclass
class ShopStock:
    """One product at one shop: units on hand (every lot), units that can be promised online now
    (sellable lots less live holds), and the lots on the shelf, first-expiring first."""

    shop: Shop
    on_hand: int = 0
    available: int = 0
    lots: list[LotLine] = field(default_factory=list)


@dataclass
class ProductStock:
    product: Product
    shops: list[ShopStock]

    @property
    def on_hand(self) -> int:
        return sum(s.on_hand for s in self.shops)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.shops)


def stock_of(producer_id: int, now: datetime | None = None) -> list[ProductStock]:
    """Every product of the producer with, per shop, the lots on hand (code, best-before date, state:
    on sale, short-dated, past its date, recalled) and what can be promised online.

    Three queries whatever the number of lots: the products, the lots with units, the availability
    (``inventory.availability_matrix``). Shops with no units of a product are left out.
    """
    now = now or utcnow()
    products = products_of(producer_id)
    ids = [p.id for p in products]
    if not ids:
        return []
    rows = db.session.execute(
        select(LotStock.product_id, Shop, Lot, LotStock.on_hand)
        .join(Lot, Lot.id == LotStock.lot_id).join(Shop, Shop.id == LotStock.shop_id)
        .where(LotStock.product_id.in_(ids), LotStock.on_hand > 0)
        .order_by(LotStock.product_id, Shop.name, *inventory.fefo_order()))
    available = inventory.availability_matrix(ids, now=now)
    per_product: dict[int, dict[int, ShopStock]] = {pid: {} for pid in ids}
    for product_id, shop, lot, units in rows:
        entry = per_product[product_id].setdefault(
            shop.id, ShopStock(shop=shop, available=available.get((shop.id, product_id), 0)))
        entry.on_hand += units
        entry.lots.append(LotLine(lot=lot, units=units, state=inventory.lot_state(lot, now)))
    return [ProductStock(product=p, shops=list(per_product[p.id].values())) for p in products]


@dataclass
class MonthSales:
    month: date  # the first day of the month, Vietnam's calendar
    units: int = 0
    revenue: int = 0  # đồng


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(first: date, count: int) -> list[date]:
    months = [first]
    for _ in range(count - 1):
        prev = months[-1]
        months.append(date(prev.year - 1, 12, 1) if prev.month == 1 else date(prev.year, prev.month - 1, 1))
    return list(reversed(months))


def sales_by_month(producer_id: int, months: int = SALES_MONTHS, now: datetime | None = None) -> list[MonthSales]:
    """Units sold and revenue (đồng) of the producer's products per calendar month (Vietnam's
    calendar), the last ``months`` months including this one, oldest first; months without sales
    are 0.

    A unit counts when the ledger records it as sold for an order (a ``sale`` row naming the
    order's hold: at payment for card and transfer orders, at hand-over for cash ones), in the month
    of that row; units given back (``release`` after a cancelled paid order, ``return``) are taken
    off in the month they came back. Revenue is units × the order line's unit price (the price the
    customer paid, not today's price). Shipping is not revenue of the producer.
    """
    now = now or utcnow()
    local_now = now.astimezone(VN_TZ)
    buckets = _months_back(_month_start(local_now.date()), months)
    start = datetime.combine(buckets[0], time.min, tzinfo=VN_TZ)
    rows = db.session.execute(
        select(StockMovement.created_at, StockMovement.delta, OrderLine.unit_price)
        .join(Reservation, Reservation.id == StockMovement.reservation_id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Product, Product.id == StockMovement.product_id)
        .where(Product.producer_id == producer_id, StockMovement.created_at >= start,
               StockMovement.reason.in_((MovementReason.SALE, MovementReason.RELEASE, MovementReason.RETURN))))
    by_month = {month: MonthSales(month=month) for month in buckets}
    for at, delta, unit_price in rows:
        month = _month_start(at.astimezone(VN_TZ).date())
        if month in by_month:
            by_month[month].units -= delta
            by_month[month].revenue -= delta * unit_price
    return [by_month[month] for month in buckets]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    """A bar chart's geometry in a ``width`` × ``height`` viewBox (SVG user units)."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    top_value: int


def bar_chart(values: list[tuple[str, int]], width: int = 360, height: int = 160, label_room: int = 18,
              top_room: int = 14) -> Chart:
    """Bars for (label, value) pairs, scaled to the largest value (negatives drawn as 0: a month
    with more returns than sales). Pure arithmetic, so the template only draws rectangles."""
    count = max(1, len(values))
    top = max([v for _, v in values] + [0])
    slot = width / count
    baseline = height - label_room
    usable = baseline - top_room
    bars = []
    for i, (label, value) in enumerate(values):
        h = 0.0 if top <= 0 else usable * max(0, value) / top
        bars.append(Bar(x=round(i * slot + slot * 0.15, 2), y=round(baseline - h, 2), width=round(slot * 0.7, 2),
                        height=round(h, 2), label=label, value=value))
    return Chart(width=width, height=height, baseline=baseline, bars=tuple(bars), top_value=top)
