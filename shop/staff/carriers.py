"""The common Vietnamese carriers and their public tracking pages, in one table.

DOMAIN.md asks for carriers and their tracking-link patterns as settings, not code: the table below
is the default, and ``CARRIERS`` in the app config (same shape: code → (name, URL pattern with
``{number}``)) replaces it. URL patterns are the carriers' public look-up pages as of 12/2026 (?):
check them when a carrier changes its site. A carrier typed by hand ("Giao tận nơi") gets no link.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import current_app, has_app_context

CARRIERS: dict[str, tuple[str, str]] = {
    "ghn": ("GHN", "https://donhang.ghn.vn/?order_code={number}"),
    "ghtk": ("GHTK", "https://i.ghtk.vn/{number}"),
    "viettelpost": ("Viettel Post", "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?orderNumber={number}"),
    "vnpost": ("VNPost", "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key={number}"),
    "jt": ("J&T Express", "https://jtexpress.vn/vi/tracking?type=track&billcode={number}"),
}

# Other ways people write the same carriers, folded like ``_key`` does.
ALIASES = {"giaohangnhanh": "ghn", "giaohangtietkiem": "ghtk", "viettel": "viettelpost", "vtp": "viettelpost",
           "vietnampost": "vnpost", "buudien": "vnpost", "jtexpress": "jt", "jandt": "jt"}


def carriers() -> dict[str, tuple[str, str]]:
    """code → (name shown, URL pattern): the app's ``CARRIERS`` setting, else the table above."""
    if has_app_context():
        return current_app.config.get("CARRIERS") or CARRIERS
    return CARRIERS


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").casefold().replace("&", "and"))


def carrier_code(name: str) -> str | None:
    """The table's code for a carrier as written on a shipment ("Viettel Post", "GHTK"), or None."""
    key = _key(name)
    table = carriers()
    for code, (label, _pattern) in table.items():
        if key in (code, _key(label)):
            return code
    code = ALIASES.get(key)
    return code if code in table else None


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for ``number`` (URL-encoded), or None for an unknown
    carrier or an empty number."""
    code = carrier_code(carrier)
    if code is None or not (number or "").strip():
        return None
    return carriers()[code][1].format(number=quote(number.strip(), safe=""))
