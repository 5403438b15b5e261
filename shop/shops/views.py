"""The public list of OCOP outlets, with addresses, opening hours and map links."""
from __future__ import annotations

from flask import render_template

from shop.pagecache import cached_page
from shop.shops import bp
from shop.shops.services import public_shops


@bp.get("", strict_slashes=False)
@cached_page
def index():
    return render_template("shops/index.html", shops=public_shops())
