"""Domain errors raised by services, and the HTTP error pages.

Services raise these; views turn them into a form error, a flash or a 4xx JSON reply. The
``message`` is written for the person who caused it.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from shop.extensions import db


class DomainError(Exception):
    """A rule of the shop was broken; ``code`` is stable for API clients."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"
    status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400


class InvalidFields(InvalidInput):
    """Several inputs are wrong at once. ``errors`` maps each field to its messages, in the order
    the fields were checked (a form's order); the field name "" holds errors about no one field.

    ``message`` and ``details["field"]`` are the first error, so code that reads one error (the JSON
    API's ``field``) still gets a sensible one.
    """

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0], **({"field": field} if field else {}))
        self.errors = errors


class FieldErrors:
    """Collects every field's ``InvalidInput`` so a form reports all its problems in one answer.

    Usage (services)::

        errors = FieldErrors()
        name = errors.check(column_text, raw_name, User.name, "name")   # None if it failed
        email = errors.check(clean_email, raw_email)
        errors.raise_if_any()                                           # InvalidFields, or nothing

    A check that raises ``InvalidFields`` itself (a nested group of fields) adds all of its errors.
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str | None, message: str) -> None:
        self.errors.setdefault(field or "", []).append(message)

    def check(self, func, *args, **kwargs):
        """``func(*args, **kwargs)``, or None after recording the InvalidInput it raised."""
        try:
            return func(*args, **kwargs)
        except InvalidFields as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add(field, message)
        except InvalidInput as exc:
            self.add(exc.details.get("field"), exc.message)
        return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403


class CustomerLimit(DomainError):
    """One customer already has as many open unpaid orders (or held units) as the shop allows."""

    code = "customer_limit"
    status = 409


def _wants_json() -> bool:
    # The API, and the search box's suggestions (shop/catalog/views.py: /search/suggest).
    return request.path.startswith(("/api/", "/search/"))


# Stable codes for JSON clients when the error comes from HTTP itself rather than a DomainError.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
}


def json_error(status: int, code: str, message: str, details: dict | None = None, headers=None):
    """``{"error": {"code", "message"[, "field"][, "details"]}}`` with ``status``.

    ``field`` names the offending input; other plain details (e.g. ``product_id``) go in ``details``.
    """
    error: dict = {"code": code, "message": message or code.replace("_", " ").capitalize() + "."}
    details = dict(details or {})
    field = details.pop("field", None)
    if isinstance(field, str):
        error["field"] = field
    extra = {k: v for k, v in details.items() if v is None or isinstance(v, (str, int, float, bool))}
    if extra:
        error["details"] = extra
    response = jsonify(error=error)
    response.status_code = status
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


#: Seconds a client is asked to wait when the database is unreachable (``Retry-After``).
DATABASE_RETRY_AFTER_SECONDS = 5


def register_errorhandlers(app: Flask) -> None:
    def render_error(status: int, message: str | None = None, code: str | None = None,
                     details: dict | None = None, headers=None):
        if _wants_json():
            return json_error(status, code or HTTP_ERROR_CODES.get(status, str(status)),
                              message or "", details, headers)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            403: _("You are not allowed to see this page."),
            404: _("We could not find that page."),
            405: _("That action is not allowed here."),
            413: _("The upload is too large."),
            415: _("Unsupported content type."),
            429: _("Too many requests. Please wait a moment and try again."),
        }
        status = exc.code or 500
        if status == 429 and getattr(exc, "response", None) is not None:
            return exc.response  # a page of its own (sign-in lockout: shop/accounts/views.py)
        return render_error(status, messages.get(status, exc.description),
                            headers=exc.get_headers() if status in (405, 429) else None)

    @app.errorhandler(DomainError)
    def handle_domain(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status, exc.message, exc.code, exc.details)

    @app.errorhandler(OperationalError)
    def handle_database_unreachable(exc: OperationalError):
        """The database dropped or refused the connection (restart, failover, network): 503 with
        ``Retry-After``, not a 500. The pool's pre-ping replaces dead connections, so the next
        request is served again without restarting the worker."""
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the session is reset below
            pass
        db.session.remove()
        app.logger.warning("Database unreachable on %s: %s", request.path, exc.__class__.__name__)
        message = _("The shop cannot reach its database for a moment. Please try again in a few seconds.")
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        if _wants_json():
            return json_error(503, "database_unavailable", message, None, headers)
        try:
            html = render_template("errors/error.html", status=503, message=message)
        except Exception:  # noqa: BLE001 - the page's header may need the database too
            return message, 503, {**headers, "Content-Type": "text/plain; charset=utf-8"}
        return html, 503, headers

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Roll back first so the error page itself can still read from the database.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500, _("Something went wrong on our side. Please try again."))
