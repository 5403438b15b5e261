"""Strict reading of API input: query parameters, JSON bodies and the fields inside them.

The pages forgive malformed input (a bad ``page`` shows page 1); the API does not: a partner's
program should learn about its mistake at once, with the parameter or field named. Everything
here only checks shapes and types; the rules of the shop stay in the domain services.

JSON bodies are read into the request models of ``shop.api.schemas`` (``read_body``). Their fields
are declared with the markers below, which give both the check and the field's JSON Schema:

- ``Text``: a string, at most ``accept`` characters read at all, no control characters; the
  document states the real limits (``max_length`` may be a ``String(n)`` model column), which
  the services check after NFC normalisation with ``shop.inputs.column_text``;
- ``WholeNumber``: a JSON whole number (``2`` or ``2.0``) read by ``shop.inputs.whole_number``;
- ``Tagged``: a union of body models told apart by a tag field (the ``type`` of a fulfilment);
- ``Body``: the base of request models; an absent field is checked like a null one, so each
  field's own message names it; unknown fields are ignored.

The first problem found, in the order the fields are declared, becomes a 400 ``invalid_input``
naming the field by its path (``fulfilment.address.ward``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Discriminator, ValidationError, model_validator
from pydantic_core import PydanticCustomError, core_schema
from werkzeug.exceptions import RequestEntityTooLarge

from shop.errors import DomainError, InvalidInput
from shop.inputs import DB_INT_MAX, column_length, whole_number

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
    problem = _text_problem(value, max_length)
    if problem is not None:
        raise error(_message(field, *problem), field=field)
    return value


def _text_problem(value: str, max_length: int) -> tuple[str, dict] | None:
    if len(value) > max_length:
        return "too_long", {"n": max_length}
    if _BAD_CHARS.search(value):
        return "control", {}
    return None


def _message(field: str, reason: str, params: dict) -> str:
    """The message of a problem found in ``field``, in the request's language."""
    if reason == "object":
        return _("%(field)s must be an object.", field=field)
    if reason == "string":
        return _("%(field)s must be a string.", field=field)
    if reason == "too_long":
        return _("%(field)s must be at most %(n)d characters.", field=field, n=params["n"])
    if reason == "control":
        return _("%(field)s must not contain control characters.", field=field)
    if reason == "range":
        return _("%(field)s must be a whole number from %(low)d to %(high)d.",
                 field=field, low=params["low"], high=params["high"])
    if reason == "message":  # a message the declaration wrote itself
        return params["message"]
    return _("%(field)s must be a whole number.", field=field)  # reason "whole_number"


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


class _Absent:
    """A field the body does not have (``Body`` puts it in, so that the field's own check names it)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def _problem(reason: str, **params) -> PydanticCustomError:
    return PydanticCustomError("api_input", reason, {"reason": reason, **params})


def _reason(error: dict) -> tuple[str, dict]:
    """(reason, params) of one pydantic error: ours (``api_input``), or pydantic's own for a model
    given something else than an object."""
    if error["type"] == "api_input":
        params = dict(error.get("ctx") or {})
        return params.pop("reason"), params
    return "object", {}  # model_type, model_attributes_type, dict_type: the only others a Body raises


def _path(error: dict) -> str:
    params = error.get("ctx") or {}
    parts = [str(part) for part in error["loc"]]
    if params.get("at"):
        parts.append(params["at"])
    return ".".join(parts)


def _relocated(error: dict) -> PydanticCustomError:
    """``error`` of a union member raised again by the union, its path kept in ``at`` (pydantic
    would put the member's name in the path, a name the client never wrote)."""
    reason, params = _reason(error)
    params["at"] = _path(error)
    return _problem(reason, **params)


class Body(BaseModel):
    """A request body (or an object inside one). Every declared field is checked, absent or not."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _absent_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**{name: ABSENT for name in cls.model_fields}, **data}
        return data  # not an object: pydantic refuses it (reason "object")


@dataclass(frozen=True)
class Text:
    """A JSON string of at most ``accept`` characters without control characters (absent or null:
    "must be a string"). The rest describes the field in the document and is the services' to
    check, with their own messages: ``min_length``, ``max_length`` (a number or a ``String(n)``
    model column, counted after NFC normalisation), ``pattern``, ``enum``."""

    accept: int
    min_length: int | None = None
    max_length: Any = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _problem("string")
        problem = _text_problem(value, self.accept)
        if problem is not None:
            raise _problem(problem[0], **problem[1])
        return value

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema, handler) -> dict:
        json_schema: dict[str, Any] = {"type": "string"}
        if self.enum is not None:
            json_schema["enum"] = list(self.enum)
        if self.min_length is not None:
            json_schema["minLength"] = self.min_length
        if self.max_length is not None:
            json_schema["maxLength"] = (self.max_length if isinstance(self.max_length, int)
                                        else column_length(self.max_length))
        if self.pattern is not None:
            json_schema["pattern"] = self.pattern
        return json_schema


@dataclass(frozen=True)
class WholeNumber:
    """A JSON whole number, ``2`` or ``2.0``; not ``"2"``, ``true``, ``2.5`` or ``1e300``; read from
    ``low`` to ``high`` (``shop.inputs.whole_number``). ``minimum`` and ``maximum`` describe the
    field in the document (a ``maximum`` given as a setting's name is filled in from the config);
    the service's rule checks them with its own message. ``required``: the message when absent."""

    minimum: int | None = None
    maximum: int | str | None = None
    low: int = -DB_INT_MAX
    high: int = DB_INT_MAX
    required: Any = None

    def check(self, value: Any) -> int:
        if value is ABSENT and self.required is not None:
            raise _problem("message", message=str(self.required))
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        number = whole_number(value, self.low, self.high) if isinstance(value, int) else None
        if number is None:
            if isinstance(value, int) and not isinstance(value, bool):
                raise _problem("range", low=self.low, high=self.high)
            raise _problem("whole_number")
        return number

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema, handler) -> dict:
        json_schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            json_schema["minimum"] = self.minimum
        if isinstance(self.maximum, str):
            json_schema["x-config"] = {"maximum": self.maximum}
        elif self.maximum is not None:
            json_schema["maximum"] = self.maximum
        return json_schema


@dataclass(frozen=True)
class Tagged:
    """A union of ``Body`` models told apart by the string field ``key`` (each model declares it as a
    ``Literal``). The tag is read like a ``Text`` (``tag``); a tag that names no model gets
    ``message``. The document shows a ``oneOf`` with a discriminator."""

    key: str
    tag: Text
    message: Any

    def __get_pydantic_core_schema__(self, source, handler):
        members = {}
        for model in get_args(source):
            for value in get_args(model.model_fields[self.key].annotation):
                members[value] = model

        def validate(value: Any, _handler) -> BaseModel:
            if not isinstance(value, dict):
                raise _problem("object")
            try:
                tag = self.tag.check(value.get(self.key, ABSENT))
            except PydanticCustomError as exc:
                params = dict(exc.context)
                raise _problem(params.pop("reason"), **params, at=self.key) from None
            model = members.get(tag)
            if model is None:
                raise _problem("message", message=str(self.message), at=self.key)
            try:
                return model.model_validate(value)
            except ValidationError as exc:
                raise _relocated(exc.errors()[0]) from None

        # The union with its discriminator gives the document its oneOf; checking is ``validate``'s.
        union = handler(Annotated[source, Discriminator(self.key)])
        return core_schema.no_info_wrap_validator_function(validate, union)


Model = TypeVar("Model", bound=BaseModel)


def read_body(model: type[Model]) -> Model:
    """The request's JSON object (``json_body``) read into ``model``; the first problem, in the order
    the fields are declared, is an ``InvalidInput`` naming the field by its path."""
    data = json_body()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        reason, params = _reason(error)
        field = _path(error)
        raise InvalidInput(_message(field, reason, params), field=field) from None
