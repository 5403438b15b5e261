"""Public trace pages and QR codes (``/q/…``), and the printable A4 stamp sheets.

Views parse the URL, call ``shop.inventory.trace``, render. Ids are bounded by the route
(``int(max=…)``), so an absurd id is a 404, never a database error.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from shop.errors import NotFound
from shop.extensions import db
from shop.inputs import whole_number
from shop.inventory import trace
from shop.inventory.models import LotState
from shop.timeutil import today_vn

bp = Blueprint("trace", __name__)

ID = "int(max=2147483647)"
QR_CACHE = "public, max-age=86400"


def _page(found: trace.Trace):
    from shop.catalog.models import Certificate  # noqa: F401  (typing of the template's objects)

    product = found.product
    today = today_vn()
    states = {cert.id: cert.public_status(today) for cert in product.certificates}
    valid = product.valid_certificate(today)
    shown = valid or product.latest_certificate
    response = Response(render_template("inventory/trace.html", trace=found, product=product, valid=valid,
                                        shown=shown, states=states,
                                        lot_gone=found.lot_state in (LotState.RECALLED, LotState.EXPIRED),
                                        on_sale=bool(product.listed and valid)))
    response.headers["X-Robots-Tag"] = "noindex"  # the product page is the one to index
    return response


@bp.get(f"/<{ID}:product_id>")
def product(product_id: int):
    try:
        return _page(trace.find_trace(product_id))
    except NotFound:
        raise NotFound(_("We could not find that product.")) from None


@bp.get(f"/<{ID}:product_id>/<{ID}:lot_id>")
def lot(product_id: int, lot_id: int):
    try:
        return _page(trace.find_trace(product_id, lot_id))
    except NotFound:
        raise NotFound(_("We could not find that product or lot.")) from None


def _qr(product_id: int, lot_id: int | None, kind: str):
    trace.find_trace(product_id, lot_id)  # 404 for codes that would lead nowhere
    url = trace.trace_url(product_id, lot_id)
    if kind == "svg":
        response = Response(trace.qr_svg(url), mimetype="image/svg+xml")
    else:
        response = Response(trace.qr_png(url), mimetype="image/png")
    response.headers["Cache-Control"] = QR_CACHE
    return response


@bp.get(f"/<{ID}:product_id>.<any(svg, png):kind>")
def product_qr(product_id: int, kind: str):
    return _qr(product_id, None, kind)


@bp.get(f"/<{ID}:product_id>/<{ID}:lot_id>.<any(svg, png):kind>")
def lot_qr(product_id: int, lot_id: int, kind: str):
    return _qr(product_id, lot_id, kind)


@bp.get(f"/stamps/lot/<{ID}:lot_id>")
def lot_sheet(lot_id: int):
    """A4 sheets of one lot's stamp: ``?copies=`` (1–240, default 24: one page)."""
    copies = whole_number(request.args.get("copies", "24"), 1, trace.MAX_STAMPS) or 24
    try:
        stamps = trace.lot_stamps(lot_id, copies)
    except NotFound:
        raise NotFound(_("We could not find that lot.")) from None
    return _sheet(stamps, title=_("QR stamps: lot %(code)s", code=stamps[0].lot.code))


@bp.get("/stamps/shop/<slug>")
def shop_sheet(slug: str):
    """A4 sheets with one stamp for each lot on the shelves of a shop."""
    from shop.shops.models import Shop

    shop = db.session.scalar(select(Shop).where(Shop.slug == slug[:160]))
    if shop is None:
        raise NotFound(_("We could not find that shop."))
    return _sheet(trace.shop_stamps(shop.id), title=_("QR stamps: %(shop)s", shop=shop.name))


def _sheet(stamps, *, title: str):
    response = Response(render_template("inventory/stamps.html", stamps=stamps, title=title))
    response.headers["X-Robots-Tag"] = "noindex"
    return response
