from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.enums import (CertificateKind, CertificateLevel, CertificatePublicStatus, CertificateStatus,
                                NotOnSaleReason)
from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin, TimestampMixin
from shop.timeutil import UTCDateTime, today_vn, utcnow

if TYPE_CHECKING:
    from shop.producers.models import Producer

VALIDITY_MONTHS = 36


# Folded words are compared byte by byte (range scans on a prefix): PostgreSQL's "C" collation.
_TERM = String(40).with_variant(String(40, collation="C"), "postgresql")


class SearchTerm(db.Model):
    """A folded word of the catalogue's search text that a typo may aim at (issue 16).

    The search's vocabulary: ``rank`` looks a misspelt query word up here (a range scan on its
    first letters, or on its last letters through ``reversed_term``) and then asks the product
    index for the words found, so a typo costs index lookups of real words instead of wildcard
    patterns. Only words of letters that a typo can reach are kept (3 to 21 letters,
    ``search.term_words``). Rows are added whenever a product's search text is written (the flush
    hook in ``shop/catalog/search.py``) and never one by one removed: a word no product uses any
    more stays until ``flask search rebuild-terms`` (or migration 0016) rebuilds the table; until
    then it only costs a lookup that finds no product.
    """

    __tablename__ = "search_term"

    term: Mapped[str] = mapped_column(_TERM, primary_key=True)
    reversed_term: Mapped[str] = mapped_column(_TERM, index=True)

    def __repr__(self) -> str:
        return f"<SearchTerm {self.term}>"


class ProductGroup(db.Model):
    """One of the six OCOP product groups of 148/QĐ-TTg, or one of their subgroups."""

    __tablename__ = "product_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("product_group.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Optional["ProductGroup"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["ProductGroup"]] = relationship(back_populates="parent", order_by="ProductGroup.position")

    def __repr__(self) -> str:
        return f"<ProductGroup {self.code}>"


class Product(TimestampMixin, db.Model):
    """A product as listed in the shop. Whether it may be sold depends on its certificate."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        # Every catalogue sort walks one of these (shop.catalog.services.browse); the stars one also
        # serves the star filter, and the producer one the producer page.
        Index("ix_product_listing_stars", "listed", text("current_stars DESC"), "name_folded", "id"),
        Index("ix_product_listing_price", "listed", "price", "name_folded", "id"),
        Index("ix_product_listing_name", "listed", "name_folded", "id"),
        Index("ix_product_listing_newest", "listed", "created_at", "id"),
        Index("ix_product_producer_listing", "producer_id", "listed", text("current_stars DESC"), "name_folded",
              "id"),
        Index("ix_product_group_listing", "group_id", "listed", text("current_stars DESC"), "name_folded", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("product_group.id"), index=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(60), default="")
    unit_en: Mapped[str] = mapped_column(String(60), default="")
    price: Mapped[int] = mapped_column(Integer)  # whole đồng
    barcode: Mapped[Optional[str]] = mapped_column(String(32))
    weight_grams: Mapped[Optional[int]] = mapped_column(Integer)
    image: Mapped[Optional[str]] = mapped_column(String(200))
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Folded (diacritic-free, lower-case) copies for search; kept in step by shop.catalog.search.
    name_folded: Mapped[str] = mapped_column(String(400), default="", index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_words: Mapped[str] = mapped_column(Text, default="")  # the same words with their accents
    # Read model of the certificates (shop.catalog.listing keeps it in step, in the same transaction
    # as any certificate change): the stars of the certificate valid now (NULL: none is), and the
    # instant that state next changes by the calendar alone (a valid certificate's end, a pending
    # one's start; NULL: never). Past that instant the row is stale and is recomputed when read.
    current_stars: Mapped[Optional[int]] = mapped_column(Integer)
    stars_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)

    producer: Mapped["Producer"] = relationship(back_populates="products")
    group: Mapped["ProductGroup"] = relationship()
    certificates: Mapped[list["Certificate"]] = relationship(
        back_populates="product", order_by="Certificate.issued_on.desc()"
    )

    def valid_certificate(self, on: date | None = None) -> Optional["Certificate"]:
        """The certificate that lets this product show a badge and be sold today, if any."""
        on = on or today_vn()
        valid = [cert for cert in self.certificates if cert.is_valid(on)]
        # Normally at most one; if two overlap, the higher rating counts (as in listings' SQL).
        return max(valid, key=lambda cert: (cert.stars, cert.issued_on), default=None)

    @property
    def stars(self) -> int | None:
        cert = self.valid_certificate()
        return cert.stars if cert else None

    @property
    def latest_certificate(self) -> Optional["Certificate"]:
        return self.certificates[0] if self.certificates else None

    @property
    def sellable(self) -> bool:
        return self.listed and self.valid_certificate() is not None

    def not_on_sale_reason(self, on: date | None = None) -> NotOnSaleReason | None:
        """None while the product may be sold on ``on`` (today in Vietnam by default): listed, with a
        valid certificate. Otherwise why not, read from its latest certificate: ``UNLISTED``;
        ``REVOKED`` (the latest was revoked); ``EXPIRED`` (the latest is active but past its end);
        ``UNCERTIFIED`` (never certified, not yet in force, or superseded without a successor).

        The one home of this rule: the product page and the API's ``not_on_sale_reason`` read it.
        """
        on = on or today_vn()
        if not self.listed:
            return NotOnSaleReason.UNLISTED
        if self.valid_certificate(on) is not None:
            return None
        latest = self.latest_certificate
        if latest is not None and latest.status == CertificateStatus.REVOKED:
            return NotOnSaleReason.REVOKED
        if latest is not None and latest.status == CertificateStatus.ACTIVE and latest.is_expired(on):
            return NotOnSaleReason.EXPIRED
        return NotOnSaleReason.UNCERTIFIED

    def __repr__(self) -> str:
        return f"<Product {self.slug}>"


class Certificate(CreatedMixin, db.Model):
    """An OCOP certification decision for one product."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 3 AND 5", name="stars_range"),
        CheckConstraint("expires_on >= issued_on", name="expiry_after_issue"),
        check_in("kind", CertificateKind, name="kind_known"),
        check_in("level", CertificateLevel, name="level_known"),
        check_in("status", CertificateStatus, name="status_known"),
        Index("ix_certificate_product_status", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    score: Mapped[Optional[int]] = mapped_column(Integer)
    kind: Mapped[CertificateKind] = mapped_column(EnumText(CertificateKind), default=CertificateKind.NEW)
    decision_number: Mapped[str] = mapped_column(String(80))
    issuing_body: Mapped[str] = mapped_column(String(200))
    level: Mapped[CertificateLevel] = mapped_column(EnumText(CertificateLevel))
    legal_basis: Mapped[str] = mapped_column(String(200), default="")
    product_name_certified: Mapped[str] = mapped_column(String(200), default="")
    producer_name_certified: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[CertificateStatus] = mapped_column(EnumText(CertificateStatus), default=CertificateStatus.ACTIVE)
    revocation_decision: Mapped[Optional[str]] = mapped_column(String(80))
    revoked_on: Mapped[Optional[date]] = mapped_column(Date)
    revocation_reason: Mapped[Optional[str]] = mapped_column(Text)

    product: Mapped["Product"] = relationship(back_populates="certificates")

    def is_valid(self, on: date | None = None) -> bool:
        on = on or today_vn()
        return self.status == CertificateStatus.ACTIVE and self.issued_on <= on <= self.expires_on

    def public_status(self, on: date | None = None) -> CertificatePublicStatus:
        """What a visitor or API client is told: ``active`` only while the product may be sold
        under it; otherwise why not (expired, pending — not yet in force —, revoked, superseded)."""
        on = on or today_vn()
        if self.status != CertificateStatus.ACTIVE:
            return CertificatePublicStatus(self.status)
        if self.is_valid(on):
            return CertificatePublicStatus.ACTIVE
        return CertificatePublicStatus.EXPIRED if self.is_expired(on) else CertificatePublicStatus.PENDING

    def is_expired(self, on: date | None = None) -> bool:
        return (on or today_vn()) > self.expires_on

    def days_to_expiry(self, on: date | None = None) -> int:
        return (self.expires_on - (on or today_vn())).days

    @classmethod
    def valid_clause(cls, on: date | None = None):
        """SQL condition matching certificates valid on ``on`` (today in Vietnam by default)."""
        on = on or today_vn()
        return and_(cls.status == CertificateStatus.ACTIVE, cls.issued_on <= on, cls.expires_on >= on)

    def __repr__(self) -> str:
        return f"<Certificate {self.decision_number} {self.stars}★ {self.status}>"


class CatalogueVersion(db.Model):
    """One row whose token changes, in the same transaction, whenever what listings show changes:
    a product, producer, group, place or certificate written, or a product whose certificate state
    lapsed with time (``shop.catalog.listing``). Values derived from the whole catalogue (counts
    per producer, the home page's spotlight) are cached against it: a different token, a fresh
    computation. A random token rather than a counter, so a rolled-back change can never make a
    later one look already seen. Stock and holds do not change it (they are read per row).

    Row 2 is the same for stock: its token changes in the same transaction as any stock movement,
    hold, lot or shop change (``shop.inventory.services``); kept pages are keyed by both rows
    (``shop.pagecache``).
    """

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)  # 1: catalogue, 2: stock (listing.CATALOGUE, STOCK)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
