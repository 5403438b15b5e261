"""Hostile values in every account and back-office form, signed in: never a 5xx (the route walk of
test_hostile_input.py visits them as a guest, who is sent to sign in before any form is read)."""
from __future__ import annotations

import pytest

from shop.extensions import db

from accounts_helpers import make_user, sign_in

HOSTILE = ["", " ", "x" * 5000, "<script>alert(1)</script>", "'; DROP TABLE user; --", "١٢٣٤٥٦",
           "0" * 40, "-1", "9" * 30, "\u202e\u200b", "a@b", "@", "é" * 300]
FIELDS = ["email", "password", "remember", "next", "code", "name", "current_password", "new_password",
          "new_email", "recipient", "phone", "street", "ward", "province", "codes-password"]
POSTS = ["/account/sign-in", "/account/sign-in/two-step", "/account/register", "/account/forgot-password",
         "/account/addresses", "/account/password", "/account/email", "/account/delete", "/account/two-step",
         "/account/two-step/disable", "/account/two-step/recovery-codes", "/account/verify/resend",
         "/account/reset/{bad}", "/account/verify/{bad}", "/account/email/confirm/{bad}",
         "/account/orders/{bad}/reorder", "/account/addresses/1/delete"]
GETS = ["/backoffice/shops/{bad}", "/backoffice/shops/{bad}/people", "/backoffice/producers/{bad}",
        "/backoffice/orders/{bad}", "/account/reset/{bad}", "/account/verify/{bad}",
        "/account/email/confirm/{bad}", "/account/sign-in?next={bad}"]


@pytest.mark.parametrize("role", ["customer", "admin"])
def test_no_account_form_answers_hostile_input_with_a_server_error(app, client, role):
    from urllib.parse import quote

    make_user(role, email="someone@example.vn")
    sign_in(client, "someone@example.vn")
    failures = []
    for value in HOSTILE:
        bad = quote(value[:300], safe="") or "x"
        for path in POSTS:
            response = client.post(path.format(bad=bad), data={field: value for field in FIELDS})
            if response.status_code >= 500:
                failures.append((path, value[:20], response.status_code))
            db.session.rollback()
            if path == "/account/delete" or response.status_code == 302 and "sign-in" in response.headers.get(
                    "Location", ""):
                sign_in(client, "someone@example.vn")
        for path in GETS:
            response = client.get(path.format(bad=bad))
            if response.status_code >= 500:
                failures.append((path, value[:20], response.status_code))
    assert failures == []
