"""The one module that talks to Stripe (and the only one that imports ``stripe``).

Functions take and return plain values (dicts), so the rest of the shop never handles SDK objects.
The client is built from ``STRIPE_SECRET_KEY`` and the SDK's module-level ``stripe.api_base``
(``https://api.stripe.com`` unless someone changes it: the tests point it at a stand-in server).
Every call has a timeout and a bounded number of network retries; POSTs carry our own idempotency
key, so a retry — by the SDK or by a customer's second click — can never create a second object.
"""
from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import stripe
from flask import current_app

# Seconds to connect / to wait for an answer. Checkout pages are created while the customer waits.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
# Retries on connection errors, 409 and 5xx (safe: every POST carries an idempotency key).
MAX_NETWORK_RETRIES = 2
# Seconds a webhook signature stays valid (Stripe's recommended tolerance).
WEBHOOK_TOLERANCE = 300

_http_client = stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))


class ProviderError(Exception):
    """Stripe could not be reached or refused the request. ``message`` is for the log, not customers."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, or whose body is not a Stripe event."""


@lru_cache(maxsize=8)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": api_base},
                               http_client=_http_client, max_network_retries=MAX_NETWORK_RETRIES)


def _client() -> stripe.StripeClient:
    api_key = current_app.config.get("STRIPE_SECRET_KEY")
    if not api_key:
        raise ProviderError("STRIPE_SECRET_KEY is not configured", code="not_configured")
    return _client_for(api_key, stripe.api_base)


def _call(fn, *args, **kwargs) -> dict[str, Any]:
    try:
        return fn(*args, **kwargs).to_dict()
    except stripe.StripeError as exc:
        current_app.logger.warning("Stripe error: %s", exc)
        raise ProviderError(exc.user_message or str(exc), code=exc.code, status=exc.http_status) from exc


def create_checkout_session(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    """POST /v1/checkout/sessions. The same key with the same params returns the same session."""
    return _call(_client().v1.checkout.sessions.create, params=params,
                 options={"idempotency_key": idempotency_key})


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    """GET /v1/checkout/sessions/{id}: Stripe's current view of a session (read-only)."""
    return _call(_client().v1.checkout.sessions.retrieve, session_id)


def expire_checkout_session(session_id: str) -> dict[str, Any]:
    """POST /v1/checkout/sessions/{id}/expire: an open session can no longer be paid."""
    return _call(_client().v1.checkout.sessions.expire, session_id)


def create_refund(payment_intent: str, amount: int, *, idempotency_key: str,
                  metadata: dict[str, str]) -> dict[str, Any]:
    """POST /v1/refunds for ``amount`` whole đồng of a PaymentIntent."""
    params = {"payment_intent": payment_intent, "amount": amount, "metadata": metadata}
    return _call(_client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})


def _signed_at(header: str) -> int:
    """The ``t=`` timestamp of a header that ``verify_header`` accepted (it read the first ``t``)."""
    for item in header.split(","):
        key, _sep, value = item.partition("=")
        if key == "t":
            return int(value)
    raise ValueError("no timestamp")


def verify_webhook(payload: bytes, signature: str | None) -> None:
    """Check a webhook's ``Stripe-Signature`` against ``STRIPE_WEBHOOK_SECRET``. Returns nothing.

    Raises ``InvalidWebhook`` for a missing or wrong signature, a missing secret, or a signature
    time more than ``WEBHOOK_TOLERANCE`` seconds away from now in either direction. The SDK's
    ``verify_header`` (stripe 16) refuses only old timestamps (``timestamp < now - tolerance``);
    a timestamp in the future passes it, so the same tolerance is applied forwards here (a
    captured delivery signed ahead of time could otherwise be replayed until then). Nothing may be
    read from the body before this passes; what the body says is checked by
    ``shop.payments.services.receive_event``.
    """
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE)
        signed_at = _signed_at(signature or "")
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(str(exc)) from exc
    except ValueError as exc:  # a body that is not UTF-8 cannot have been signed by Stripe
        raise InvalidWebhook("the body or the signature header cannot be read") from exc
    if signed_at > time.time() + WEBHOOK_TOLERANCE:
        raise InvalidWebhook(f"Timestamp outside the tolerance zone ({signed_at}): in the future")
