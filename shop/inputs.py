"""Reading what people and programs send: whole numbers and bounded text, one way everywhere.

Every number taken from a request (form fields, query strings, JSON bodies, URL paths, command
line arguments) goes through ``whole_number`` before it is used: ASCII digits only (not "١٢",
"1_000", "+3" or "٣"), a bounded length (``int()`` never sees 4,301 digits) and a range.

Every text written into a bounded column goes through ``column_text``: normalised first (NFC,
the form PostgreSQL compares and counts), then measured against the column's own declared
length, so a value that grows under normalisation cannot pass the check and then fail on the
database.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _
from werkzeug.routing import BaseConverter, ValidationError

from shop.errors import InvalidInput

# PostgreSQL INTEGER, the type of every id and quantity column: 1 .. 2**31 - 1.
DB_INT_MAX = 2**31 - 1
# No whole number the shop reads is longer than this (ids, quantities, pages, amounts in đồng).
MAX_DIGITS = 18
MAX_WHOLE_NUMBER = 10**MAX_DIGITS - 1
_ASCII_DIGITS = re.compile(r"-?[0-9]{1,%d}" % MAX_DIGITS)
# Control characters (line breaks included), and lone surrogates (not UTF-8): never in a field.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def whole_number(raw: object, low: int = 0, high: int = DB_INT_MAX) -> int | None:
    """``raw`` as an int from ``low`` to ``high`` (inclusive), or None when it is not one.

    ``raw`` is text (surrounding white space allowed; ASCII digits only, at most ``MAX_DIGITS``,
    no "+", no underscores; a "-" only when ``low`` is negative) or, from a JSON body, an int
    (``True`` is not a number). Callers turn None into their own error: a form message, a 400
    naming the field, a 404 for an id.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not _ASCII_DIGITS.fullmatch(text) or (text.startswith("-") and low >= 0):
            return None
        value = int(text)
    else:
        return None
    return value if low <= value <= high else None


def column_length(column) -> int:
    """The declared length of a ``String(n)`` column: ``column_length(Order.email)`` → 200."""
    length = getattr(getattr(getattr(column, "expression", column), "type", None), "length", None)
    if not length:
        raise TypeError(f"{column} has no declared length")
    return length


def normalize_text(raw: str | None) -> str:
    """NFC and stripped: the form the database stores and counts (Vietnamese typed as NFD shrinks)."""
    return unicodedata.normalize("NFC", raw or "").strip()


def column_text(raw: str | None, column, field: str, *, min_length: int = 0,
                message: str | None = None) -> str:
    """``raw`` normalised (``normalize_text``) and checked to fit ``column`` (a ``String(n)`` model column).

    Raises ``InvalidInput(field=field)``: control characters; shorter than ``min_length``
    (``message`` if given, else a generic one); longer than the column after normalisation.
    """
    text = normalize_text(raw)
    if _CONTROL.search(text):
        raise InvalidInput(_("This field contains characters we cannot accept."), field=field)
    if len(text) < min_length:
        raise InvalidInput(message or _("Please fill in this field."), field=field)
    limit = column_length(column)
    if len(text) > limit:
        raise InvalidInput(_("This is too long: at most %(n)d characters.", n=limit), field=field)
    return text


class IdConverter(BaseConverter):
    """``<id:product_id>`` in a URL: a database id read by ``whole_number`` (ASCII digits, 1 ..
    2**31-1). Anything else does not match the route, so the client gets a plain 404. Werkzeug's
    ``int`` converter would accept "١٢" (any Unicode digit) as 12."""

    regex = r"[0-9]{1,%d}" % MAX_DIGITS
    weight = 50

    def to_python(self, value: str) -> int:
        number = whole_number(value, 1, DB_INT_MAX)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def init_app(app) -> None:
    app.url_map.converters["id"] = IdConverter
