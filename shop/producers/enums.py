"""The producers area's vocabulary, with labels in both languages (message ids English)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class ProducerKind(LabelledEnum):
    """The legal form of an OCOP producer (chủ thể OCOP, ``Producer.kind``). ``OTHER`` is shown as
    plain "Producer" (a kind the shop does not name)."""

    COOPERATIVE = "cooperative", _l("Cooperative")
    COOPERATIVE_GROUP = "cooperative_group", _l("Cooperative group")
    COMPANY = "company", _l("Company")
    HOUSEHOLD = "household", _l("Household business")
    OTHER = "other", _l("Producer")
