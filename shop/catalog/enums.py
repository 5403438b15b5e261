"""The catalogue's vocabulary: coded values of products and certificates, with their labels in both
languages (message ids English, Vietnamese in the catalogue).

Rules about them (which certificate lets a product be sold) live in ``shop/catalog/models.py``
and ``shop/catalog/services.py``; this module only names them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class NotOnSaleReason(LabelledEnum):
    """Why a product that can still be reached (old links, QR stamps) is not on sale
    (``Product.not_on_sale_reason``): withdrawn from the catalogue, its latest certificate revoked
    or past its end, or no certificate in force (never certified, not yet in force, superseded)."""

    UNLISTED = "unlisted", _l("Not listed")
    REVOKED = "revoked", _l("Certificate revoked")
    EXPIRED = "expired", _l("Certificate expired")
    UNCERTIFIED = "uncertified", _l("No valid certificate")
