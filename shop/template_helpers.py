"""Jinja filters and globals shared by every page."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, g, request, url_for
from flask_babel import format_number, get_translations

from shop.catalog.enums import CertificateKind, CertificateLevel, CertificatePublicStatus, CertificateStatus
from shop.i18n import current_lang, localized, remember_locale
from shop.inventory.enums import LotState, MovementReason, ReservationState
from shop.inventory.rules import is_low_stock
from shop.markup import excerpt, render_markdown
from shop.media import image_info
from shop.money import format_vnd
from shop.phone import display_phone, phone_uri
from shop.places.enums import PlaceKind
from shop.places.services import address_label, place_label
from shop.producers.enums import ProducerKind
from shop.shops.enums import ShopKind
from shop.timeutil import VN_TZ


def format_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy, the way Vietnamese write dates (English pages use it too, unambiguous here)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(VN_TZ)
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def url_with(**changes) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def media_url(path: str | None) -> str | None:
    return url_for("media", filename=path) if path else None


def init_app(app: Flask) -> None:
    app.add_template_filter(format_vnd, "vnd")
    app.add_template_filter(display_phone, "phone")  # "0912 345 678" for Vietnam, "+44 7700 900123" otherwise
    app.add_template_filter(phone_uri, "tel")  # "tel:+84912345678"
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_number, "thousands")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(excerpt, "excerpt")
    app.add_template_global(localized)
    app.add_template_global(current_lang)
    app.add_template_global(url_with)
    app.add_template_global(media_url)
    app.add_template_global(image_info)  # a stored picture's size and WebP copies (shop/media.py)
    app.add_template_global(place_label)
    app.add_template_global(address_label)
    app.add_template_global(is_low_stock)  # the low-stock rule (shop/inventory/rules.py)
    # Coded values the templates compare with and label (``CertificateKind.label_of(code)``).
    for vocabulary in (CertificateKind, CertificateLevel, CertificateStatus, CertificatePublicStatus, ProducerKind,
                       ShopKind, PlaceKind, MovementReason, ReservationState, LotState):
        app.add_template_global(vocabulary, vocabulary.__name__)
    app.after_request(remember_locale)
    _install_request_translations(app)


def _request_translations():
    """The request's translations, looked up once per request (Flask-Babel resolves the domain,
    the locale and its catalogue on every call; a page makes about a hundred)."""
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def _install_request_translations(app: Flask) -> None:
    """Replace the template gettext callables Flask-Babel installed by ones that look the
    catalogue up once per request (same strings, same catalogues; the locale is chosen once per
    request by ``shop.i18n.select_locale``)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )
