from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin, TimestampMixin
from shop.payments.enums import (PaymentProvider, PaymentRecordStatus, RefundStatus, StatementLineState,
                                 StatementMatch)
from shop.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from shop.orders.models import Order
    from shop.shops.models import Shop


class Payment(TimestampMixin, db.Model):
    """One attempt to pay an order by card: a Stripe Checkout Session and what became of it.

    Amounts are whole đồng (VND is zero-decimal for Stripe as well). ``needs_review`` marks payments
    that staff must look at: money taken for a cancelled order, a wrong amount, a double payment.
    """

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount >= 0 AND amount_refunded >= 0", name="amounts_not_negative"),
        check_in("status", PaymentRecordStatus, name="status_known"),
        check_in("provider", PaymentProvider, name="provider_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    provider: Mapped[PaymentProvider] = mapped_column(EnumText(PaymentProvider), default=PaymentProvider.STRIPE)
    # The Checkout Session id (cs_…), known once Stripe has answered.
    provider_reference: Mapped[Optional[str]] = mapped_column(String(255), unique=True)
    payment_intent: Mapped[Optional[str]] = mapped_column(String(255), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    # What Stripe says it charged, when it says so (differs from ``amount`` only on a mismatch).
    amount_received: Mapped[Optional[int]] = mapped_column(Integer)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[PaymentRecordStatus] = mapped_column(EnumText(PaymentRecordStatus),
                                                        default=PaymentRecordStatus.PENDING, index=True)
    checkout_url: Mapped[Optional[str]] = mapped_column(Text)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")

    order: Mapped["Order"] = relationship()
    refunds: Mapped[list["Refund"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="Refund.id"
    )

    @property
    def refundable(self) -> int:
        return max(0, (self.amount_received or self.amount) - self.amount_refunded)


class Refund(TimestampMixin, db.Model):
    """Money sent back for a payment, in full or in part, through Stripe's Refund API."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        check_in("status", RefundStatus, name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    provider_reference: Mapped[Optional[str]] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(100), unique=True)
    status: Mapped[RefundStatus] = mapped_column(EnumText(RefundStatus), default=RefundStatus.REQUESTED)
    actor: Mapped[str] = mapped_column(String(120), default="system")
    actor_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)  # shop/accounts/audit.py
    reason: Mapped[str] = mapped_column(Text, default="")

    payment: Mapped["Payment"] = relationship(back_populates="refunds")


class WebhookEvent(db.Model):
    """A provider event we have processed. The unique key makes a replayed delivery a no-op."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        check_in("provider", PaymentProvider, name="provider_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[PaymentProvider] = mapped_column(EnumText(PaymentProvider))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    # What handling it did, for whoever reads the table after an incident.
    outcome: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementLine(CreatedMixin, db.Model):
    """One credit of a bank statement, recorded when a statement is imported (issue 13).

    ``fingerprint`` (SHA-256 of the bank's date, amount, description and reference, and the
    line's rank among identical lines of the file) is unique: importing the same statement twice
    records and confirms nothing twice. ``kind`` is how the credit fitted its order when it was
    imported; ``state`` what became of it: a match is confirmed at once, anything else waits
    (``to_decide``) until a person confirms it or sets it aside with a note. Amounts whole đồng.
    """

    __tablename__ = "statement_line"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        check_in("kind", StatementMatch, name="kind_known"),
        check_in("state", StatementLineState, name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    bank_reference: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    # The order named in the description (None when there was none, or several).
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[StatementMatch] = mapped_column(EnumText(StatementMatch))
    state: Mapped[StatementLineState] = mapped_column(EnumText(StatementLineState), index=True)
    # The shop whose manager imported it: lines without an order are theirs to decide.
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    imported_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_actor: Mapped[str] = mapped_column(String(120), default="")
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Optional["Order"]] = relationship()
    shop: Mapped["Shop"] = relationship()
