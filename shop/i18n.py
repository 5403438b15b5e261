"""Language choice: Vietnamese by default, English on request; the choice sticks in a cookie."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_babel import get_locale

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        g.lang_changed = asked
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_locale(response):
    """After ``?lang=xx``, keep the choice for a year."""
    chosen = g.get("lang_changed")
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def current_lang() -> str:
    return str(get_locale() or "vi")


def localized(obj, field: str) -> str:
    """``obj.<field>_en`` in English when it is filled in, else the Vietnamese ``obj.<field>``."""
    if current_lang() == "en":
        value = getattr(obj, f"{field}_en", None)
        if value:
            return value
    return getattr(obj, field) or ""
