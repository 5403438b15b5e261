from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod
from shop.timeutil import UTCDateTime, utcnow

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


class Order(db.Model):
    """A customer's order. Totals are whole đồng computed on the server; lines keep a snapshot."""

    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("total = subtotal + shipping_fee", name="total_adds_up"),
        CheckConstraint("subtotal >= 0 AND shipping_fee >= 0", name="amounts_not_negative"),
        check_in("status", OrderStatus.stored(), name="status_known"),
        check_in("fulfilment", FulfilmentType, name="fulfilment_known"),
        check_in("payment_method", PaymentMethod, name="payment_method_known"),
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
    subtotal: Mapped[int] = mapped_column(Integer)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    # The language the customer placed the order in (``vi`` or ``en``, see shop/i18n.py): its
    # emails are written in it, whatever page language sends them.
    lang: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    hold_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    # Set when staff must look at the order (money with no stock, a certificate that lapsed while
    # the order was open…); the reasons accumulate in review_reason. Staff end it with
    # `flask order resolve` (shop/orders/services.py::resolve_flag).
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    pickup_shop = relationship("Shop")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @validates("status", "fulfilment", "payment_method")
    def _coded(self, key, value):
        """Coded values become their enum member on assignment (``ValueError`` for an unknown code),
        so code reading a new, unsaved order sees the same types as one loaded from the database."""
        return {"status": OrderStatus, "fulfilment": FulfilmentType, "payment_method": PaymentMethod}[key](value)

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

    order = relationship("Order", back_populates="lines")
    product = relationship("Product")
    reservations = relationship("Reservation", back_populates="line", order_by="Reservation.id")


class OrderEvent(db.Model):
    """One entry of an order's history: a status transition or a note."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship("Order", back_populates="events")
