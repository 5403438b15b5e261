from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin, TimestampMixin
from shop.orders.enums import (FulfilmentStatus, FulfilmentType, OrderState, OrderStatus, PaymentMethod,
                               PaymentStatus, ShipmentState)
from shop.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from shop.catalog.models import Product
    from shop.inventory.models import Reservation
    from shop.shops.models import Shop

# Statuses in which an order waits (for money, for staff to confirm it, for the customer to come)
# while its stock is held until ``hold_expires_at``. Past that instant the order is shown as
# EXPIRED at once, and ``flask release-expired`` later cancels it (shop/orders/services.py).
WAITING_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP)


def email_key(email: str | None) -> str:
    """The form of an address used to recognise one customer: lower case, without a ``+tag``.

    ``Lan+1@Example.vn`` and ``lan@example.vn`` reach the same mailbox, so they count as one
    customer for the per-customer limits on open orders.
    """
    local, _, domain = (email or "").strip().lower().rpartition("@")
    if not local:
        return domain
    return f"{local.split('+', 1)[0]}@{domain}"


class Order(TimestampMixin, db.Model):
    """A customer's order. Totals are whole đồng computed on the server; lines keep a snapshot."""

    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("total = subtotal + shipping_fee", name="total_adds_up"),
        CheckConstraint("subtotal >= 0 AND shipping_fee >= 0", name="amounts_not_negative"),
        CheckConstraint("amount_refunded >= 0", name="refunded_not_negative"),
        check_in("status", OrderStatus.stored(), name="status_known"),
        check_in("fulfilment", FulfilmentType, name="fulfilment_known"),
        check_in("payment_method", PaymentMethod, name="payment_method_known"),
        check_in("payment_status", PaymentStatus, name="payment_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[OrderStatus] = mapped_column(EnumText(OrderStatus), index=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200))
    email_key: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    fulfilment: Mapped[FulfilmentType] = mapped_column(EnumText(FulfilmentType))
    pickup_shop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shop.id"))
    address_street: Mapped[str] = mapped_column(String(200), default="")
    address_ward: Mapped[str] = mapped_column(String(120), default="")
    address_province: Mapped[str] = mapped_column(String(120), default="")
    payment_method: Mapped[PaymentMethod] = mapped_column(EnumText(PaymentMethod))
    # Where the money stands, apart from the goods (set by shop/orders/services.py only).
    payment_status: Mapped[PaymentStatus] = mapped_column(
        EnumText(PaymentStatus), default=PaymentStatus.UNPAID, server_default=PaymentStatus.UNPAID.value, index=True)
    # Đồng given back to the customer so far, whatever the method (``refund_recorded``).
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    subtotal: Mapped[int] = mapped_column(Integer)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    # The language the customer placed the order in (``vi`` or ``en``, see shop/i18n.py): its
    # emails are written in it, whatever page language sends them.
    lang: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    hold_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # The signed-in customer who placed it (None for a guest; history also finds guest orders by
    # verified e-mail, shop/accounts/services.py::orders_of).
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    # Set when staff must look at the order (money with no stock, a certificate that lapsed while
    # the order was open…); the reasons accumulate in review_reason. Staff end it with
    # `flask order resolve` (shop/orders/services.py::resolve_flag).
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The mixin's column, indexed: order lists and the per-customer limits read by it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    pickup_shop: Mapped[Optional["Shop"]] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )
    shipments: Mapped[list["Shipment"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )

    @validates("status", "fulfilment", "payment_method", "payment_status")
    def _coded(self, key, value):
        """Coded values become their enum member on assignment (``ValueError`` for an unknown code),
        so code reading a new, unsaved order sees the same types as one loaded from the database."""
        return {"status": OrderStatus, "fulfilment": FulfilmentType, "payment_method": PaymentMethod,
                "payment_status": PaymentStatus}[key](value)

    @validates("email")
    def _keep_email_key(self, _key, value):
        self.email_key = email_key(value)
        return value

    def hold_expired(self, now: datetime | None = None) -> bool:
        """True when the order waits with a stock hold whose deadline has passed.

        Its units already count as available to others (``inventory.active_hold_clause``); the
        order is shown as expired from that instant, whether or not ``release-expired`` has run.
        """
        if self.status == OrderStatus.READY_FOR_PICKUP and not self.payment_method.paid_at_hand_over:
            return False  # paid already: the customer's goods wait for them, sold
        return (self.status in WAITING_STATUSES and self.hold_expires_at is not None
                and self.hold_expires_at <= (now or utcnow()))

    def shown_status(self, now: datetime | None = None) -> OrderStatus:
        """The status to show customers, staff and API clients: ``EXPIRED`` or the stored one."""
        return OrderStatus.EXPIRED if self.hold_expired(now) else self.status

    @property
    def fulfilment_status(self) -> FulfilmentStatus:
        """How far the goods are, from the shipments not cancelled: unfulfilled, partly shipped,
        shipped, partly delivered, delivered; or ready for pick-up, collected. Every shipment
        cancelled (or none): nothing to send."""
        active = [s.state for s in self.shipments if s.state != ShipmentState.CANCELLED]
        if not active:
            return FulfilmentStatus.CANCELLED if self.shipments else FulfilmentStatus.UNFULFILLED
        if self.fulfilment == FulfilmentType.PICKUP:
            if all(s == ShipmentState.COLLECTED for s in active):
                return FulfilmentStatus.COLLECTED
            if all(s in (ShipmentState.READY_FOR_PICKUP, ShipmentState.COLLECTED) for s in active):
                return FulfilmentStatus.READY_FOR_PICKUP
            return FulfilmentStatus.UNFULFILLED
        delivered = sum(s == ShipmentState.DELIVERED for s in active)
        gone = sum(s in (ShipmentState.SHIPPED, ShipmentState.DELIVERED) for s in active)
        if delivered == len(active):
            return FulfilmentStatus.DELIVERED
        if delivered:
            return FulfilmentStatus.PARTLY_DELIVERED
        if gone == len(active):
            return FulfilmentStatus.SHIPPED
        return FulfilmentStatus.PARTLY_SHIPPED if gone else FulfilmentStatus.UNFULFILLED

    @property
    def state(self) -> OrderState:
        """Open, completed (goods delivered or collected and the money settled) or cancelled.

        A refunded order is completed when its goods had reached the customer (a return), else
        cancelled (refunded before hand-over).
        """
        if self.status == OrderStatus.CANCELLED:
            return OrderState.CANCELLED
        handed_over = any(s.state in (ShipmentState.DELIVERED, ShipmentState.COLLECTED) for s in self.shipments)
        if self.status == OrderStatus.REFUNDED:
            return OrderState.COMPLETED if handed_over or not self.shipments else OrderState.CANCELLED
        settled = self.payment_status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED,
                                          PaymentStatus.REFUNDED)
        done = self.fulfilment_status in (FulfilmentStatus.DELIVERED, FulfilmentStatus.COLLECTED)
        return OrderState.COMPLETED if done and settled else OrderState.OPEN

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.address_street, self.address_ward, self.address_province) if p)


class OrderLine(db.Model):
    """A snapshot of what was bought: the product may change or vanish later, the line does not.

    Names and units are kept in both languages (``product_name``/``unit`` Vietnamese,
    ``product_name_en``/``unit_en`` English, empty when the product had no translation), so that
    the order page and emails follow the reader's language: ``localized(line, "product_name")``.
    """

    __tablename__ = "order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    product_name: Mapped[str] = mapped_column(String(200))
    product_name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    product_slug: Mapped[str] = mapped_column(String(160), default="")
    unit: Mapped[str] = mapped_column(String(60), default="")
    unit_en: Mapped[str] = mapped_column(String(60), default="", server_default="")
    unit_price: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)

    order: Mapped["Order"] = relationship(back_populates="lines")
    product: Mapped[Optional["Product"]] = relationship()
    reservations: Mapped[list["Reservation"]] = relationship(back_populates="line", order_by="Reservation.id")


class Shipment(TimestampMixin, db.Model):
    """The part of an order that one source shop prepares and sends (or hands over): one per shop.

    Its lines are the order's reservations at its shop (``reservations``: order line, quantity),
    so a line split across two shops appears in both shipments with each shop's quantity. The
    state changes only through ``shop.orders.services`` (``pack``, ``ship``, ``deliver``, …); each
    change is an ``OrderEvent`` naming the shipment. ``left_at`` is when the goods left the shop
    (shipped or collected): from then on they come back only as returns.
    """

    __tablename__ = "shipment"
    __table_args__ = (
        UniqueConstraint("order_id", "shop_id", name="uq_shipment_order_shop"),
        check_in("state", ShipmentState, name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    state: Mapped[ShipmentState] = mapped_column(EnumText(ShipmentState), default=ShipmentState.TO_PREPARE,
                                                 index=True)
    carrier: Mapped[str] = mapped_column(String(80), default="", server_default="")
    tracking_number: Mapped[str] = mapped_column(String(80), default="", server_default="")
    left_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    order: Mapped["Order"] = relationship(back_populates="shipments")
    shop: Mapped["Shop"] = relationship()

    @validates("state")
    def _coded(self, _key, value):
        return ShipmentState(value)

    @property
    def reservations(self) -> list["Reservation"]:
        """The order's reservations at this shop (released ones included: they say what was planned)."""
        return [r for line in self.order.lines for r in line.reservations if r.shop_id == self.shop_id]

    @property
    def left_the_shop(self) -> bool:
        return self.left_at is not None


class OrderEvent(CreatedMixin, db.Model):
    """One entry of an order's history: a status transition, a note, or a shipment's step.

    For a shipment's step (``shipment_id`` set) the statuses are ``ShipmentState`` values;
    otherwise ``OrderStatus`` values (from = to for a note).
    """

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    shipment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shipment.id"), index=True)
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120), default="system")
    # The signed-in person who caused it (shop/accounts/audit.py fills it in); ``actor`` keeps a
    # readable name even if the account is later closed.
    actor_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped["Order"] = relationship(back_populates="events")
    shipment: Mapped[Optional["Shipment"]] = relationship()

    def status_label(self, value: str | None) -> str:
        """The label of one of this event's statuses, from the vocabulary it belongs to."""
        return (ShipmentState if self.shipment_id is not None else OrderStatus).label_of(value)
