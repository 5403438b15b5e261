"""Response headers that keep private or changing replies out of caches, indexes and referrers.

One home for the rule, so every page, API reply and redirect that needs it says the same thing:

- ``no_store(response)``: ``Cache-Control: no-store`` — a reply that must never be reused
  (search suggestions typed live, API carts and orders reached by a token).
- ``secret_link(response)``: for pages reached by a secret link (an order page and its card
  payment pages): ``Cache-Control: private, no-store``, ``X-Robots-Tag: noindex, nofollow`` and
  ``Referrer-Policy: no-referrer``, so the token in the address is neither cached, indexed nor
  sent to another site in a ``Referer`` header.

Both change the response in place and return it, so a view can end with ``return no_store(…)``.

- ``site_defaults(response, hsts_seconds)``: the headers every response carries unless its view
  set its own (``DEFAULT_HEADERS``: Content-Security-Policy, nosniff, frame and referrer and
  permissions policies; ``Strict-Transport-Security`` when ``hsts_seconds`` > 0). Applied to every
  response by ``shop.security``; why each is there is said in that module's docstring.
"""
from __future__ import annotations

from typing import TypeVar

from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)

NO_STORE = "no-store"
PRIVATE_NO_STORE = "private, no-store"
NO_INDEX = "noindex, nofollow"
NO_REFERRER = "no-referrer"


def no_store(response: R) -> R:
    """Forbid any cache (browser or shared) to keep ``response``."""
    response.headers["Cache-Control"] = NO_STORE
    return response


def secret_link(response: R) -> R:
    """Headers for a page reached by a secret link: not stored, not indexed, no referrer sent."""
    response.headers["Cache-Control"] = PRIVATE_NO_STORE
    response.headers["X-Robots-Tag"] = NO_INDEX
    response.headers["Referrer-Policy"] = NO_REFERRER
    return response


CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self' https://checkout.stripe.com",
    "frame-ancestors 'none'",
))

DEFAULT_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def site_defaults(response: R, hsts_seconds: int = 0) -> R:
    """Add each of ``DEFAULT_HEADERS`` the view did not set, and HSTS for ``hsts_seconds`` (> 0)."""
    for name, value in DEFAULT_HEADERS.items():
        response.headers.setdefault(name, value)
    if hsts_seconds > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts_seconds)}; includeSubDomains")
    return response
