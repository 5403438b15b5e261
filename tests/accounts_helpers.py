"""Builders shared by the accounts tests: users of each role and a signed-in client."""
from __future__ import annotations

import itertools

from shop.accounts import services as accounts
from shop.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(role: str = "customer", email: str | None = None, password: str = PASSWORD, **memberships):
    user = accounts.create_user(email or f"user{next(_seq)}@example.vn", role, password=password,
                                name=memberships.pop("name", ""), **memberships)
    db.session.commit()
    return user


def sign_in(client, email: str, password: str = PASSWORD, remember: bool = False, follow: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/account/sign-in", data=data, follow_redirects=follow)
