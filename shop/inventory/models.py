from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.timeutil import UTCDateTime, utcnow

MOVEMENT_REASONS = (
    "receive", "sale", "adjust", "count", "transfer_out", "transfer_in", "return", "release",
)


class StockLevel(db.Model):
    """How many units of a product a shop has on hand; always the sum of its ledger rows."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("shop_id", "product_id", name="uq_stock_level_shop_product"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop = relationship("Shop")
    product = relationship("Product")

    @property
    def is_low(self) -> bool:
        return self.on_hand <= self.low_stock_threshold


class StockMovement(db.Model):
    """One row of the stock ledger. Rows are only ever added, never changed."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_stock_movement_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    reference: Mapped[Optional[str]] = mapped_column(String(80))
    user_id: Mapped[Optional[int]] = mapped_column(Integer)  # FK added with accounts
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    shop = relationship("Shop")
    product = relationship("Product")


RESERVATION_STATES = ("held", "committed", "released")


class Reservation(db.Model):
    """Units of one order line held at one shop until payment or hand-over commits them.

    A held reservation with ``expires_at`` in the past no longer counts against availability, even
    before ``flask release-expired`` marks it released. Lines split across shops have one
    reservation per source shop, so reservations are also the record of where a line comes from.
    """

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_reservation_shop_product_state", "shop_id", "product_id", "state"),
        Index("ix_reservation_product_state", "product_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="held")
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop = relationship("Shop")
    product = relationship("Product")
    line = relationship("OrderLine", back_populates="reservations")
