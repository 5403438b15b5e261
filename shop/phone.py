"""Customers' phone numbers: read the ways people type them, store E.164, show them the local way.

Parsing uses Google's libphonenumber data (the ``phonenumbers`` package) with Vietnam as the
default region, so "0912 345 678" means +84 912 345 678 while a tourist's "+44 7700 900123" or
"+1 415 555 0100" is kept as their own country's number. Vietnamese numbers must follow
DOMAIN.md: a mobile is 10 digits starting 03, 05, 07, 08 or 09 (or +84 and 9 digits); a landline
02x + 8 digits (11 digits). Only ASCII digits are accepted: "09١٢٣٤٥٦٧٨" is refused, not
silently turned into another string than the one the customer sees.
"""
from __future__ import annotations

import re

import phonenumbers
from flask_babel import gettext as _
from phonenumbers import NumberParseException, PhoneNumberFormat

from shop.errors import InvalidInput

DEFAULT_REGION = "VN"
VN_COUNTRY_CODE = 84
# What a typed number may contain: ASCII digits, one leading "+", spaces, dots, dashes, brackets.
TYPED_MAX = 30
_TYPED = re.compile(r"\+?[0-9 .\-()]{4,%d}" % TYPED_MAX)
# DOMAIN.md, as national numbers without the leading 0 (libphonenumber's "national number").
_VN_MOBILE = re.compile(r"[35789][0-9]{8}")
_VN_LANDLINE = re.compile(r"2[0-9]{9}")


def _refuse() -> InvalidInput:
    return InvalidInput(_("Enter a phone number we can call, e.g. 0912 345 678, or with the country code, "
                          "e.g. +44 7700 900123."), field="phone")


def normalize_phone(raw: str | None) -> str:
    """A typed phone number as E.164 (``"+84912345678"``, ``"+447700900123"``).

    Accepts "0912 345 678", "0912.345.678", "+84 912 345 678", "84912345678" (Vietnam without
    the +) and foreign numbers with their country code. Raises ``InvalidInput(field="phone")``
    for anything else: non-ASCII digits, letters, a Vietnamese number outside DOMAIN.md's rule,
    a foreign number of impossible length.
    """
    text = (raw or "").strip()
    if not _TYPED.fullmatch(text):
        raise _refuse()
    digits = re.sub(r"[^0-9]", "", text)
    if not text.startswith("+") and digits.startswith("84") and len(digits) == 11:
        text = "+" + digits  # "84912345678": Vietnam's code typed without the plus
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        raise _refuse() from None
    national = str(number.national_number)
    if number.country_code == VN_COUNTRY_CODE:
        if number.italian_leading_zero or not (_VN_MOBILE.fullmatch(national) or _VN_LANDLINE.fullmatch(national)):
            raise _refuse()
    elif not phonenumbers.is_possible_number(number):
        # Foreign numbers: a plausible length for that country is enough (we do not know every
        # operator's ranges, and refusing a tourist's real number costs a sale).
        raise _refuse()
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parsed(stored: str | None):
    try:
        return phonenumbers.parse(stored or "", DEFAULT_REGION)
    except NumberParseException:
        return None


def display_phone(stored: str | None) -> str:
    """How to show a stored number: national format for Vietnam ("0912 345 678"), international
    for other countries ("+44 7700 900123"). Numbers stored before E.164 ("0912345678") show
    the same way; anything unreadable is shown as stored."""
    number = _parsed(stored) if stored and stored.isascii() else None
    if number is None:
        return stored or ""
    style = PhoneNumberFormat.NATIONAL if number.country_code == VN_COUNTRY_CODE else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def phone_uri(stored: str | None) -> str:
    """A ``tel:`` link target for a stored number (E.164 when it can be read)."""
    number = _parsed(stored) if stored and stored.isascii() else None
    if number is None:
        return "tel:" + re.sub(r"[^0-9+]", "", stored or "")
    return "tel:" + phonenumbers.format_number(number, PhoneNumberFormat.E164)
