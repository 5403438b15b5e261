from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.timeutil import UTCDateTime, utcnow

FULFILMENTS = ("delivery", "pickup")
PAYMENT_METHODS = ("cod", "bank_transfer", "pay_at_shop", "card")


class Order(db.Model):
    """A customer's order. Totals are whole đồng computed on the server; lines keep a snapshot."""

    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("total = subtotal + shipping_fee", name="total_adds_up"),
        CheckConstraint("subtotal >= 0 AND shipping_fee >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    fulfilment: Mapped[str] = mapped_column(String(20))
    pickup_shop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shop.id"))
    address_street: Mapped[str] = mapped_column(String(200), default="")
    address_ward: Mapped[str] = mapped_column(String(120), default="")
    address_province: Mapped[str] = mapped_column(String(120), default="")
    payment_method: Mapped[str] = mapped_column(String(20))
    subtotal: Mapped[int] = mapped_column(Integer)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    # The language the customer placed the order in (``vi`` or ``en``, see shop/i18n.py): its
    # emails are written in it, whatever page language sends them.
    lang: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    hold_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    pickup_shop = relationship("Shop")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

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
