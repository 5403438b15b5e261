"""Rendered public pages kept between requests (issue 11): the body is made once per catalogue
and stock state, language and address, and each request only fills in what is its own.

Which pages: the decorated views (home, catalogue and search, product, producers, shops), GET or
HEAD only. The cache key is (the release: code, templates, translations and settings; endpoint, path, URL values, the query string's arguments in order,
the page language, scheme + host + script root, the catalogue version, the stock version). Both versions are random
tokens in ``catalogue_version`` rows (``shop.catalog.listing``): row 1 changes in the same
transaction as any product, producer, group, place or certificate write (and a certificate lapse),
row 2 in the same transaction as any stock movement, hold, lot or shop change
(``shop.inventory.services``), so a page changes at once after any of them, on every worker.

Time: an entry also stores the next instant at which a page may change by the clock alone — the
earliest of the next hold expiry, the next lot cut-off for online sale, the next certificate
instant (``Product.stars_until``) and the next midnight in Vietnam — and is never served from that
instant on (it is rendered again, after the lapsed certificates are refreshed).

What is never in a cached body: anything per visitor. The header's cart link and the product
page's "view your cart" line are *live* parts (``live("cart/_header_link.html")``), and the CSRF
token of a form a placeholder; each request renders them (a live part may depend only on the
language, the endpoint and the cart count, which is what its per-process memo is keyed by).
A template that reads ``cart_item_count()`` outside a live part while a body is being kept fails
loudly (``PerVisitorValue``), so a per-visitor value cannot slip into a shared body.
Requests that are never served from or stored in the cache: any method but GET/HEAD, a session
holding more than its CSRF token (flashed messages; a signed-in visitor), a remember-me cookie.

HTTP: each cacheable reply carries a weak ETag made of the key and the live parts (and the
session's CSRF secret when a form is on the page), so ``If-None-Match`` gets a 304. Cache-Control
is ``public, no-cache`` only when the request carried no cookie of ours and the reply sets none;
otherwise ``private, no-cache`` (a shared cache never keeps a page with a cart count or a
session); personal replies get ``private, no-store``. ``Vary: Cookie`` always.

Storage: Flask-Caching, ``SimpleCache`` per process in development and tests, Redis when
``CACHE_REDIS_URL`` (or ``REDIS_URL``) is set (shared by all workers; required for nothing, since
keys carry the versions). ``PAGE_CACHE=0`` turns it off.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path

from flask import Flask, current_app, g, make_response, render_template, request, session
from flask_caching import Cache
from markupsafe import Markup
from sqlalchemy import bindparam, func, select

from shop import timeutil
from shop.extensions import db
from shop.headers import PRIVATE_NO_STORE

cache = Cache()
log = logging.getLogger(__name__)

# Placeholders in a kept body: NUL never appears in our pages (forms refuse it, PostgreSQL too).
_NONCE = secrets.token_hex(4)
_MARK = f"\x00{_NONCE}:"
# Session keys that do not make a page personal.
_IMPERSONAL_SESSION_KEYS = frozenset({"csrf_token"})
# Entries also kept decoded in each process (a key names one version of one page, so a copy can
# never be stale; ``until`` is checked on every use): no unpickling on the common path.
FRONT_ENTRIES = 64
_front: dict[str, "Entry"] = {}
# Longest a kept page may live in the store when nothing else makes it expire sooner.
MAX_SECONDS = 6 * 3600


class PerVisitorValue(RuntimeError):
    """A template asked for a per-visitor value while a page body was being kept for everyone."""


@dataclass(frozen=True)
class Entry:
    """A kept page: text pieces with the live parts between them, and when it stops being true.

    ``parts`` alternates UTF-8 text and hole indexes: [text, 0, text, 1, text]; ``holes[i]`` is
    ``("csrf", "")`` or ``("template", name)``. ``until``: POSIX seconds (UTC), or None.
    """

    parts: tuple
    holes: tuple
    until: float | None


def init_app(app: Flask) -> None:
    """Configure the store (Redis when ``CACHE_REDIS_URL``/``REDIS_URL`` is set, else per process)
    and install ``live()`` and the CSRF placeholder in the templates."""
    redis_url = app.config.get("CACHE_REDIS_URL")  # config.py falls back to REDIS_URL
    settings = {"CACHE_KEY_PREFIX": "ocop-page:", "CACHE_DEFAULT_TIMEOUT": MAX_SECONDS}
    if redis_url:
        settings |= {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url}
    else:
        settings |= {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": app.config.get("PAGE_CACHE_ENTRIES", 500)}
    cache.init_app(app, config=settings)
    app.jinja_env.globals["live"] = live
    generate = app.jinja_env.globals.get("csrf_token")
    if generate is not None:  # Flask-WTF's, as a global and a context processor: replace both
        token = app.jinja_env.globals["csrf_token"] = lambda: _csrf_token(generate)
        app.context_processor(lambda: {"csrf_token": token})
    app.after_request(_cache_headers)


# ---- while a body is kept --------------------------------------------------------------------


def keeping() -> bool:
    """True while the current request renders a body that will be served to everyone."""
    return bool(g.get("_pagecache_holes") is not None)


def _hole(kind: str, name: str) -> Markup:
    holes = g._pagecache_holes
    holes.append((kind, name))
    return Markup(f"{_MARK}{len(holes) - 1}\x00")


def live(template: str) -> Markup:
    """A per-visitor part of a page (template name): rendered for each request, never kept."""
    if keeping():
        return _hole("template", template)
    return Markup(render_template(template))


def _csrf_token(generate) -> str:
    if keeping():
        return _hole("csrf", "")
    return generate()


def refuse_per_visitor(what: str) -> None:
    """Called by per-visitor helpers (the cart count): fails while a shared body is rendered."""
    if keeping():
        raise PerVisitorValue(f"{what} read outside a live() part of a cached page")


def _split(body: str) -> tuple:
    """The body as UTF-8 pieces with hole indexes between them (see ``Entry``)."""
    parts: list = []
    pieces = body.split(_MARK)
    parts.append(pieces[0].encode())
    for piece in pieces[1:]:
        index, _, text = piece.partition("\x00")
        parts.append(int(index))
        parts.append(text.encode())
    return tuple(parts)


_live_memo: dict[tuple, str] = {}


def _fill(entry: Entry) -> tuple[bytes, list[str]]:
    """The page for this request, and the live parts' text (for the ETag)."""
    from shop.cart.views import cart_item_count
    from shop.i18n import current_lang

    out, filled = [], []
    for part in entry.parts:
        if isinstance(part, bytes):
            out.append(part)
            continue
        kind, name = entry.holes[part]
        if kind == "csrf":
            text = current_app.jinja_env.globals["csrf_token"]()
        else:
            memo_key = (name, current_lang(), request.endpoint, request.script_root, cart_item_count())
            text = _live_memo.get(memo_key)
            if text is None:
                text = render_template(name)
                if len(_live_memo) > 500:
                    _live_memo.clear()
                _live_memo[memo_key] = text
            filled.append(text)
        out.append(text.encode())
    return b"".join(out), filled


# ---- the key and its lifetime ----------------------------------------------------------------


def versions() -> tuple[str, str]:
    """(catalogue token, stock token), creating the rows the first time (one SELECT otherwise)."""
    from shop.catalog import listing
    from shop.catalog.models import CatalogueVersion

    rows = dict(db.session.execute(select(CatalogueVersion.id, CatalogueVersion.token)
                                   .where(CatalogueVersion.id.in_((listing.CATALOGUE, listing.STOCK)))).all())
    if len(rows) < 2:
        for row in (listing.CATALOGUE, listing.STOCK):
            if row not in rows:
                listing.bump_version(db.session.connection(), row)
        db.session.commit()
        return versions()
    return rows[listing.CATALOGUE], rows[listing.STOCK]


_probes: dict[bool, object] = {}


def _probe_statement(with_cart: bool):
    """SELECT catalogue token, stock token[, units in the cart with token :token] — one round trip
    (Core, built once: a kept page is served with this one statement)."""
    stmt = _probes.get(with_cart)
    if stmt is None:
        from shop.cart.models import Cart, CartItem
        from shop.catalog import listing
        from shop.catalog.models import CatalogueVersion

        table = CatalogueVersion.__table__
        columns = [select(table.c.token).where(table.c.id == row).scalar_subquery()
                   for row in (listing.CATALOGUE, listing.STOCK)]
        if with_cart:
            cart, item = Cart.__table__, CartItem.__table__
            columns.append(select(func.coalesce(func.sum(item.c.quantity), 0))
                           .select_from(item.join(cart, cart.c.id == item.c.cart_id))
                           .where(cart.c.token == bindparam("token")).scalar_subquery())
        stmt = _probes[with_cart] = select(*columns)
    return stmt


def probe() -> tuple[str, str] | None:
    """(catalogue token, stock token) in one statement, which also counts the visitor's cart for
    the header (``cart_item_count`` then reads it from ``g``); None when a token row is missing."""
    from shop.cart.views import current_cart_token

    token = current_cart_token() if "cart_item_count" not in g else None
    # Straight on a pooled connection: building an ORM session for one SELECT costs more than it.
    with db.engine.connect() as connection:
        row = connection.execute(_probe_statement(token is not None), {"token": token} if token else {}).one()
    if token is not None:
        g.cart_item_count = int(row[2] or 0)
    if row[0] is None or row[1] is None:
        return None
    return row[0], row[1]


_release: dict[int, str] = {}


def release() -> str:
    """A fingerprint of what renders pages besides the data: the code, templates, translations and
    static files (file contents) and the settings (secrets left out), so a deploy or a changed setting never
    serves a body kept by the previous one from a shared store. Computed once per app."""
    app = current_app._get_current_object()
    found = _release.get(id(app))
    if found is None:
        root = Path(__file__).resolve().parent
        digest = hashlib.sha1()
        # Static files too: pages name them by versioned URL (shop/static_files.py).
        for folder, patterns in ((root, ("*.py", "*.mo")), (Path(app.template_folder), ("*.html",)),
                                 (Path(app.static_folder), ("*",))):
            for pattern in patterns:
                for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
                    digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
        for name, value in sorted(app.config.items()):
            if not any(word in name for word in ("SECRET", "KEY", "PASSWORD", "TOKEN", "URL", "URI")):
                digest.update(f"{name}={value!r}\n".encode())
        found = _release[id(app)] = digest.hexdigest()[:16]
    return found


def clear() -> None:
    """Forget every kept page (the store and this process's copies)."""
    cache.clear()
    _front.clear()
    _live_memo.clear()
    _coded.clear()


def _get(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a store that is down costs speed, never the page
        log.warning("page cache read failed", exc_info=True)
        return None


def _set(key: str, entry, timeout: int) -> None:
    try:
        cache.set(key, entry, timeout=timeout)
    except Exception:  # noqa: BLE001
        log.warning("page cache write failed", exc_info=True)


def page_key(tokens: tuple[str, str]) -> str:
    from shop.i18n import current_lang

    parts = [release(), request.endpoint or "", request.path, repr(sorted((request.view_args or {}).items())),
             repr(list(request.args.items(multi=True))), current_lang(), request.scheme, request.host,
             request.script_root, *tokens]
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def next_change(now: datetime) -> datetime:
    """The next instant after ``now`` at which a public page may change by the clock alone.

    The earliest of: a held reservation's expiry, a lot's cut-off for online sale, a product's
    certificate instant (``stars_until``), and the next midnight in Vietnam (dates shown, "valid
    until" notes). Three index reads (the hold one scans held reservations).
    """
    from shop.catalog.models import Product
    from shop.inventory.models import Reservation, ReservationState
    from shop.inventory.services import next_lot_cutoff

    today = now.astimezone(timeutil.VN_TZ).date()
    from shop.catalog.listing import vn_midnight

    instants = [vn_midnight(today + timedelta(days=1))]
    instants.append(db.session.scalar(select(func.min(Product.stars_until)).where(Product.stars_until > now)))
    instants.append(db.session.scalar(select(func.min(Reservation.expires_at))
                                      .where(Reservation.state == ReservationState.HELD,
                                             Reservation.expires_at > now)))
    instants.append(next_lot_cutoff(now))
    return min(at for at in instants if at is not None)


# ---- the decorator ---------------------------------------------------------------------------


def personal() -> bool:
    """True when this request's page is the visitor's own (never kept, never shared)."""
    if request.cookies.get("remember_token"):
        return True
    return any(key not in _IMPERSONAL_SESSION_KEYS for key in session.keys())


def cached_page(view):
    """Serve the view's page from the cache when it is true for this request (see the module)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if (not current_app.config.get("PAGE_CACHE", True) or request.method not in ("GET", "HEAD")
                or personal()):
            g._pagecache_private = True
            return view(*args, **kwargs)
        from shop.catalog import listing

        now = timeutil.utcnow()
        key = page_key(probe() or versions())
        entry = _front.get(key)
        if entry is None:
            entry = _get(key)
        if entry is None or (entry.until is not None and now.timestamp() >= entry.until):
            if listing.refresh_stale(db.session, now):  # a lapse changes the catalogue version
                key = page_key(versions())
            until = next_change(now)
            g._pagecache_holes = []
            try:
                body = view(*args, **kwargs)
                holes = tuple(g._pagecache_holes)
            finally:
                g._pagecache_holes = None
            if not isinstance(body, str):  # a redirect or a response of its own: not kept
                return view(*args, **kwargs)
            entry = Entry(_split(body), holes, until.timestamp())
            timeout = max(1, min(MAX_SECONDS, math.ceil(until.timestamp() - now.timestamp())))
            _set(key, entry, timeout)
            _front.pop(key, None)  # a copy past its instant is replaced, not kept
        if key not in _front:
            if len(_front) >= FRONT_ENTRIES:
                try:
                    del _front[next(iter(_front))]  # the oldest
                except (StopIteration, KeyError, RuntimeError):  # another thread got there first
                    _front.clear()
            _front[key] = entry
        body, filled = _fill(entry)
        with_form = any(kind == "csrf" for kind, _name in entry.holes)
        coded = None if with_form else _coded_copy(key, filled, body)
        if coded is not None:
            response = make_response(coded[1])
            response.headers["Content-Encoding"] = coded[0]  # Flask-Compress leaves it as it is
        else:
            response = make_response(body)
        tag = [key, *filled]
        if with_form:
            tag.append(session.get("csrf_token", ""))
        response.set_etag("p" + hashlib.sha1("\x1f".join(tag).encode()).hexdigest()[:24], weak=True)
        g._pagecache_public = True
        return response

    return wrapper


# Compressed copies of kept pages ({(key, coding, live parts): bytes}), per process: Brotli on a
# 35 KB page costs more than serving it from the cache, so it is done once per page and coding.
CODED_ENTRIES = 256
_coded: dict[tuple, bytes] = {}


def _coded_copy(key: str, filled: list[str], body: bytes) -> tuple[str, bytes] | None:
    """(coding, compressed body) when Flask-Compress would compress this reply (same choice of
    coding from Accept-Encoding, same levels, same minimum size), from the per-process copy when
    there is one; None otherwise (then the reply is left to Flask-Compress, as any other)."""
    app = current_app
    if not app.config.get("COMPRESS_REGISTER", True) or len(body) < app.config.get("COMPRESS_MIN_SIZE", 500):
        return None
    try:
        from flask_compress.flask_compress import _choose_algorithm, _compress_data

        from shop.extensions import compress
    except ImportError:  # another Flask-Compress: let it do its own work
        return None
    algorithms = getattr(compress, "enabled_algorithms", None)
    coding = _choose_algorithm(algorithms, request.headers.get("Accept-Encoding", "")) if algorithms else None
    if coding not in ("br", "gzip"):
        return None
    memo_key = (key, coding, tuple(filled))
    data = _coded.get(memo_key)
    if data is None:
        data = _compress_data(app, body, coding)
        if len(_coded) >= CODED_ENTRIES:
            _coded.clear()
        _coded[memo_key] = data
    return coding, data


def _cache_headers(response):
    """Cache-Control and Vary for pages that went through ``cached_page`` (see the module).

    Written as plain header strings: a kept page is served in well under a millisecond, and
    parsing and re-serialising these headers was a tenth of it."""
    if g.get("_pagecache_private"):
        response.headers["Cache-Control"] = PRIVATE_NO_STORE
        _vary_cookie(response)
    elif g.get("_pagecache_public") and response.status_code == 200:
        shared = (not request.cookies.get(current_app.config["CART_COOKIE_NAME"])
                  and not session and not session.modified and "Set-Cookie" not in response.headers
                  and not g.get("lang_changed"))
        response.headers["Cache-Control"] = "public, no-cache" if shared else "private, no-cache"
        _vary_cookie(response)
        if "If-None-Match" in request.headers:
            response.make_conditional(request)
    return response


def _vary_cookie(response) -> None:
    if "Vary" in response.headers:
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"
