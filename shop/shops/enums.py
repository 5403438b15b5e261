"""The shops area's vocabulary, with labels in both languages (message ids English)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class ShopKind(LabelledEnum):
    """What an outlet is (``Shop.kind``): a shop customers visit, or a warehouse that only holds and
    sends stock (its units count online, but it is not listed as a place to buy)."""

    SHOP = "shop", _l("Shop")
    WAREHOUSE = "warehouse", _l("Warehouse")
