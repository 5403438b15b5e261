"""The low-stock rule, in one place: when a number of units is "running low".

A shop × product stock row has its own threshold (``StockLevel.low_stock_threshold``, defaulted to
``LOW_STOCK_THRESHOLD`` when the row is made); where no single row applies (the product page's
units in all shops together, a catalogue card, one outlet's units shown to customers) the default
threshold is used. Zero or fewer units is "out of stock", which callers test first.

Pages read the rule through the template global ``is_low_stock`` (registered by
``shop.template_helpers``), so no template keeps a number of its own.
"""
from __future__ import annotations

# Units at or below which stock is "running low", unless a stock row sets its own threshold.
LOW_STOCK_THRESHOLD = 5


def is_low_stock(units: int, threshold: int | None = None) -> bool:
    """Whether ``units`` (units available or on hand, a whole number) is at or below ``threshold``
    (``LOW_STOCK_THRESHOLD`` when None). True for zero and below as well: out of stock is low too."""
    return units <= (LOW_STOCK_THRESHOLD if threshold is None else threshold)
