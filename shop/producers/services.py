"""Reading producers for the public pages: the directory, one profile, the home-page spotlight.

Each function runs a fixed number of SQL statements whatever the number of producers or
products: localities are joined up to the province (commune → district → province), and the
count of sellable products per producer is grouped once per catalogue version, then cached.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from shop.catalog import listing
from shop.catalog.models import Product
from shop.catalog.services import CatalogFilters, CatalogPage, browse
from shop.errors import NotFound
from shop.extensions import db
from shop.places.services import with_lineage
from shop.producers.models import Producer

# A producer page lists its sellable products this many to a page (``?page=`` for the rest),
# and at most this many of those not on sale (with a count of them all).
PROFILE_PRODUCTS = 48
PROFILE_NOT_ON_SALE = 24


def _with_locality():
    """Load the locality, its parents and their successors: ``place_label`` without lazy loads."""
    return with_lineage(Producer.locality)


def _sellable_counts() -> dict[int, int]:
    """{producer_id: products on sale now} — listed products with a valid certificate.

    Grouped over the whole catalogue, so computed once per catalogue version (``listing.cached``):
    certificates, products and lapses change the version; stock does not enter the count.
    """
    def compute() -> dict[int, int]:
        return {producer_id: int(n) for producer_id, n in db.session.execute(
            select(Product.producer_id, func.count(Product.id))
            .where(listing.sellable_clause())
            .group_by(Product.producer_id))}

    return listing.cached(db.session, "producers.sellable_counts", compute)


@dataclass
class ProducerSummary:
    producer: Producer
    sellable: int  # products on sale now


def list_producers() -> list[ProducerSummary]:
    """Every current producer (retired ones leave the directory), alphabetically, with how many
    of its products are on sale: two queries (the counts come from the per-version cache after
    the first call)."""
    counts = _sellable_counts()
    producers = db.session.scalars(
        select(Producer).where(Producer.active.is_(True)).options(*_with_locality())
        .order_by(Producer.name, Producer.id)
    ).unique().all()
    return [ProducerSummary(producer=p, sellable=counts.get(p.id, 0)) for p in producers]


def spotlight(limit: int = 3) -> list[Producer]:
    """A few producers for the home page: those with a story and products on sale, most first
    (those with a cover picture before those without, then by name).

    Reads the per-version counts and the producers with a story: the cost does not grow with the
    number of products.
    """
    counts = _sellable_counts()
    candidates = db.session.scalars(
        select(Producer).where(Producer.story != "", Producer.active.is_(True)).options(*_with_locality())
    ).unique().all()
    ranked = sorted((p for p in candidates if counts.get(p.id)),
                    key=lambda p: (p.cover_image is None, -counts[p.id], p.name))
    return ranked[:limit]


@dataclass
class ProducerProfile:
    producer: Producer
    products: CatalogPage  # on sale now, with stars and availability as in the catalogue
    not_on_sale: list[Product]  # listed, but without a valid certificate today (the first few)
    not_on_sale_total: int = 0


def producer_profile(slug: str, page: int = 1) -> ProducerProfile:
    """The producer page: the producer, one page of its sellable products, the ones not on sale.

    A fixed number of queries, each reading only this producer's rows through
    ``ix_product_producer_listing``; an unknown slug raises ``NotFound``.
    """
    producer = db.session.scalars(
        select(Producer).where(Producer.slug == slug[:160]).options(*_with_locality())
    ).first()
    if producer is None:
        raise NotFound(_("No such producer."))
    products = browse(CatalogFilters(producer=producer.slug, sort="stars", page=page), per_page=PROFILE_PRODUCTS)
    # Without a valid certificate: ``current_stars`` NULL, an index seek on this producer's rows
    # (``browse`` above has just recomputed any product whose state lapsed).
    not_sellable = and_(Product.producer_id == producer.id, Product.listed.is_(True),
                        Product.current_stars.is_(None))
    not_on_sale = list(db.session.scalars(
        select(Product).where(not_sellable).order_by(Product.name_folded, Product.id).limit(PROFILE_NOT_ON_SALE)
    ))
    total = len(not_on_sale)
    if total == PROFILE_NOT_ON_SALE:
        total = db.session.scalar(select(func.count(Product.id)).where(not_sellable))
    return ProducerProfile(producer=producer, products=products, not_on_sale=not_on_sale, not_on_sale_total=total)
