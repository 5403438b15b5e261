"""What robots and browsers ask the site root for: ``/robots.txt``, ``/sitemap.xml``, ``/favicon.ico``.

The sitemap lists the public pages a visitor can land on — home, catalogue, producers, shops,
every product on sale today and every producer — each in both languages (``?lang=vi`` and
``?lang=en``, linked to each other with ``hreflang`` alternates). Private pages (cart, checkout,
orders, payments) and the JSON API are not listed, and robots.txt asks crawlers to stay out of them.

Size is bounded: one file holds at most ``URLS_PER_SITEMAP`` pages (two ``<url>`` entries each,
well under the protocol's 50,000 URLs and 50 MB). A larger catalogue makes ``/sitemap.xml`` a
sitemap index of ``/sitemap-1.xml``, ``/sitemap-2.xml``…; each part reads only its own rows.
"""
from __future__ import annotations

import math
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, abort, current_app, send_from_directory, url_for
from sqlalchemy import func, null, select

from shop.catalog import listing
from shop.catalog.models import Product
from shop.extensions import db
from shop.producers.models import Producer

bp = Blueprint("seo", __name__)

URLS_PER_SITEMAP = 10_000  # pages per sitemap file (each listed in both languages)
STATIC_PAGES = ("catalog.home", "catalog.index", "producers.index", "shops.index")
PRIVATE_PATHS = ("/cart", "/orders/", "/payments/", "/api/")
CACHE_SECONDS = 3600


def _products_on_sale():
    """Products on sale now, read from the listing read model (``shop.catalog.listing``)."""
    listing.refresh_stale(db.session)
    return select(Product.slug, Product.updated_at).where(listing.sellable_clause())


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _segments():
    """(endpoint, url argument name, query of (slug, updated_at) rows, row count), in sitemap order."""
    producers = select(Producer.slug, null())  # no reliable date of a producer's last change
    products = _products_on_sale()
    return [
        ("producers.detail", "slug", producers.order_by(Producer.id), _count(producers)),
        ("catalog.product", "slug", products.order_by(Product.id), _count(products)),
    ]


def _pages(start: int, stop: int) -> list[tuple[str, dict, datetime | None]]:
    """Pages number ``start`` to ``stop - 1`` of the whole list: (endpoint, url values, last change)."""
    out: list[tuple[str, dict, datetime | None]] = []
    for index, endpoint in enumerate(STATIC_PAGES):
        if start <= index < stop:
            out.append((endpoint, {}, None))
    offset = len(STATIC_PAGES)
    for endpoint, arg, query, count in _segments():
        low, high = max(start, offset), min(stop, offset + count)
        if low < high:
            rows = db.session.execute(query.offset(low - offset).limit(high - low)).all()
            out.extend((endpoint, {arg: slug}, changed) for slug, changed in rows)
        offset += count
    return out


def _total() -> int:
    return len(STATIC_PAGES) + sum(count for *_, count in _segments())


def _xml(body: str) -> Response:
    response = Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


def _urlset(pages) -> Response:
    languages = current_app.config["LANGUAGES"]
    parts = ['<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
             'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
    for endpoint, values, changed in pages:
        links = {lang: url_for(endpoint, lang=lang, _external=True, **values) for lang in languages}
        alternates = "".join(f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(href)}/>'
                             for lang, href in links.items())
        lastmod = f"<lastmod>{changed.date().isoformat()}</lastmod>" if changed else ""
        for href in links.values():
            parts.append(f"<url><loc>{escape(href)}</loc>{lastmod}{alternates}</url>")
    parts.append("</urlset>")
    return _xml("\n".join(parts) + "\n")


@bp.get("/sitemap.xml")
def sitemap():
    """The whole sitemap, or an index of its parts when it has more than ``URLS_PER_SITEMAP`` pages."""
    total = _total()
    if total <= URLS_PER_SITEMAP:
        return _urlset(_pages(0, total))
    parts = ['<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for number in range(1, math.ceil(total / URLS_PER_SITEMAP) + 1):
        parts.append(f"<sitemap><loc>{escape(url_for('seo.sitemap_part', number=number, _external=True))}"
                     "</loc></sitemap>")
    parts.append("</sitemapindex>")
    return _xml("\n".join(parts) + "\n")


@bp.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    """Part ``number`` (from 1) of a sitemap too large for one file; 404 past the last part."""
    total = _total()
    if total <= URLS_PER_SITEMAP or not 1 <= number <= math.ceil(total / URLS_PER_SITEMAP):
        abort(404)
    start = (number - 1) * URLS_PER_SITEMAP
    return _urlset(_pages(start, min(total, start + URLS_PER_SITEMAP)))


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in PRIVATE_PATHS]
    lines += ["Allow: /", "", f"Sitemap: {url_for('seo.sitemap', _external=True)}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for by themselves (pages also link the SVG one)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)
