"""Traceability for the buyer: a short, stable public URL and a QR code per product and per lot.

Rule source: issue 10 ("Traceability for the buyer"), DOMAIN.md ("provinces push QR stamps").

- URLs: ``/q/<product id>`` and ``/q/<product id>/<lot id>``. Ids never change (slugs may), so a
  stamp printed today keeps working for as long as the shop exists, even after the product's
  certificate expired or was revoked, or the product left the catalogue.
- The URL in a QR code is absolute: ``PUBLIC_BASE_URL`` when set (the shop's public address,
  e.g. ``https://ocop.example.vn``), otherwise the address the request came to.
- QR codes are made locally with segno (error correction M: a stamp still scans when a corner
  is scratched), as SVG (print) or PNG (labels software).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.errors import NotFound
from shop.extensions import db
from shop.inventory.models import Lot, LotState, LotStock
from shop.inventory.services import fefo_order, lot_state
from shop.timeutil import utcnow

MAX_STAMPS = 240  # ten A4 pages of 24


def trace_url(product_id: int, lot_id: int | None = None) -> str:
    """The absolute public URL a stamp carries (needs an app context; a request context when
    ``PUBLIC_BASE_URL`` is not set)."""
    path = (url_for("trace.product", product_id=product_id) if lot_id is None
            else url_for("trace.lot", product_id=product_id, lot_id=lot_id))
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base + path
    return url_for("trace.product", product_id=product_id, _external=True) if lot_id is None else \
        url_for("trace.lot", product_id=product_id, lot_id=lot_id, _external=True)


def qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, scale: int = 4, title: str | None = None, sized: bool = True) -> str:
    """The QR code of ``url`` as an SVG document (black on white, 4-module quiet zone).

    ``sized=False`` leaves out width and height (a viewBox only), so CSS sizes it in print.
    """
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title=title,
                 svgclass="qr", lineclass=None, omitsize=not sized)
    return out.getvalue().decode("utf-8")


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """The QR code of ``url`` as PNG bytes (8 px per module by default)."""
    out = io.BytesIO()
    qr(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@dataclass
class Trace:
    """What the trace page shows: the product, its certificates, and (for a lot URL) the lot."""

    product: object
    lot: Lot | None
    lot_state: LotState | None  # None for a product-level trace
    now: datetime


def find_trace(product_id: int, lot_id: int | None = None) -> Trace:
    """The product (listed or not: old packages must keep working) and the lot; ``NotFound`` when
    either does not exist or the lot belongs to another product."""
    from shop.catalog.models import Product
    from shop.producers.models import Producer
    from shop.places.services import with_lineage

    product = db.session.scalars(
        select(Product).where(Product.id == product_id)
        .options(*with_lineage(Product.producer, Producer.locality), selectinload(Product.certificates))
    ).first()
    if product is None:
        raise NotFound("No such product.")
    lot = None
    if lot_id is not None:
        lot = db.session.get(Lot, lot_id)
        if lot is None or lot.product_id != product.id:
            raise NotFound("No such lot.")
    now = utcnow()
    return Trace(product=product, lot=lot, lot_state=lot_state(lot, now, margin_days=0) if lot else None, now=now)


@dataclass(frozen=True)
class Stamp:
    product: object
    lot: Lot | None
    url: str
    svg: str


def lot_stamps(lot_id: int, copies: int) -> list[Stamp]:
    """``copies`` identical stamps of one lot (1 to ``MAX_STAMPS``); ``NotFound`` for no lot."""
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound("No such lot.")
    url = trace_url(lot.product_id, lot.id)
    stamp = Stamp(product=lot.product, lot=lot, url=url, svg=qr_svg(url, scale=1, sized=False))
    return [stamp] * max(1, min(copies, MAX_STAMPS))


def shop_stamps(shop_id: int) -> list[Stamp]:
    """One stamp per lot on hand at a shop (products by name, lots first-expiring first), at most
    ``MAX_STAMPS``; lots recalled or past their best-before day get none (they leave the shelf)."""
    from shop.catalog.models import Product

    now = utcnow()
    lots = db.session.scalars(
        select(Lot).join(LotStock, LotStock.lot_id == Lot.id).join(Product, Product.id == Lot.product_id)
        .where(LotStock.shop_id == shop_id, LotStock.on_hand > 0)
        .order_by(Product.name, *fefo_order()).limit(MAX_STAMPS)
    ).all()
    stamps = []
    for lot in lots:
        if lot_state(lot, now, margin_days=0) != LotState.SELLABLE:
            continue
        url = trace_url(lot.product_id, lot.id)
        stamps.append(Stamp(product=lot.product, lot=lot, url=url, svg=qr_svg(url, scale=1, sized=False)))
    return stamps
