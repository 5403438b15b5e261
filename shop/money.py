"""Money is whole Vietnamese đồng (int) end to end: this module formats it and reads it back.

``format_vnd`` is the one way amounts are shown; ``parse_vnd`` is the one way an amount typed by a
person (staff at the command line, an operator in the environment, back-office forms later)
becomes an int. Nothing else strips separators or calls ``int()`` on typed money.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from shop.errors import InvalidInput

# The largest amount a person may type: every money column is a 32-bit INTEGER (PostgreSQL),
# and no single order, fee or refund of a provincial shop comes near 2 billion đồng.
MAX_VND = 2_000_000_000
# Longest text looked at, checked before any regex or int(): "2.000.000.000 VND" is 17 characters.
MAX_AMOUNT_TEXT = 32
# What may follow the number: the đồng sign, the letter đ (or "đồng"), VND/VNĐ, in any case.
_CURRENCY = re.compile(r"(?:₫|đồng|đ|vnđ|vnd)$", re.IGNORECASE)
# Spaces people (and format_vnd's non-breaking space) put between number and currency or groups.
_SPACES = "\u0020\u00a0\u202f\u2009"
# Group separators: the dot (Vietnamese style), the comma (English style) or a space.
_SEPARATORS = ".," + _SPACES


def format_vnd(amount: int | None) -> str:
    """``120000`` → ``'120.000 ₫'`` (dot thousands separator, no minor unit, non-breaking space)."""
    if amount is None:
        return ""
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", ".")
    return f"{sign}{digits}\u00a0₫"


def parse_vnd(text: str | None, *, field: str = "amount") -> int:
    """An amount in whole đồng as a person types it → int đồng (0 … ``MAX_VND``). Never rounds.

    Accepted: ``250000``, ``250.000``, ``250,000``, ``250 000``, with or without ``₫``, ``đ``,
    ``đồng``, ``VND`` or ``VNĐ`` after it (``250.000 ₫``, ``250000đ``, ``250.000 VND``), and what
    ``format_vnd`` prints. Groups after the first have exactly three digits and all use the same
    separator. Refused with ``InvalidInput`` (message in the current language, ``field`` in its
    details): empty text, more than ``MAX_AMOUNT_TEXT`` characters (checked before anything else),
    a sign (``-5000``, ``+5000``), a decimal part (``250000.50``, ``1,000.00``), wrong grouping
    (``25.00.00``, ``1.0000``), mixed separators (``1.000,000``), digits other than ASCII 0-9
    (``٢٥٠``), and amounts above ``MAX_VND``. Đồng has no minor unit in use (ISO 4217 lists VND
    with 0 decimals), so a decimal part is a typing mistake, never something to round.
    """
    if text is None or not text.strip(_SPACES + "\t\n\r"):
        raise InvalidInput(_("Enter an amount in đồng, for example 250000 or 250.000."), field=field)
    if len(text) > MAX_AMOUNT_TEXT:
        raise InvalidInput(_("That amount is too long. Enter it in đồng, for example 250.000."), field=field)
    text = unicodedata.normalize("NFC", text)  # "đồng" typed with combining marks
    number = _CURRENCY.sub("", text.strip(_SPACES + "\t\n\r")).rstrip(_SPACES)
    if number[:1] in ("-", "+", "\u2212"):
        raise InvalidInput(_("Enter the amount without a sign, for example 250.000."), field=field)
    if any(ch.isdigit() and ch not in "0123456789" for ch in number):
        raise InvalidInput(_("Write the amount with the digits 0-9."), field=field)
    if not number or any(ch not in "0123456789" + _SEPARATORS for ch in number):
        raise InvalidInput(_("Enter an amount in đồng, for example 250000 or 250.000."), field=field)
    if not number[0].isdigit() or not number[-1].isdigit():
        raise InvalidInput(_("Enter an amount in đồng, for example 250000 or 250.000."), field=field)
    separators = {("space" if ch in _SPACES else ch) for ch in number if ch in _SEPARATORS}
    groups = re.split(f"[{re.escape(_SEPARATORS)}]", number)
    if len(separators) > 1:
        raise InvalidInput(_("The amount mixes separators (%(text)s). Amounts are whole đồng: write 250000 "
                             "or 250.000.", text=number), field=field)
    if len(groups) > 1:
        if len(groups) == 2 and len(groups[1]) in (1, 2):
            # "1000.5", "250000,00": a decimal part.
            raise InvalidInput(_("Amounts are whole đồng, without a decimal part: write 250000 or 250.000."),
                               field=field)
        if not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]):
            raise InvalidInput(_("The digits of %(text)s are not grouped in threes. Write 250000 or 250.000.",
                                 text=number), field=field)
    digits = "".join(groups)
    if len(digits) > len(str(MAX_VND)) or int(digits) > MAX_VND:
        raise InvalidInput(_("That amount is too large (at most %(max)s).", max=format_vnd(MAX_VND)), field=field)
    return int(digits)
