"""Response headers that keep private or changing replies out of caches, indexes and referrers.

One home for the rule, so every page, API reply and redirect that needs it says the same thing:

- ``no_store(response)``: ``Cache-Control: no-store`` — a reply that must never be reused
  (search suggestions typed live, API carts and orders reached by a token).
- ``secret_link(response)``: for pages reached by a secret link (an order page and its card
  payment pages): ``Cache-Control: private, no-store``, ``X-Robots-Tag: noindex, nofollow`` and
  ``Referrer-Policy: no-referrer``, so the token in the address is neither cached, indexed nor
  sent to another site in a ``Referer`` header.

Both change the response in place and return it, so a view can end with ``return no_store(…)``.
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
