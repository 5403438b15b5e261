"""Public catalogue pages: home, the product list with filters, and the product page.

Views only read: they parse the query string, call the catalogue services and render.
"""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from shop.catalog import bp, search
from shop.catalog.enums import NotOnSaleReason
from shop.catalog.services import SORTS, browse, facets, featured, product_detail, read_filters
from shop.errors import NotFound
from shop.extensions import limiter
from shop.headers import no_store
from shop.i18n import current_lang
from shop.inventory.services import best_before_range
from shop.pagecache import cached_page
from shop.producers.services import spotlight
from shop.shops.services import public_shops
from shop.shops.enums import ShopKind
from shop.timeutil import today_vn

# The product page compares the reason a product is not on sale with the enum (shop/catalog/enums.py).
bp.add_app_template_global(NotOnSaleReason, "NotOnSaleReason")

HOME_FEATURED = 8
HOME_PRODUCERS = 3
HOME_SHOPS = 6
# A valid certificate this close to its end gets a quiet "valid until" note, nothing more.
EXPIRY_NOTE_DAYS = 60


@bp.get("/")
@cached_page
def home():
    return render_template(
        "catalog/home.html",
        featured=featured(limit=HOME_FEATURED),
        producers=spotlight(HOME_PRODUCERS),
        shops=public_shops(limit=HOME_SHOPS),
    )


def filter_labels() -> dict[str, str]:
    """The filter form's label of each parameter, to name the filters a notice says were left out."""
    return {
        "q": _("Search"), "stars": _("OCOP stars"), "group": _("Product group"), "producer": _("Producer"),
        "locality": _("Origin"), "min_price": _("Minimum price"), "max_price": _("Maximum price"),
        "in_stock": _("In stock only"), "sort": _("Sort by"), "page": _("Page"), "per_page": _("Products per page"),
    }


@bp.get("/products")
@cached_page
def index():
    """The catalogue. Filters the shared reader could not use are left out and named in a notice
    (a page never fails on its query string); unknown parameters (``utm_source``) are ignored."""
    reading = read_filters(request.args, default_per_page=current_app.config["CATALOG_PER_PAGE"])
    filters = reading.filters
    page = browse(filters)
    labels = filter_labels()
    ignored = [labels[name] for name in dict.fromkeys(problem.param for problem in reading.problems)]
    # Nothing found for a search: offer the nearest product and group names.
    did_you_mean = search.did_you_mean(filters.q, current_lang()) if filters.q and not page.total else []
    return render_template("catalog/index.html", filters=filters, page=page, facets=facets(filters), sorts=SORTS,
                           search_q=filters.q, ignored=ignored, did_you_mean=did_you_mean)


def _suggest_rate_limit() -> str:
    return current_app.config["SUGGEST_RATE_LIMIT"]


SUGGEST_LINKS = {
    "product": lambda slug: url_for("catalog.product", slug=slug),
    "producer": lambda slug: url_for("producers.detail", slug=slug),
    "group": lambda slug: url_for("catalog.index", group=slug),
}


@bp.get("/search/suggest")
@limiter.limit(_suggest_rate_limit)
def suggest():
    """Suggestions for the search box while typing (static/js/search-suggest.js), in the page language.

    ``GET /search/suggest?q=mat+o`` → ``{"query": "mat o", "suggestions": [{"kind": "product",
    "label": "Mật ong rừng nguyên chất", "url": "/products/mat-ong-rung-nguyen-chat"}, …]}``; at
    most 5 products, 2 producers and 2 groups; ``[]`` below two letters. ``q`` is read like the
    catalogue's (at most 100 characters, control characters dropped). Rate-limited per address
    (``SUGGEST_RATE_LIMIT``).
    """
    query = read_filters(request.args).filters.q
    items = [{"kind": s.kind, "label": s.label, "url": SUGGEST_LINKS[s.kind](s.slug)}
             for s in search.suggest(query, current_lang())]
    return no_store(jsonify(query=query, suggestions=items))


@bp.get("/products/<slug>")
@cached_page
def product(slug: str):
    try:
        detail = product_detail(slug)
    except NotFound:
        raise NotFound(_("We could not find that product.")) from None
    today = today_vn()
    states = {cert.id: cert.public_status(today) for cert in detail.product.certificates}
    outlets = [(shop, units) for shop, units in detail.stock if units > 0 and shop.kind == ShopKind.SHOP]
    warehouse_units = sum(units for shop, units in detail.stock if units > 0 and shop.kind != ShopKind.SHOP)
    cert = detail.certificate
    expiring_soon = cert is not None and cert.days_to_expiry(today) <= EXPIRY_NOTE_DAYS
    return render_template(
        "catalog/product.html",
        detail=detail,
        product=detail.product,
        lapse=detail.product.not_on_sale_reason(today),
        states=states,
        outlets=outlets,
        warehouse_units=warehouse_units,
        expiring_soon=expiring_soon,
        best_before=best_before_range(detail.next_lots[shop.id] for shop, _units in detail.stock
                                      if shop.id in detail.next_lots),
    )
