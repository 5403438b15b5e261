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


class CertificateKind(LabelledEnum):
    """What an OCOP decision did (``Certificate.kind``): first recognition, re-recognition at the
    end of the 36 months, or an upgrade to more stars."""

    NEW = "new", _l("First recognition")
    RE_RECOGNITION = "re_recognition", _l("Re-recognition")
    UPGRADE = "upgrade", _l("Upgrade")


class CertificateLevel(LabelledEnum):
    """The level of the body that certified (``Certificate.level``): 3 and 4 stars are recognised by
    the province (the district for 3 stars before 2023), 5 stars by the prime minister's council."""

    DISTRICT = "district", _l("district level")
    PROVINCE = "province", _l("provincial level")
    NATIONAL = "national", _l("national level")


class CertificateStatus(LabelledEnum):
    """What the record says (``Certificate.status``): in force unless revoked or replaced. Whether an
    active certificate is valid *today* also depends on its dates (``CertificatePublicStatus``)."""

    ACTIVE = "active", _l("Valid")
    REVOKED = "revoked", _l("Revoked")
    SUPERSEDED = "superseded", _l("Superseded")


class CertificatePublicStatus(LabelledEnum):
    """What visitors and API clients are told about a certificate (``Certificate.public_status``):
    ``active`` only while the product may be sold under it; otherwise why not. Shown, never stored."""

    ACTIVE = "active", _l("Valid")
    EXPIRED = "expired", _l("Expired")
    PENDING = "pending", _l("Not yet in force")
    REVOKED = "revoked", _l("Revoked")
    SUPERSEDED = "superseded", _l("Superseded")
