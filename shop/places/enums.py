"""The places area's vocabulary: administrative levels, with labels in both languages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class PlaceKind(LabelledEnum):
    """The administrative level of a ``Locality`` (``Locality.kind``): province and centrally run
    city (tỉnh, thành phố), district (huyện), town (thị trấn), ward (phường), commune (xã). Since
    1/7/2025 provinces hold communes and wards directly; the older levels stay for places as
    certified."""

    PROVINCE = "province", _l("Province")
    CITY = "city", _l("City")
    DISTRICT = "district", _l("District")
    TOWN = "town", _l("Town")
    WARD = "ward", _l("Ward")
    COMMUNE = "commune", _l("Commune")
