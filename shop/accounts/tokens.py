"""Signed, expiring links sent by e-mail (itsdangerous ``URLSafeTimedSerializer``).

Each purpose has its own salt, so a link made for one purpose is refused by every other. How each
one ends:

- ``reset`` (password reset): after ``PASSWORD_RESET_MAX_AGE`` seconds (1 hour), or as soon as the
  password changes — it carries a fingerprint of the password hash, so it works once.
- ``verify`` (e-mail verification): after ``EMAIL_VERIFY_MAX_AGE`` (3 days), or when the account's
  e-mail changes; using it twice does nothing more.
- ``change-email``: after ``EMAIL_VERIFY_MAX_AGE``, or when the account's current e-mail or password
  changes.
"""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_TOKEN_LENGTH = 600  # a link far longer than any we make is refused before any work


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"accounts.{purpose}")


def make(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str | None, max_age: int) -> dict | None:
    """The payload of a valid, unexpired token of ``purpose``; None for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return payload if isinstance(payload, dict) else None


def fingerprint(*parts: str | None) -> str:
    """A short digest of secrets a token depends on; the token dies when any of them changes."""
    return hashlib.sha256("|".join(p or "" for p in parts).encode()).hexdigest()[:20]
