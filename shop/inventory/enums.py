"""The inventory area's vocabulary: ledger reasons, hold states and lot states, with their labels
in both languages (message ids English).

Rules (which movement may happen, when a lot is sellable) live in ``shop/inventory/services.py``;
this module only names them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class MovementReason(LabelledEnum):
    """Why a ledger row changed stock (``stock_movement.reason``)."""

    RECEIVE = "receive", _l("goods received")
    SALE = "sale", _l("sold to a customer")
    ADJUST = "adjust", _l("stock adjusted")
    COUNT = "count", _l("stock count")
    TRANSFER_OUT = "transfer_out", _l("sent to another shop")
    TRANSFER_IN = "transfer_in", _l("received from another shop")
    RETURN = "return", _l("returned by the customer")
    RELEASE = "release", _l("back on the shelf")
    WRITE_OFF = "write_off", _l("written off")
    RECALL = "recall", _l("withdrawn for a recall")


class ReservationState(LabelledEnum):
    """A hold's state (``reservation.state``): ``held`` counts against availability until it
    expires; ``committed`` units were sold (ledger ``sale``); ``released`` units went back (or never
    left)."""

    HELD = "held", _l("units held")
    COMMITTED = "committed", _l("units sold")
    RELEASED = "released", _l("hold released")


class LotState(LabelledEnum):
    """Where a lot stands at an instant (``shop.inventory.services.lot_state``): sold online,
    kept for the counter (inside the online margin), past its best-before day, or recalled.
    Computed, never stored."""

    SELLABLE = "sellable", _l("On sale")
    SHORT_DATED = "short_dated", _l("Short-dated: for the counter")
    EXPIRED = "expired", _l("Past its best-before date")
    RECALLED = "recalled", _l("Recalled")


class TransferState(LabelledEnum):
    """A transfer between two shops (``stock_transfer.state``): sent (the units left the sender
    and are in transit), received (they entered the receiver's stock, a difference recorded), or
    cancelled before it was received (the units went back to the sender)."""

    SENT = "sent", _l("In transit")
    RECEIVED = "received", _l("Received")
    CANCELLED = "cancelled", _l("Cancelled")
