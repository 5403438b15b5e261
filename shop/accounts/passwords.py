"""Password hashing with argon2id (argon2-cffi's ``PasswordHasher``).

The cost comes from the config (``PASSWORD_HASH_TIME_COST``, ``PASSWORD_HASH_MEMORY_KIB``;
argon2-cffi's RFC 9106 "low memory" defaults in production, cheap in tests). A hash made with an
older cost is replaced at the next successful sign-in (``needs_rehash``).

Unknown e-mail addresses are checked against a dummy hash of the same cost, so that signing in
with an address that has no account takes as long as with one that has (no user enumeration by
timing).
"""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _

from shop.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a megabyte "password" from costing CPU


def _hasher() -> PasswordHasher:
    state = current_app.extensions.setdefault("password_hasher", {})
    if "hasher" not in state:
        config = current_app.config
        state["hasher"] = PasswordHasher(time_cost=config["PASSWORD_HASH_TIME_COST"],
                                         memory_cost=config["PASSWORD_HASH_MEMORY_KIB"], parallelism=1)
        state["dummy"] = state["hasher"].hash(secrets.token_urlsafe(16))
    return state["hasher"]


def check_new_password(password: str | None, field: str = "password") -> str:
    """A password someone chooses: 10 to 256 characters. Raises ``InvalidInput(field=field)``."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(_("Choose a password of at least %(n)d characters.", n=MIN_LENGTH), field=field)
    if len(password) > MAX_LENGTH:
        raise InvalidInput(_("A password can have at most %(n)d characters.", n=MAX_LENGTH), field=field)
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str | None) -> bool:
    """True when ``password`` matches. With no hash (unknown user, closed account) a dummy hash is
    checked anyway, so that the answer takes the same time, and False is returned."""
    hasher = _hasher()
    password = (password or "")[:MAX_LENGTH]
    try:
        if not password_hash:
            hasher.verify(current_app.extensions["password_hasher"]["dummy"], password)
            return False
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
