"""Stock per shop and lot: levels, the ledger, holds, and the lots themselves.

Shapes: a ``Lot`` is one delivery of a product (the producer's lot code, production and
best-before dates, a recall); ``LotStock`` is units of one lot at one shop; ``StockLevel`` is the
total of a product at a shop (every lot, sellable or not): the row that holds and sales lock, and
where the low-stock threshold lives. ``StockMovement`` is the ledger: every row names its lot, so
``StockLevel.on_hand`` = Σ ``LotStock.on_hand`` of its lots = Σ ledger deltas (per product and
per lot), always. Holds (``Reservation``) are per shop × product, not per lot: lots are chosen
first-expiring-first when units leave (``shop.inventory.services.commit_reservation``).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin, TimestampMixin, UpdatedMixin
from shop.inventory.enums import LotState, MovementReason, ReservationState, TransferState  # noqa: F401 (re-exported)
from shop.inventory.rules import LOW_STOCK_THRESHOLD, is_low_stock
from shop.timeutil import VN_TZ, UTCDateTime, utcnow

if TYPE_CHECKING:
    from shop.catalog.models import Product
    from shop.orders.models import OrderLine
    from shop.shops.models import Shop


# The vocabulary lives in shop/inventory/enums.py; these names stay importable from here.
MOVEMENT_REASONS = MovementReason.values()
RESERVATION_STATES = ReservationState.values()


def expiry_instant(best_before: date | None) -> datetime | None:
    """The instant a lot expires: midnight in Vietnam at the end of its best-before day (UTC-aware).

    A lot is sellable through its best-before day (DOMAIN.md, "Lots, dates and food safety").
    """
    if best_before is None:
        return None
    return datetime.combine(best_before + timedelta(days=1), time(0), tzinfo=VN_TZ).astimezone(UTC)


class Lot(CreatedMixin, db.Model):
    """One lot (số lô) of a product: the producer's code, production date (NSX) and best-before
    date (HSD, optional for crafts), and a recall if there was one.

    ``expires_at`` is ``expiry_instant(best_before)``, stored so that SQL compares it with now
    (no job needed); ``set_dates`` keeps the two in step. A lot's stock per shop is in
    ``LotStock``; its received quantity and history are its ledger rows.
    """

    __tablename__ = "lot"
    __table_args__ = (
        UniqueConstraint("product_id", "code", name="uq_lot_product_code"),
        CheckConstraint("best_before IS NULL OR produced_on IS NULL OR best_before >= produced_on",
                        name="best_before_not_before_production"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    produced_on: Mapped[Optional[date]] = mapped_column(Date)
    best_before: Mapped[Optional[date]] = mapped_column(Date)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recalled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    recall_reason: Mapped[str] = mapped_column(Text, default="")
    recall_reference: Mapped[Optional[str]] = mapped_column(String(80))
    recalled_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))  # shop/accounts/audit.py

    product: Mapped["Product"] = relationship()

    def set_dates(self, produced_on: date | None, best_before: date | None) -> None:
        self.produced_on = produced_on
        self.best_before = best_before
        self.expires_at = expiry_instant(best_before)

    @property
    def recalled(self) -> bool:
        return self.recalled_at is not None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


class LotStock(db.Model):
    """Units of one lot at one shop; always the sum of that shop's ledger rows for the lot."""

    __tablename__ = "lot_stock"
    __table_args__ = (
        UniqueConstraint("shop_id", "lot_id", name="uq_lot_stock_shop_lot"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        Index("ix_lot_stock_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))  # the lot's, for the index
    on_hand: Mapped[int] = mapped_column(Integer, default=0)

    shop: Mapped["Shop"] = relationship()
    lot: Mapped["Lot"] = relationship()


class StockLevel(UpdatedMixin, db.Model):
    """How many units of a product a shop has on hand (all lots); always the sum of its ledger rows."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("shop_id", "product_id", name="uq_stock_level_shop_product"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=LOW_STOCK_THRESHOLD)

    shop: Mapped["Shop"] = relationship()
    product: Mapped["Product"] = relationship()

    @property
    def is_low(self) -> bool:
        """Running low at this shop, by this row's own threshold (``shop.inventory.rules``)."""
        return is_low_stock(self.on_hand, self.low_stock_threshold)


class StockMovement(CreatedMixin, db.Model):
    """One row of the stock ledger. Rows are only ever added, never changed.

    ``lot_id`` names the lot whose units moved; ``reservation_id`` the hold a sale, release or
    return belongs to (so an order line's lots and a lot's buyers are read from the ledger).
    """

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        check_in("reason", MovementReason, name="reason_known"),
        Index("ix_stock_movement_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    reservation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("reservation.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[MovementReason] = mapped_column(EnumText(MovementReason))
    reference: Mapped[Optional[str]] = mapped_column(String(80))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)  # shop/accounts/audit.py
    note: Mapped[str] = mapped_column(Text, default="")
    # The mixin's column, indexed: the ledger is read by time.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    shop: Mapped["Shop"] = relationship()
    product: Mapped["Product"] = relationship()
    lot: Mapped["Lot"] = relationship()


class Reservation(TimestampMixin, db.Model):
    """Units of one order line held at one shop until payment or hand-over commits them.

    A held reservation with ``expires_at`` in the past no longer counts against availability, even
    before ``flask release-expired`` marks it released. Lines split across shops have one
    reservation per source shop, so reservations are also the record of where a line comes from.
    Which lots a committed reservation took is in the ledger (``services.lots_taken``).
    """

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        check_in("state", ReservationState, name="state_known"),
        Index("ix_reservation_shop_product_state", "shop_id", "product_id", "state"),
        Index("ix_reservation_product_state", "product_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[ReservationState] = mapped_column(EnumText(ReservationState), default=ReservationState.HELD)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    shop: Mapped["Shop"] = relationship()
    product: Mapped["Product"] = relationship()
    line: Mapped["OrderLine"] = relationship(back_populates="reservations")


class Transfer(CreatedMixin, db.Model):
    """Units sent from one shop to another, in two steps (``services.send_transfer`` /
    ``receive_transfer``, or ``cancel_transfer`` before it arrives).

    Sending writes ``transfer_out`` rows at the sender (the units are in transit: in nobody's
    stock); receiving writes ``transfer_in`` rows at the receiver for what arrived, and each line
    keeps what was sent and what was received, so a difference stays on record. Cancelling puts the
    units back at the sender (``transfer_in``). Ledger rows name the transfer as ``T-<id>``.
    """

    __tablename__ = "stock_transfer"
    __table_args__ = (
        CheckConstraint("from_shop_id <> to_shop_id", name="two_shops"),
        check_in("state", TransferState, name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    to_shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    state: Mapped[TransferState] = mapped_column(EnumText(TransferState), default=TransferState.SENT, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    sent_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    closed_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closing_note: Mapped[str] = mapped_column(Text, default="")

    from_shop: Mapped["Shop"] = relationship(foreign_keys=[from_shop_id])
    to_shop: Mapped["Shop"] = relationship(foreign_keys=[to_shop_id])
    lines: Mapped[list["TransferLine"]] = relationship(back_populates="transfer", order_by="TransferLine.id")

    @property
    def reference(self) -> str:
        """How ledger rows name this transfer."""
        return f"T-{self.id}"


class TransferLine(db.Model):
    """Units of one lot in a transfer: sent, and received (None until the transfer is received)."""

    __tablename__ = "stock_transfer_line"
    __table_args__ = (
        CheckConstraint("quantity_sent > 0", name="sent_positive"),
        CheckConstraint("quantity_received IS NULL OR quantity_received >= 0", name="received_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    quantity_sent: Mapped[int] = mapped_column(Integer)
    quantity_received: Mapped[Optional[int]] = mapped_column(Integer)

    transfer: Mapped["Transfer"] = relationship(back_populates="lines")
    product: Mapped["Product"] = relationship()
    lot: Mapped["Lot"] = relationship()
