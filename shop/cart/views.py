"""Cart pages: add to cart, the cart page, quantity changes and price acceptance.

The cart is found by a token kept in its own signed cookie (not the Flask session, so that the
session can stay small and the cart can outlive a login). Views read the form, call one cart
service, commit and redirect; every rule (quantities, stock, sellability, prices) is the service's.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from shop.cart import bp
from shop.cart import services as carts
from shop.cart.models import Cart, CartItem
from shop.errors import DomainError
from shop.extensions import create_cart_limit, db
from shop.i18n import localized
from shop.orders.enums import FulfilmentType
from shop.orders.services import shipping_fee

CART_COOKIE_MAX_AGE = 60 * 24 * 3600  # 60 days
_SIGNED_COOKIE_MAX_LENGTH = 200  # a signed 32-character token is about 60 characters


# ---- the cart cookie ------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="cart")


def current_cart_token() -> str | None:
    """The cart token from the signed cookie, or None when there is none or it was tampered with."""
    raw = request.cookies.get(current_app.config["CART_COOKIE_NAME"])
    if not raw or len(raw) > _SIGNED_COOKIE_MAX_LENGTH:
        return None
    memo_key = (current_app.secret_key, raw)
    if memo_key in _checked_cookies:  # the same cookie value always reads the same way
        return _checked_cookies[memo_key]
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        token = None
    token = token if isinstance(token, str) and 0 < len(token) <= 64 else None
    if len(_checked_cookies) >= 1024:
        _checked_cookies.clear()
    _checked_cookies[memo_key] = token
    return token


# Signed cookie values already checked by this process ({(secret, value): token or None}); a page
# view reads the cart cookie for the header count, and checking the signature was a tenth of it.
_checked_cookies: dict[tuple, str | None] = {}


def set_cart_cookie(response, token: str):
    response.set_cookie(
        current_app.config["CART_COOKIE_NAME"], _serializer().dumps(token),
        max_age=CART_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


def clear_cart_cookie(response):
    response.delete_cookie(current_app.config["CART_COOKIE_NAME"], httponly=True, samesite="Lax",
                           secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


# ---- the header count -----------------------------------------------------------------------


def cart_item_count() -> int:
    """Units in the visitor's cart, for the header link: one read, only when a page asks for it."""
    from shop.pagecache import refuse_per_visitor

    refuse_per_visitor("cart_item_count()")  # never inside a page kept for everyone (shop/pagecache.py)
    if "cart_item_count" in g:
        return g.cart_item_count
    token = current_cart_token()
    count = 0
    if token:
        try:
            count = int(db.session.scalar(
                select(func.coalesce(func.sum(CartItem.quantity), 0))
                .join(Cart, Cart.id == CartItem.cart_id).where(Cart.token == token)
            ) or 0)
        except SQLAlchemyError:  # the header must never break a page (error pages included)
            current_app.logger.exception("Could not count the cart for the header")
    g.cart_item_count = count
    return count


@bp.app_context_processor
def cart_globals():
    return {"cart_item_count": cart_item_count}


# ---- helpers --------------------------------------------------------------------------------


def _safe_next(default: str) -> str:
    """Where to go back to after a cart action: a local path from the form, else ``default``."""
    target = (request.form.get("next") or "").strip()
    if target and len(target) <= 500:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return default


def _back_to_cart():
    return redirect(url_for("cart.index"))


# ---- routes ---------------------------------------------------------------------------------


@bp.get("", strict_slashes=False)
def index():
    cart = carts.find_cart(current_cart_token())
    cart_view = carts.view(cart)
    # The header's count is this cart's units: already loaded, no second query (cart_item_count).
    g.cart_item_count = sum(item.quantity for item in cart.items) if cart is not None else 0
    subtotal = cart_view.subtotal
    threshold = current_app.config["FREE_SHIPPING_THRESHOLD"]
    return render_template(
        "cart/index.html",
        cart_view=cart_view,
        shipping=shipping_fee(FulfilmentType.DELIVERY, subtotal),
        free_shipping_threshold=threshold,
        missing_for_free_shipping=max(0, threshold - subtotal),
        price_changed=any(carts.PRICE_CHANGED in line.problems for line in cart_view.lines),
        # The order this cart became (a lost answer, a retry): linked until a product starts a new cart.
        placed_order=cart.order if cart is not None else None,
        max_quantity=current_app.config["MAX_LINE_QUANTITY"],
    )


def _has_cart() -> bool:
    """Adding to a cart that exists creates nothing: only requests that create a cart are limited."""
    return carts.find_cart(current_cart_token()) is not None


@bp.post("/add")
@create_cart_limit(exempt_when=_has_cart)  # one budget with the API's POST /carts
def add():
    back = _safe_next(url_for("cart.index"))
    token = current_cart_token()
    try:
        from shop.accounts.views import header_user

        user = header_user()
        cart = carts.get_or_create_cart(token, user.id if user is not None else None)
        item = carts.add(cart, request.form.get("product_id"), request.form.get("quantity", "1"))
        name = localized(item.product, "name")
        quantity = item.quantity
        new_token = cart.token
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    flash(_("%(name)s is in your cart (%(n)d in total).", name=name, n=quantity), "success")
    return set_cart_cookie(redirect(back), new_token)


@bp.post("/update")
def update():
    cart = carts.find_cart(current_cart_token())
    if cart is None:
        flash(_("Your cart is empty."), "error")
        return _back_to_cart()
    try:
        item = carts.set_quantity(cart, request.form.get("product_id"), request.form.get("quantity"))
        message = (_("Quantity updated: %(name)s × %(n)d.", name=localized(item.product, "name"), n=item.quantity)
                   if item is not None else _("The product was removed from your cart."))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back_to_cart()
    flash(message, "success")
    return _back_to_cart()


@bp.post("/remove")
def remove():
    cart = carts.find_cart(current_cart_token())
    if cart is None:
        flash(_("Your cart is empty."), "error")
        return _back_to_cart()
    try:
        carts.set_quantity(cart, request.form.get("product_id"), 0)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back_to_cart()
    flash(_("The product was removed from your cart."), "success")
    return _back_to_cart()


@bp.post("/accept-prices")
def accept_prices():
    cart = carts.find_cart(current_cart_token())
    if cart is not None:
        carts.accept_prices(cart)
        db.session.commit()
        flash(_("Thank you. The cart now uses the current prices."), "success")
    return _back_to_cart()
