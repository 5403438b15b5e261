"""Language choice: Vietnamese by default, English on request; the choice sticks in a cookie.

Order of precedence for a request (``select_locale``): ``?lang=vi|en`` (and it is remembered in
the ``lang`` cookie for a year), then that cookie, then the browser's ``Accept-Language`` header
(a first visit from an English browser gets English), then Vietnamese.

Text stored in both languages lives in a pair of columns, ``<field>`` (Vietnamese, always filled)
and ``<field>_en`` (English, may be empty): ``localized(obj, field)`` picks the one to show.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale, get_locale

LANG_COOKIE = "lang"


def select_locale() -> str:
    """``?lang=``, then the cookie, then ``Accept-Language``, then the default (``vi``)."""
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
    # best_match compares language ranges ("en-GB" matches "en"), honours q-values and ignores
    # malformed parts; it returns None when nothing offered is acceptable.
    g.lang_from_header = True  # this answer depends on the header (see remember_locale)
    browser = request.accept_languages.best_match(languages)
    if browser in languages:
        return browser
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_locale(response):
    """After ``?lang=xx``, keep the choice for a year. A cookie-less choice varies by header."""
    chosen = g.get("lang_changed")
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    elif g.get("lang_from_header"):
        # Without ?lang or a cookie the language came from Accept-Language: caches must not hand
        # the English page to a Vietnamese browser. (Static files choose no language: no Vary.)
        response.vary.add("Accept-Language")
    return response


def current_lang() -> str:
    return str(get_locale() or "vi")


def supported_lang(value: str | None) -> str:
    """``value`` if it is one of ``LANGUAGES``, else the default language (``vi``)."""
    return value if value in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def language(lang: str | None):
    """Translate with ``lang`` inside the block (an email in the language its order was placed in).

    ``localized`` follows it too. Unknown values fall back to the default language.
    """
    with force_locale(supported_lang(lang)):
        yield


def localized(obj, field: str) -> str:
    """``obj.<field>_en`` in English when it is filled in, else the Vietnamese ``obj.<field>``."""
    if obj is None:
        return ""
    if current_lang() == "en":
        value = getattr(obj, f"{field}_en", None)
        if value:
            return value
    return getattr(obj, field) or ""
