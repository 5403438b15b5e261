"""Public producer pages: the directory and one producer's profile with its products."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from shop.catalog.filters import read_filters
from shop.errors import NotFound
from shop.pagecache import cached_page
from shop.producers import bp
from shop.producers.services import list_producers, producer_profile


@bp.get("", strict_slashes=False)
@cached_page
def index():
    return render_template("producers/index.html", producers=list_producers())


@bp.get("/<slug>")
@cached_page
def detail(slug: str):
    try:
        # The catalogue's own reader: a bad ``page`` is ignored, as on the catalogue.
        profile = producer_profile(slug, page=read_filters(request.args).filters.page)
    except NotFound:
        raise NotFound(_("We could not find that producer.")) from None
    return render_template("producers/detail.html", profile=profile, producer=profile.producer)
