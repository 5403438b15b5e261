"""The demo seed's own vocabulary: how a product's certificate history is built
(``certificate = "…"`` in shop/seed/data/products.toml; shop.seed.demo._certificate_plan).

Not stored anywhere: the plans are words of the data files, some of which happen to equal a
certificate's kind or status (``upgrade``, ``revoked``, ``expired``) without being them.
"""
from __future__ import annotations

import enum


class CertificatePlan(enum.StrEnum):
    VALID = "valid"  # one certificate issued 2–31 months ago (the default)
    DECISIONS = "decisions"  # the real, dated [[product.decisions]]
    UPGRADE = "upgrade"  # a certificate of upgrade_from stars, superseded by an upgrade
    EXPIRING = "expiring"  # expires expires_in_days days from today
    EXPIRED = "expired"  # its only certificate lapsed 40 days ago
    REVOKED = "revoked"  # its only certificate was revoked two to four weeks ago
