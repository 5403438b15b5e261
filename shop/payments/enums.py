"""The payments area's vocabulary: payment records, refunds, providers, the card return page's
states, and the few words of Stripe's own vocabulary the shop reads (not ours: Stripe defines them).

Rules (which status may follow which) live in ``shop/payments/services.py``.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class PaymentRecordStatus(LabelledEnum):
    """What became of one ``Payment`` row (a card attempt, or the booking of offline money).

    pending: a Checkout Session is being created or is open; processing: the customer completed
    Checkout with a delayed method and Stripe waits for the money; succeeded: the money arrived;
    failed / expired: it never will; mismatch: Stripe reports an amount or currency that is not the
    order's (never marks the order paid); partially_refunded / refunded: money went back.
    """

    PENDING = "pending", _l("Pending")
    PROCESSING = "processing", _l("Being processed")
    SUCCEEDED = "succeeded", _l("Received")
    FAILED = "failed", _l("Failed")
    EXPIRED = "expired", _l("Expired")
    MISMATCH = "mismatch", _l("Amount does not match")
    PARTIALLY_REFUNDED = "partially_refunded", _l("Partly refunded")
    REFUNDED = "refunded", _l("Refunded")


class RefundStatus(LabelledEnum):
    """A refund's status: ``requested`` (written before Stripe is asked), then Stripe's own refund
    status (the same words for refunds recorded by staff: ``succeeded``)."""

    REQUESTED = "requested", _l("Requested")
    PENDING = "pending", _l("Pending")
    REQUIRES_ACTION = "requires_action", _l("Waiting for action")
    SUCCEEDED = "succeeded", _l("Refunded")
    FAILED = "failed", _l("Failed")
    CANCELED = "canceled", _l("Cancelled")

    @property
    def money_out(self) -> bool:
        """Whether the money is (or may still be) on its way back; failed and canceled are not."""
        return self not in (RefundStatus.FAILED, RefundStatus.CANCELED)


class PaymentProvider(LabelledEnum):
    """Who holds the money of a ``Payment`` row: Stripe (card), the shop's bank account, or cash."""

    STRIPE = "stripe", _l("by card")
    BANK_TRANSFER = "bank_transfer", _l("by bank transfer")
    CASH = "cash", _l("in cash")


class CheckoutState(LabelledEnum):
    """How a card payment stands for the customer on the return page (``session_state``).

    confirming: Stripe has the money, our webhook has not arrived yet; processing: a delayed method
    is under way; review: staff must look at the payment; unknown: Stripe could not be asked.
    """

    PAID = "paid"
    CONFIRMING = "confirming"
    PROCESSING = "processing"
    NOT_PAID = "not_paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    REVIEW = "review"
    UNKNOWN = "unknown"


# ---- Stripe's vocabulary (read from its objects; the shop never stores these) ------------------


class StripeSessionStatus(enum.StrEnum):
    """``CheckoutSession.status``."""

    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class StripePaymentStatus(enum.StrEnum):
    """``CheckoutSession.payment_status``: whether the money was taken."""

    PAID = "paid"
    UNPAID = "unpaid"
    NO_PAYMENT_REQUIRED = "no_payment_required"

    @property
    def money_taken(self) -> bool:
        return self in (StripePaymentStatus.PAID, StripePaymentStatus.NO_PAYMENT_REQUIRED)


class StatementMatch(LabelledEnum):
    """How one credit of a bank statement fits the order its description names
    (``statement_line.kind``; ``shop.payments.statements.classify``).

    match: a bank-transfer order awaiting payment, the amount is its total, paid in time;
    wrong_amount: awaiting payment, but the amount differs from the total; late: the transfer came
    after the time to pay (the order expired or was cancelled); already_paid: the order was paid
    already (a second transfer); not_transfer: the order is paid another way (card, cash);
    unknown: no order number in the description, several, or one that does not exist.
    """

    MATCH = "match", _l("Matches")
    WRONG_AMOUNT = "wrong_amount", _l("Wrong amount")
    LATE = "late", _l("Late transfer")
    ALREADY_PAID = "already_paid", _l("Already paid")
    NOT_TRANSFER = "not_transfer", _l("Not a bank-transfer order")
    UNKNOWN = "unknown", _l("Unknown reference")


class StatementLineState(LabelledEnum):
    """What became of a recorded statement credit (``statement_line.state``): to_decide (a person
    must look at it), confirmed (the order was marked paid from it), set_aside (a person decided
    it needs nothing from the shop here and said why in a note)."""

    TO_DECIDE = "to_decide", _l("To decide")
    CONFIRMED = "confirmed", _l("Confirmed")
    SET_ASIDE = "set_aside", _l("Set aside")
