"""Public producer pages: the directory and one producer's profile with its products."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from shop.errors import NotFound
from shop.producers import bp
from shop.producers.services import list_producers, producer_profile


@bp.get("", strict_slashes=False)
def index():
    return render_template("producers/index.html", producers=list_producers())


@bp.get("/<slug>")
def detail(slug: str):
    try:
        profile = producer_profile(slug)
    except NotFound:
        raise NotFound(_("We could not find that producer.")) from None
    return render_template("producers/detail.html", profile=profile, producer=profile.producer)
