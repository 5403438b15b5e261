"""The administrators' side of the portal, on the administration's blueprint (``/admin``, whose
``before_request`` admits administrators only): a product's photo page, and the approval queue of
producers' proposals. Kept here so that the administration's own modules stay as they are."""
from __future__ import annotations

from flask import redirect, url_for
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop.admin import bp
from shop.catalog.models import Product
from shop.extensions import db


@bp.get("/products/<slug>/photos")
def product_photos(slug: str):
    """Any product's photos: the portal's photo page, which administrators may use for every product."""
    product = db.session.scalar(select(Product).where(Product.slug == slug[:160]))
    if product is None:
        raise NotFound()
    return redirect(url_for("portal.photos", slug=product.producer.slug, product=product.slug))
