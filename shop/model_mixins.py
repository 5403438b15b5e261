"""Columns many models share, declared once.

``created_at`` / ``updated_at`` are timezone-aware UTC (``shop.timeutil.UTCDateTime``: a naive
datetime is refused), defaulted by a callable at insert and update time (``utcnow``), never by a
value computed at import. The database columns are the ones the migrations made (DateTime with
time zone, NOT NULL, no server default): mixing these in changes no schema.

    class Payment(TimestampMixin, db.Model): ...   # created_at and updated_at
    class OrderEvent(CreatedMixin, db.Model): ...  # created_at only (rows never change)

A model that needs more on one of them (an index to sort by) declares that column itself; its
declaration wins over the mixin's.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from shop.timeutil import UTCDateTime, utcnow


class CreatedMixin:
    """``created_at``: when the row was inserted (UTC-aware)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UpdatedMixin:
    """``updated_at``: when the row was inserted or last changed through the ORM (UTC-aware)."""

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TimestampMixin(CreatedMixin, UpdatedMixin):
    """``created_at`` and ``updated_at``."""
