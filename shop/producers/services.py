"""Reading producers for the public pages: the directory, one profile, the home-page spotlight.

Each function runs a fixed number of SQL statements whatever the number of producers or
products: localities are joined up to the province (commune → district → province), and the
count of sellable products comes from one grouped subquery instead of per-producer queries.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.catalog.models import Certificate, Product
from shop.catalog.services import CatalogFilters, CatalogPage, browse, valid_stars_subquery
from shop.errors import NotFound
from shop.extensions import db
from shop.places.services import with_lineage
from shop.producers.models import Producer

# A producer page lists every sellable product on one page; no producer comes near this.
PROFILE_PRODUCTS = 100


def _with_locality():
    """Load the locality, its parents and their successors: ``place_label`` without lazy loads."""
    return with_lineage(Producer.locality)


def _sellable_counts():
    """(producer_id, sellable) — listed products with a valid certificate today, per producer."""
    cert = valid_stars_subquery()
    return (
        select(Product.producer_id.label("producer_id"), func.count(Product.id).label("sellable"))
        .join(cert, cert.c.product_id == Product.id)
        .where(Product.listed.is_(True))
        .group_by(Product.producer_id)
        .subquery("sellable_counts")
    )


@dataclass
class ProducerSummary:
    producer: Producer
    sellable: int  # products on sale now


def list_producers() -> list[ProducerSummary]:
    """Every producer, alphabetically, with how many of its products are on sale: one query."""
    counts = _sellable_counts()
    rows = db.session.execute(
        select(Producer, func.coalesce(counts.c.sellable, 0))
        .outerjoin(counts, counts.c.producer_id == Producer.id)
        .options(*_with_locality())
        .order_by(Producer.name, Producer.id)
    ).all()
    return [ProducerSummary(producer=p, sellable=int(n)) for p, n in rows]


def spotlight(limit: int = 3) -> list[Producer]:
    """A few producers for the home page: those with a story and products on sale, most first.

    One query with a limit, so the home page costs the same with ten producers or a thousand.
    """
    counts = _sellable_counts()
    return list(db.session.scalars(
        select(Producer)
        .join(counts, counts.c.producer_id == Producer.id)
        .where(Producer.story != "")
        .options(*_with_locality())
        .order_by(Producer.cover_image.is_(None), counts.c.sellable.desc(), Producer.name)
        .limit(limit)
    ).unique())


@dataclass
class ProducerProfile:
    producer: Producer
    products: CatalogPage  # on sale now, with stars and availability as in the catalogue
    not_on_sale: list[Product]  # listed, but without a valid certificate today


def producer_profile(slug: str) -> ProducerProfile:
    """The producer page: the producer, its sellable products and the ones not on sale.

    Four queries (producer, browse's count and page, products without a valid certificate);
    an unknown slug raises ``NotFound``.
    """
    producer = db.session.scalars(
        select(Producer).where(Producer.slug == slug[:160]).options(*_with_locality())
    ).first()
    if producer is None:
        raise NotFound(_("No such producer."))
    products = browse(CatalogFilters(producer=producer.slug, sort="stars"), per_page=PROFILE_PRODUCTS)
    valid = select(Certificate.product_id).where(Certificate.valid_clause())
    not_on_sale = list(db.session.scalars(
        select(Product)
        .where(Product.producer_id == producer.id, Product.listed.is_(True), Product.id.not_in(valid))
        .order_by(Product.name_folded, Product.id)
    ))
    return ProducerProfile(producer=producer, products=products, not_on_sale=not_on_sale)
