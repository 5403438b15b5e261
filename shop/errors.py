"""Domain errors raised by services, and the HTTP error pages.

Services raise these; views turn them into a form error, a flash or a 4xx JSON reply. The
``message`` is written for the person who caused it.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
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


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register_errorhandlers(app: Flask) -> None:
    def render_error(status: int, message: str | None = None):
        if _wants_json():
            return jsonify(error={"code": str(status), "message": message or ""}), status
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
        return render_error(exc.code or 500, messages.get(exc.code or 500, exc.description))

    @app.errorhandler(DomainError)
    def handle_domain(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status, exc.message)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Roll back first so the error page itself can still read from the database.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500, _("Something went wrong on our side. Please try again."))
