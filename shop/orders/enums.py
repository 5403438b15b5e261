"""The orders area's vocabulary: every coded value an order, its shipments and its payment status
can take, with its label in both languages (message ids English, Vietnamese in the catalogue).

Rules about these values (which transitions are allowed, what each one does to stock) live in
``shop/orders/services.py``; this module only names them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class OrderStatus(LabelledEnum):
    """The order's life-cycle status, stored in ``Order.status`` (API v1 ``status``).

    ``EXPIRED`` is shown, never stored: a waiting order whose hold deadline passed
    (``Order.shown_status``).
    """

    PENDING_PAYMENT = "pending_payment", _l("Awaiting payment")
    PLACED = "placed", _l("Placed")
    PAID = "paid", _l("Paid")
    PROCESSING = "processing", _l("Being prepared")
    SHIPPED = "shipped", _l("Shipped")
    DELIVERED = "delivered", _l("Delivered")
    READY_FOR_PICKUP = "ready_for_pickup", _l("Ready for pick-up")
    COLLECTED = "collected", _l("Collected")
    CANCELLED = "cancelled", _l("Cancelled")
    REFUNDED = "refunded", _l("Refunded")
    EXPIRED = "expired", _l("Expired")

    @classmethod
    def stored(cls) -> tuple["OrderStatus", ...]:
        """The statuses an order row can hold (all but the shown-only ``EXPIRED``)."""
        return tuple(s for s in cls if s is not cls.EXPIRED)


class FulfilmentType(LabelledEnum):
    """How the customer receives the order (``Order.fulfilment``)."""

    DELIVERY = "delivery", _l("Home delivery")
    PICKUP = "pickup", _l("Pick up at a shop")


class PaymentMethod(LabelledEnum):
    """How the customer pays (``Order.payment_method``)."""

    COD = "cod", _l("Cash on delivery")
    BANK_TRANSFER = "bank_transfer", _l("Bank transfer (VietQR)")
    PAY_AT_SHOP = "pay_at_shop", _l("Pay at the shop")
    CARD = "card", _l("Bank card")

    @property
    def prepaid(self) -> bool:
        """Paid before hand-over (card, bank transfer): stock is sold at payment."""
        return self in (PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER)

    @property
    def paid_at_hand_over(self) -> bool:
        """Paid when the goods are handed over (cash on delivery, at the shop): stock held till then."""
        return self in (PaymentMethod.COD, PaymentMethod.PAY_AT_SHOP)
