"""Strict reading of API input: query parameters, JSON bodies and the fields inside them.

The pages forgive malformed input (a bad ``page`` shows page 1); the API does not: a partner's
program should learn about its mistake at once, with the parameter or field named. Everything
here only checks shapes and types; the rules of the shop stay in the domain services.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from shop.errors import DomainError, InvalidInput
from shop.inputs import DB_INT_MAX, whole_number

# Request bodies are small JSON objects; anything bigger is refused before it is read (413).
MAX_BODY_BYTES = 64 * 1024
# Text must not carry control characters (NUL breaks PostgreSQL) or lone surrogates (not UTF-8).
_BAD_CHARS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# Cart tokens are URL-safe base64 (``secrets.token_urlsafe``).
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_TOKEN = re.compile(TOKEN_PATTERN)


class InvalidParameter(InvalidInput):
    """A query parameter is malformed or out of range."""

    code = "invalid_parameter"
    status = 400


class InvalidJson(InvalidInput):
    """The body is not a JSON object."""

    code = "invalid_json"
    status = 400


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415


def clean_text(value: str, field: str, max_length: int, error: type[InvalidInput] = InvalidInput) -> str:
    if len(value) > max_length:
        raise error(_("%(field)s must be at most %(n)d characters.", field=field, n=max_length), field=field)
    if _BAD_CHARS.search(value):
        raise error(_("%(field)s must not contain control characters.", field=field), field=field)
    return value


# ---- query parameters -----------------------------------------------------------------------


def _single(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(_("%(field)s may be given only once.", field=name), field=name)
    return values[0] if values else None


def text_param(name: str, max_length: int) -> str | None:
    """An optional text parameter, stripped; empty means absent."""
    raw = _single(name)
    if raw is None:
        return None
    return clean_text(raw, name, max_length, InvalidParameter).strip() or None


def valid_token(value: str | None) -> bool:
    return bool(value) and bool(_TOKEN.fullmatch(value))


# ---- JSON bodies ----------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object. Wrong content type → 415; not a JSON object → 400.

    A body is optional only where ``required`` is false, and then only when nothing at all is sent.
    """
    mimetype = request.mimetype
    # The limit is checked here, not only through ``request.max_content_length``: an app-wide hook
    # may have opened the body stream (with the app's larger limit) before the blueprint's hooks ran.
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    if mimetype != "application/json":
        if not required and not mimetype and not raw:
            return {}
        raise UnsupportedMediaType(_("Send a JSON body with the header Content-Type: application/json."))
    if not raw.strip():
        if not required:
            return {}
        raise InvalidJson(_("The request body is empty; send a JSON object."))
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidJson(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise InvalidJson(_("The request body must be a JSON object."))
    return data


def object_field(data: dict, key: str, path: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(_("%(field)s must be an object.", field=path), field=path)
    return value


def string_field(data: dict, key: str, path: str, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be a string.", field=path), field=path)
    return clean_text(value, path, max_length)


def int_field(data: dict, key: str, path: str, low: int = -DB_INT_MAX, high: int = DB_INT_MAX) -> int:
    """A JSON whole number from ``low`` to ``high``: ``2`` or ``2.0``; not ``"2"``, ``true``, ``2.5``
    or ``1e300``. The caller's rule then says what the number may be (range messages are its own)."""
    value = data.get(key)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    number = whole_number(value, low, high) if isinstance(value, int) else None
    if number is None:
        if isinstance(value, int) and not isinstance(value, bool):
            raise InvalidInput(_("%(field)s must be a whole number from %(low)d to %(high)d.",
                                 field=path, low=low, high=high), field=path)
        raise InvalidInput(_("%(field)s must be a whole number.", field=path), field=path)
    return number
