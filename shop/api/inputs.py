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

# Request bodies are small JSON objects; anything bigger is refused before it is read (413).
MAX_BODY_BYTES = 64 * 1024
# A positive decimal number without sign, spaces or leading "+": "7", "007"; not "-1", "1.0", " 2".
_DIGITS = re.compile(r"[0-9]{1,10}")
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


def int_param(name: str, default: int, low: int, high: int) -> int:
    """An optional whole number from ``low`` to ``high``."""
    raw = _single(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        if low == 1 and high >= 10_000:
            message = _("%(field)s must be a positive integer (at most %(high)d).", field=name, high=high)
        else:
            message = _("%(field)s must be an integer from %(low)d to %(high)d.", field=name, low=low, high=high)
        raise InvalidParameter(message, field=name)
    return int(raw)


def choice_param(name: str, choices: tuple[str, ...]) -> str | None:
    raw = _single(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidParameter(_("%(field)s must be one of: %(choices)s.", field=name, choices=", ".join(choices)),
                               field=name)
    return raw


def stars_param() -> list[int]:
    """``stars=4&stars=5`` or ``stars=4,5``: each value 3, 4 or 5."""
    stars: set[int] = set()
    for raw in request.args.getlist("stars"):
        for part in raw.split(","):
            if part.strip() not in ("3", "4", "5"):
                raise InvalidParameter(_("stars must be 3, 4 or 5 (repeat the parameter or separate with commas)."),
                                       field="stars")
            stars.add(int(part))
    return sorted(stars)


def ref_param(name: str, max_length: int = 160) -> str | int | None:
    """A reference to a group, producer or locality: its slug, or its numeric id."""
    value = text_param(name, max_length)
    if value is None:
        return None
    if _DIGITS.fullmatch(value):
        number = int(value)
        return number if valid_id(number) else 0  # an id no row has: matches nothing
    return value


def valid_id(value: int) -> bool:
    """Path ids come from Flask's ``int`` converter; keep them inside the database's integer range."""
    return 0 < value < 2**31


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


def int_field(data: dict, key: str, path: str) -> int:
    """A JSON whole number: ``2`` or ``2.0``; not ``"2"``, ``true`` or ``2.5``."""
    value = data.get(key)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("%(field)s must be a whole number.", field=path), field=path)
    return value
