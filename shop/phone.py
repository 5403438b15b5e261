"""Vietnamese phone numbers: accept the ways people type them, store one form (0xxxxxxxxx)."""
from __future__ import annotations

import re

from shop.errors import InvalidInput

_MOBILE = re.compile(r"^0[35789]\d{8}$")
_LANDLINE = re.compile(r"^02\d{9}$")


def normalize_vn_phone(raw: str | None) -> str:
    """'+84 912 345 678', '0912.345.678', '84912345678' → '0912345678'; anything else is refused."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not digits.isdigit() or not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise InvalidInput("Enter a Vietnamese phone number, e.g. 0912 345 678 or +84 912 345 678.")
    return digits
