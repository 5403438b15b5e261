"""Money is whole Vietnamese đồng (int) end to end; this module only formats it."""
from __future__ import annotations


def format_vnd(amount: int | None) -> str:
    """``120000`` → ``'120.000 ₫'`` (dot thousands separator, no minor unit, non-breaking space)."""
    if amount is None:
        return ""
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", ".")
    return f"{sign}{digits}\u00a0₫"
