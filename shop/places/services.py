"""Naming places as certified and as they are today.

Vietnam reorganised its map on 1/7/2025 (Bắc Kạn merged into Thái Nguyên; districts abolished).
A producer's or shop's locality keeps the place as certified; ``successor`` links an old unit to
the one it was merged into. Addresses show both: "Côn Minh, Na Rì, Bắc Kạn (nay thuộc Thái
Nguyên)", so a visitor who knows only today's map still finds the place.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from shop.places.models import Locality
from shop.text import fold

# Levels of parents loaded with a place (commune → district → province, the deepest the map had).
LINEAGE_DEPTH = 3


def with_lineage(*attributes) -> list:
    """Loader options for the place at the end of ``attributes`` (``Producer.locality``, or
    ``Product.producer, Producer.locality``): the place, its parents up to the province, and each
    one's successor with its parent — everything ``place_label`` reads, in the same query (joins,
    no lazy loads per row)."""
    path = joinedload(attributes[0])
    for attribute in attributes[1:]:
        path = path.joinedload(attribute)
    options = []
    for _level in range(LINEAGE_DEPTH):
        options.append(path.joinedload(Locality.successor).joinedload(Locality.parent))
        path = path.joinedload(Locality.parent)
    options.append(path.joinedload(Locality.successor))
    return options


def place_label(place: Locality | None) -> str:
    """The place as certified, and today's unit when it was merged since.

    ``"Côn Minh, Na Rì, Bắc Kạn (nay thuộc Thái Nguyên)"`` in Vietnamese, ``"… (now part of Thái
    Nguyên)"`` in English; just ``full_name`` when nothing above the place was merged; "" for None.
    """
    if place is None:
        return ""
    today = place.current_unit()
    if today is None:
        return place.full_name
    return _("%(place)s (now part of %(today)s)", place=place.full_name, today=today.full_name)


def address_label(address: str | None, place: Locality | None) -> str:
    """A street address as written, completed with its province and today's unit when they are
    missing from the text: ``"Tiểu khu 5, thị trấn Chợ Rã, huyện Ba Bể, Bắc Kạn (nay thuộc Thái
    Nguyên)"``. For shop addresses shown where no locality line follows (checkout, order page,
    email); names are compared without accents or case. No place: the text as written."""
    text = (address or "").strip()
    if place is None:
        return text
    province = place.lineage()[-1]
    if fold(province.name) not in fold(text):
        text = f"{text}, {province.name}" if text else province.name
    today = place.current_unit()
    if today is not None and fold(today.name) not in fold(text):
        text = _("%(place)s (now part of %(today)s)", place=text, today=today.full_name)
    return text
