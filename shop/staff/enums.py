"""The staff workspace's own vocabulary: why stock is adjusted by hand. Not stored as a column:
the ledger row's reason is ``adjust``, and the note starts with this label (in Vietnamese, the
shop's language, so the ledger reads the same whoever made the change)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class AdjustReason(LabelledEnum):
    """Why a clerk adjusts stock; ``FOUND`` adds units, the others take them away."""

    BROKEN = "broken", _l("Broken or damaged")
    GIFT = "gift", _l("Given as a gift")
    SAMPLE = "sample", _l("Used as a tasting sample")
    FOUND = "found", _l("Found on the shelf")

    @property
    def sign(self) -> int:
        return 1 if self is AdjustReason.FOUND else -1
