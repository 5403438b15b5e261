"""Text helpers for Vietnamese: diacritic-insensitive folding and slugs."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
# đ/Đ are letters of their own, not a d with a combining mark, so NFD leaves them alone.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str | None) -> str:
    """Lower-case, strip Vietnamese diacritics and collapse white space: 'Gạo Nếp Tài' → 'gao nep tai'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def slugify(text: str) -> str:
    return _NON_SLUG.sub("-", fold(text)).strip("-")
