"""What robots, browsers and share previews read: ``/robots.txt``, ``/sitemap.xml``, ``/favicon.ico``,
and each public page's canonical URL, language alternates, Open Graph tags and schema.org data.

Every public page (``PUBLIC_ENDPOINTS``) names its canonical URL (the page in its own language:
``?lang=vi`` or ``?lang=en``, plus ``page`` when paging; other arguments are left out, so filtered
and sorted lists, which are ``noindex``, point at the list itself) and its ``hreflang`` alternates,
vi, en and ``x-default`` (no ``lang``: the visitor's browser decides); ``page_links()`` gives them to
base.html. Product pages add Open Graph ``product`` tags and JSON-LD ``Product`` with an ``Offer``
while the product is on sale (price in VND, availability from live stock, the producer as brand);
producer pages add JSON-LD ``Organization`` (``product_json_ld``, ``producer_json_ld``).

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

from flask import Blueprint, Response, abort, current_app, request, send_from_directory, url_for
from sqlalchemy import func, null, select

from shop.catalog import listing
from shop.catalog.models import Product
from shop.extensions import db
from shop.i18n import current_lang, localized
from shop.inputs import whole_number
from shop.markup import excerpt
from shop.phone import phone_uri
from shop.producers.models import Producer

bp = Blueprint("seo", __name__)

URLS_PER_SITEMAP = 10_000  # pages per sitemap file (each listed in both languages)
STATIC_PAGES = ("catalog.home", "catalog.index", "producers.index", "shops.index")
PRIVATE_PATHS = ("/cart", "/orders/", "/payments/", "/api/")
CACHE_SECONDS = 3600
# Pages a search engine may index, and so name a canonical URL and their other language.
PUBLIC_ENDPOINTS = (*STATIC_PAGES, "catalog.product", "producers.detail")
OG_LOCALES = {"vi": "vi_VN", "en": "en_US"}
DESCRIPTION_CHARS = 200


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


# ---- canonical URL, language alternates, share previews ------------------------------------------

def page_links() -> dict | None:
    """For a public page: ``{"canonical": url, "alternates": {lang: url}, "default": url,
    "og_locale": "vi_VN", "og_alternates": ["en_US"]}`` (absolute URLs); None for any other page
    (cart, checkout, orders, errors), which search engines should not index.
    """
    endpoint = request.endpoint
    if endpoint not in PUBLIC_ENDPOINTS or request.routing_exception is not None:
        return None
    values = dict(request.view_args or {})
    page = whole_number(request.args.get("page"), 2)  # page 1 is the list itself
    if page is not None:
        values["page"] = page
    languages = current_app.config["LANGUAGES"]
    alternates = {lang: url_for(endpoint, lang=lang, _external=True, **values) for lang in languages}
    lang = current_lang()
    return {
        "canonical": alternates.get(lang) or url_for(endpoint, _external=True, **values),
        "alternates": alternates,
        "default": url_for(endpoint, _external=True, **values),
        "og_locale": OG_LOCALES.get(lang, lang),
        "og_alternates": [OG_LOCALES.get(code, code) for code in languages if code != lang],
    }


def _absolute_media(path: str | None) -> str | None:
    return url_for("media", filename=path, _external=True) if path else None


def _producer_org(producer: Producer) -> dict:
    return {"@type": "Organization", "name": producer.name,
            "url": url_for("producers.detail", slug=producer.slug, lang=current_lang(), _external=True)}


def product_json_ld(detail, on_sale: bool) -> dict:
    """schema.org ``Product`` for a product page (``detail``: catalog ``ProductDetail``).

    ``offers`` (one ``Offer``: price in whole đồng, ``priceCurrency`` VND, ``availability`` InStock
    while units are available in some shop now, else OutOfStock) only while the product is on sale
    (``on_sale``: a valid certificate); a product whose certificate lapsed has a page but no offer.
    """
    product = detail.product
    url = url_for("catalog.product", slug=product.slug, lang=current_lang(), _external=True)
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": localized(product, "name"),
        "url": url,
        "sku": product.slug,
        "brand": _producer_org(product.producer),
        "manufacturer": _producer_org(product.producer),
    }
    description = excerpt(localized(product, "description"), DESCRIPTION_CHARS)
    if description:
        data["description"] = description
    if product.image:
        data["image"] = [_absolute_media(product.image)]
    if product.barcode and len(product.barcode) == 13:
        data["gtin13"] = product.barcode
    if product.group is not None:
        data["category"] = localized(product.group, "name")
    if on_sale:
        data["offers"] = {
            "@type": "Offer",
            "url": url,
            "price": product.price,
            "priceCurrency": "VND",
            "availability": "https://schema.org/" + ("InStock" if detail.total_available > 0 else "OutOfStock"),
            "seller": {"@type": "Organization", "name": current_app.config["SHOP_NAME"]},
        }
    return data


def producer_json_ld(producer: Producer) -> dict:
    """schema.org ``Organization`` for a producer page: name, page, story excerpt, cover, address, phone."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": producer.name,
        "url": url_for("producers.detail", slug=producer.slug, lang=current_lang(), _external=True),
    }
    description = excerpt(localized(producer, "story"), DESCRIPTION_CHARS)
    if description:
        data["description"] = description
    if producer.cover_image:
        data["image"] = _absolute_media(producer.cover_image)
    if producer.address:
        address = {"@type": "PostalAddress", "streetAddress": producer.address, "addressCountry": "VN"}
        if producer.locality is not None:
            address["addressLocality"] = producer.locality.name
        data["address"] = address
    if producer.phone:
        data["telephone"] = phone_uri(producer.phone).removeprefix("tel:")
    return data


for _helper in (page_links, product_json_ld, producer_json_ld):
    bp.add_app_template_global(_helper)
