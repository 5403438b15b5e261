"""A request id in every log line, the site-wide headers on every response, and the health
endpoints a load balancer asks.

Headers on every response (``shop.headers.DEFAULT_HEADERS``, applied by ``site_defaults``; a view
that sets one itself keeps its own, e.g. the stricter referrer rule of secret order links in
``shop.headers.secret_link``):

- ``Content-Security-Policy``: scripts, styles, pictures, fonts and requests from this origin only;
  no inline script or event handler runs (our pages have none: ``tests/test_security_headers.py``
  checks every template); forms may post here and to Stripe Checkout (card payment redirects
  there); the page may not be framed (``frame-ancestors 'none'``: clickjacking). Source: W3C CSP
  Level 3; OWASP Secure Headers Project.
- ``X-Content-Type-Options: nosniff``, a referrer policy that sends only the origin to other sites,
  ``Permissions-Policy`` turning off camera, microphone, geolocation, payment and USB, and
  ``X-Frame-Options: DENY`` for browsers older than ``frame-ancestors``.
- ``Strict-Transport-Security`` (one year, subdomains) only where ``HSTS_SECONDS`` is set, which
  production does (``config.ProductionConfig``): HSTS on plain-HTTP development would lock a
  browser out of ``http://127.0.0.1``.

Request ids: ``X-Request-ID`` from the proxy when it is a short token of letters, digits, ``-`` and
``_`` (otherwise a new one), kept in ``g.request_id``, returned in the response and added to
every log record as ``request_id`` (``RequestIdFilter``).

``/healthz``: the process answers (200, no database). ``/readyz``: the database answers and its
schema is at the migrations' head (200), or 503 with the reason — a load balancer stops sending
traffic to a worker whose database is gone or not yet migrated, without restarting it.
"""
from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, jsonify, request
from sqlalchemy import text

from shop.extensions import db
from shop.headers import no_store, site_defaults

REQUEST_ID_HEADER = "X-Request-ID"
LOG_FORMAT = "[%(asctime)s] %(levelname)s request=%(request_id)s %(module)s: %(message)s"
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

bp = Blueprint("health", __name__)


def request_id() -> str | None:
    """The current request's id (``g.request_id``), or None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` ("-" outside a request) so a format can name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() or "-"
        return True


def _assign_request_id() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _REQUEST_ID.fullmatch(offered) else secrets.token_hex(8)


def _add_headers(response: Response) -> Response:
    site_defaults(response, current_app.config.get("HSTS_SECONDS") or 0)
    if g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


@bp.get("/healthz")
def healthz():
    """The process is up (no database call): 200 ``{"status": "ok"}``."""
    return jsonify(status="ok")


def migration_heads() -> set[str]:
    """The head revision(s) of ``migrations/`` (read once per process)."""
    heads = current_app.extensions.get("ocop_migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory
        from alembic.config import Config as AlembicConfig

        directory = Path(current_app.root_path).parent / "migrations"
        config = AlembicConfig()
        config.set_main_option("script_location", str(directory))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["ocop_migration_heads"] = heads
    return heads


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and is migrated to the head.

    200 ``{"status": "ready", "revision": …}``; 503 ``{"status": "unavailable", "reason": …}`` when
    the database cannot be reached or its ``alembic_version`` is not the migrations' head.
    """
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
            except Exception:  # noqa: BLE001 - no alembic_version table: never migrated
                current = set()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means "not ready"
        current_app.logger.warning("readyz: database unreachable: %s", exc.__class__.__name__)
        return _unavailable("database unreachable")
    heads = migration_heads()
    if current != heads:
        return _unavailable(f"database at revision {sorted(current) or 'none'}, migrations at {sorted(heads)}")
    return jsonify(status="ready", revision=sorted(current)[0] if len(current) == 1 else sorted(current))


def _unavailable(reason: str):
    response = jsonify(status="unavailable", reason=reason)
    response.status_code = 503
    return no_store(response)


def init_app(app: Flask) -> None:
    """Register the request id, the default headers and the health endpoints."""
    app.before_request(_assign_request_id)
    app.after_request(_add_headers)
    app.register_blueprint(bp)
    from flask.logging import default_handler

    default_handler.addFilter(RequestIdFilter())
    default_handler.setFormatter(logging.Formatter(LOG_FORMAT))
