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


class ShipmentState(LabelledEnum):
    """Where one shipment (the part of an order that one source shop supplies) stands.

    Delivery: to prepare → packed → shipped (carrier, tracking number) → delivered. Pick-up: to
    prepare → packed → ready for pick-up → collected. Cancelled before it leaves, or a
    cash-on-delivery parcel refused at the door (its goods come back with ``return-goods``).
    """

    TO_PREPARE = "to_prepare", _l("To prepare")
    PACKED = "packed", _l("Packed")
    SHIPPED = "shipped", _l("Shipped")
    DELIVERED = "delivered", _l("Delivered")
    READY_FOR_PICKUP = "ready_for_pickup", _l("Ready for pick-up")
    COLLECTED = "collected", _l("Collected")
    CANCELLED = "cancelled", _l("Cancelled")


class PaymentStatus(LabelledEnum):
    """Where the order's money stands (``Order.payment_status``), apart from its goods.

    unpaid: nothing is asked yet (cash on delivery, pay at the shop) or the order ended unpaid;
    pending: the customer is to pay by card or transfer; paid: the shop has the money (for cash
    orders, once delivered or collected); partially_refunded / refunded: some / all of it went back.
    """

    UNPAID = "unpaid", _l("Not paid")
    PENDING = "pending", _l("Payment pending")
    PAID = "paid", _l("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _l("Partly refunded")
    REFUNDED = "refunded", _l("Refunded")


class FulfilmentStatus(LabelledEnum):
    """How far the order's goods are, read from its shipments (``Order.fulfilment_status``)."""

    UNFULFILLED = "unfulfilled", _l("Not sent yet")
    PARTLY_SHIPPED = "partly_shipped", _l("Partly shipped")
    SHIPPED = "shipped", _l("Shipped")
    PARTLY_DELIVERED = "partly_delivered", _l("Partly delivered")
    DELIVERED = "delivered", _l("Delivered")
    READY_FOR_PICKUP = "ready_for_pickup", _l("Ready for pick-up")
    COLLECTED = "collected", _l("Collected")
    CANCELLED = "cancelled", _l("Nothing to send")


class OrderState(LabelledEnum):
    """The order's own state (``Order.state``): open while something is still to happen to it."""

    OPEN = "open", _l("Open")
    COMPLETED = "completed", _l("Completed")
    CANCELLED = "cancelled", _l("Cancelled")
