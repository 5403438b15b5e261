"""JSON API v1: the catalogue, shops, producers, carts and orders for partner applications.

Each view reads its input strictly (``shop.api.inputs``), calls the same domain service as the
pages, commits where something changed, and answers with a model of ``shop.api.schemas`` (built by
``shop.api.serializers``; the OpenAPI document ``shop.api.openapi`` is generated from the same models). Domain errors become ``{"error": {"code", "message"}}`` replies with a 4xx
status (see ``shop.errors``). Nothing here sets or reads cookies: carts and orders are addressed
by their tokens.
"""
from __future__ import annotations

import re

from flask import current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.routing import BuildError

from shop.api import bp, inputs, openapi, schemas
from shop.api import serializers as out
from shop.cart import services as carts
from shop.catalog.models import Product
from shop.catalog.services import browse, product_detail, read_filters
from shop.errors import InvalidInput, NotFound
from shop.extensions import create_cart_limit, db, limiter, place_order_limit
from shop.headers import no_store
from shop.orders import services as orders
from shop.orders.enums import FulfilmentType, PaymentMethod
from shop.orders.models import Order
from shop.payments import services as payments
from shop.producers.models import Producer
from shop.producers.services import list_producers, producer_profile
from shop.shops.services import public_shops

DEFAULT_PER_PAGE = 20  # products per page of GET /products (the pages use CATALOG_PER_PAGE)
ORDER_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}")
# Field names of ``orders.Customer``/``Fulfilment`` errors, as paths in the API's request body.
ORDER_FIELDS = {
    "name": "customer.name",
    "phone": "customer.phone",
    "email": "customer.email",
    "fulfilment": "fulfilment.type",
    "street": "fulfilment.address.street",
    "ward": "fulfilment.address.ward",  # vocabulary: address field names
    "province": "fulfilment.address.province",  # vocabulary: address field names
    "pickup_shop_id": "fulfilment.shop_id",
    "payment_method": "payment_method",
}
EXPOSED_HEADERS = "Location, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


# ---- cross-cutting: limits, body size, CORS, no cookies -------------------------------------


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _is_preflight() -> bool:
    return request.method == "OPTIONS"


# One budget per client address for the whole API; placing orders has a stricter one on top.
limiter.shared_limit(_api_rate_limit, scope="api-v1", exempt_when=_is_preflight)(bp)


@bp.before_request
def _limit_body_size():
    request.max_content_length = inputs.MAX_BODY_BYTES


_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
GLOBAL_QUERY_PARAMETERS = ("lang",)


@bp.before_request
def _refuse_unknown_query_parameters():
    """Refuse a query parameter the operation does not list in the OpenAPI document.

    A partner who misspells a filter (``in_stok=1``) or sends one the API does not have must learn
    it from a 400 naming the parameter, not receive an unfiltered list. ``lang`` (the language of
    messages) is accepted everywhere, with a known language only.
    """
    if request.method == "OPTIONS" or request.url_rule is None:
        return None
    path = _RULE_ARG.sub(r"{\1}", request.url_rule.rule.removeprefix(bp.url_prefix))
    method = "get" if request.method == "HEAD" else request.method.lower()
    allowed = openapi_query_parameters().get((path, method))
    if allowed is None:  # the document itself and its page
        return None
    for name in request.args.keys():
        if name not in allowed and name not in GLOBAL_QUERY_PARAMETERS:
            shown = name[:40]
            known = ", ".join(sorted(allowed)) or _("none")
            raise inputs.InvalidParameter(
                _("%(field)s is not a parameter of this request. Known parameters: %(known)s.",
                  field=shown, known=known), field=shown)
    lang = request.args.getlist("lang")
    if len(lang) > 1 or (lang and lang[0] not in current_app.config["LANGUAGES"]):
        raise inputs.InvalidParameter(_("lang must be one of: %(choices)s.",
                                        choices=", ".join(current_app.config["LANGUAGES"])), field="lang")
    return None


def openapi_query_parameters() -> dict:
    cached = current_app.extensions.get("api_query_parameters")
    if cached is None:
        cached = current_app.extensions["api_query_parameters"] = openapi.query_parameters(openapi.spec())
    return cached


@bp.after_request
def _no_cookies(response):
    # ``?lang=en`` chooses the language of messages; on the API it must not leave a cookie behind.
    g.pop("lang_changed", None)
    return response


def allowed_origins() -> set[str]:
    configured = current_app.config.get("API_CORS_ORIGINS") or ()
    if isinstance(configured, str):
        configured = configured.split(",")
    return {origin.strip().rstrip("/") for origin in configured if origin.strip()}


@bp.after_app_request
def _cors(response):
    """CORS for the partner origins in ``API_CORS_ORIGINS`` only; other origins get no CORS headers.

    Registered on the app (not only the blueprint) so that 404/405 replies under /api/ get it too.
    No credentials are ever allowed: the API does not use cookies.
    """
    if not request.path.startswith(bp.url_prefix + "/"):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or origin.rstrip("/") not in allowed_origins():
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        methods = response.headers.get("Allow") or "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept, Accept-Language"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def _reply(model: BaseModel):
    """The JSON reply of a ``shop.api.schemas`` model (ISO dates, times with their offset)."""
    return jsonify(model.model_dump(mode="json"))


def _private(model: BaseModel, status: int = 200, location: str | None = None):
    """Carts and orders are reached by secret tokens: keep them out of shared caches."""
    response = no_store(_reply(model))
    response.status_code = status
    if location:
        response.headers["Location"] = location
    return response


# ---- the document and its readable page -----------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.spec())


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", doc=openapi.docs_view(openapi.spec()))


# ---- catalogue ------------------------------------------------------------------------------


@bp.get("/products")
def list_products():
    """The catalogue with the pages' filters, read by the pages' own reader (``read_filters``).

    Unlike the pages, anything the reader could not use is refused: 400 ``invalid_parameter``
    naming the parameter, unknown parameters included (a misspelt ``in_stok`` must not quietly
    list everything).
    """
    reading = read_filters(request.args, default_per_page=DEFAULT_PER_PAGE)
    error = reading.first_error
    if error is not None:
        raise inputs.InvalidParameter(error.message, field=error.param)
    return _reply(out.catalog_page(browse(reading.filters), reading.filters.page))


@bp.get("/products/<id:product_id>")
def get_product(product_id: int):
    slug = db.session.scalar(select(Product.slug).where(Product.id == product_id))
    if slug is None:
        raise NotFound(_("No such product."))
    return _reply(out.product_detail(product_detail(slug)))


@bp.get("/shops")
def list_shops():
    items = [out.shop(s) for s in public_shops()]
    return _reply(schemas.ShopList(items=items, total=len(items)))


@bp.get("/producers")
def list_producers_view():
    items = [out.producer_summary(s) for s in list_producers()]
    return _reply(schemas.ProducerList(items=items, total=len(items)))


@bp.get("/producers/<id:producer_id>")
def get_producer(producer_id: int):
    slug = db.session.scalar(select(Producer.slug).where(Producer.id == producer_id))
    if slug is None:
        raise NotFound(_("No such producer."))
    return _reply(out.producer_profile(producer_profile(slug)))


# ---- carts ----------------------------------------------------------------------------------


def _find_cart(token: str):
    cart = carts.find_cart(token) if inputs.valid_token(token) else None
    if cart is None:
        raise NotFound(_("No such cart."))
    return cart


def _cart_reply(token: str, status: int = 200, location: str | None = None):
    cart = _find_cart(token)
    placed = cart.order
    page = order_page(placed.number, placed.access_token) if placed is not None else None
    return _private(out.cart(token, carts.view(cart), page), status, location)


@bp.post("/carts")
@create_cart_limit()
def create_cart():
    inputs.json_body(required=False)
    cart = carts.get_or_create_cart(None)
    token = cart.token
    db.session.commit()
    return _cart_reply(token, 201, url_for(".get_cart", token=token))


@bp.get("/carts/<token>")
def get_cart(token: str):
    return _cart_reply(token)


@bp.put("/carts/<token>/items/<id:product_id>")
def set_cart_item(token: str, product_id: int):
    """Put exactly ``quantity`` units of a product in the cart; 0 removes the line."""
    quantity = inputs.read_body(schemas.CartItemUpdate).quantity
    try:
        carts.parse_quantity(quantity, allow_zero=True)  # the service's own rule, to name the field
    except InvalidInput as exc:
        exc.details.setdefault("field", "quantity")
        raise
    cart = _find_cart(token)
    carts.set_quantity(cart, product_id, quantity)
    db.session.commit()
    return _cart_reply(token)


@bp.post("/carts/<token>/accept-prices")
def accept_cart_prices(token: str):
    """The customer has seen today's prices: stop reporting ``price_changed`` (checkout needs it)."""
    inputs.json_body(required=False)
    carts.accept_prices(_find_cart(token))
    db.session.commit()
    return _cart_reply(token)


# ---- orders ---------------------------------------------------------------------------------


def _fulfilment(requested: schemas.DeliveryFulfilment | schemas.PickupFulfilment) -> orders.Fulfilment:
    if isinstance(requested, schemas.PickupFulfilment):
        return orders.Fulfilment(type=FulfilmentType.PICKUP, pickup_shop_id=requested.shop_id)
    address = requested.address
    return orders.Fulfilment(type=FulfilmentType.DELIVERY, street=address.street, ward=address.ward,
                             province=address.province)


def card_payments():
    """``start_card_payment(order, success_url, cancel_url)`` (``shop.payments``; tests replace it)."""
    return payments.start_card_payment


def order_page(number: str, token: str) -> str | None:
    """The customer's order page on the website (the link of the confirmation email)."""
    try:
        return url_for("orders.detail", number=number, token=token, _external=True)
    except BuildError:  # the order pages are not part of this app
        return None


def _card_return_urls(number: str, token: str) -> tuple[str, str]:
    """Where Stripe sends the customer back: the shop's payment pages, else the order page."""
    try:
        success = url_for("payments.card_return", number=number, token=token, _external=True)
        cancel = url_for("payments.card_cancel", number=number, token=token, _external=True)
        # Stripe fills in {CHECKOUT_SESSION_ID}; url_for would escape the braces, so it is appended.
        return success + "&session_id={CHECKOUT_SESSION_ID}", cancel
    except BuildError:
        page = order_page(number, token) or url_for(".get_order", number=number, token=token, _external=True)
        return page, page


def _start_card_payment(order, number: str, token: str) -> str | None:
    """Open the card checkout after the commit; if the provider fails, ``checkout_url`` is null.

    The order and its stock hold stand either way; the order page offers "try again" and an
    unpaid order is cancelled when its hold expires.
    """
    start = card_payments()
    success_url, cancel_url = _card_return_urls(number, token)
    try:
        result = start(order, success_url, cancel_url)
        db.session.commit()
    except Exception:  # noqa: BLE001 - a 5xx here would hide that the order was placed
        db.session.rollback()
        current_app.logger.exception("Could not start the card payment for order %s", number)
        return None
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        return result.get("checkout_url") or result.get("url")
    return getattr(result, "checkout_url", None) or getattr(result, "url", None)


@bp.post("/orders")
@place_order_limit()  # one budget with the checkout page: see shop/extensions.py
def place_order():
    body = inputs.read_body(schemas.OrderRequest)
    cart_token = body.cart_token
    # ``Customer.cleaned`` and ``Fulfilment.cleaned`` check each text after normalisation.
    customer = orders.Customer(name=body.customer.name, phone=body.customer.phone, email=body.customer.email)
    fulfilment = _fulfilment(body.fulfilment)
    method = body.payment_method
    if method == PaymentMethod.CARD and orders.card_enabled() and card_payments() is None:
        raise InvalidInput(_("Card payments are not available through the API yet."), field="payment_method")
    _find_cart(cart_token)
    try:
        order = orders.place_order(cart_token, customer, fulfilment, method)
    except carts.CartOrdered as exc:
        # The cart already became an order (a retry after a lost answer): answer with that order,
        # 200 instead of 201, and change nothing (no second email, no second payment).
        db.session.rollback()
        order = db.session.get(Order, exc.details["order_id"])
        number, token = order.number, order.access_token
        return _private(out.order_created(order, None, order_page(number, token)), 200,
                        url_for(".get_order", number=number, token=token))
    except InvalidInput as exc:
        field = exc.details.get("field")
        if field in ORDER_FIELDS:
            exc.details["field"] = ORDER_FIELDS[field]
        raise
    number, token = order.number, order.access_token
    from shop.orders.notifications import send_order_confirmation

    send_order_confirmation(order)  # into the outbox: committed with the order, or not at all
    db.session.commit()

    checkout_url = _start_card_payment(order, number, token) if method == PaymentMethod.CARD else None
    return _private(out.order_created(order, checkout_url, order_page(number, token)), 201,
                    url_for(".get_order", number=number, token=token))


@bp.get("/orders/<number>")
def get_order(number: str):
    token = inputs.text_param("token", 64)
    if token is None:
        raise inputs.InvalidParameter(_("token is required: it was returned when the order was placed."),
                                      field="token")
    if not ORDER_NUMBER.fullmatch(number) or not inputs.valid_token(token):
        raise NotFound(_("We could not find that order."))
    return _private(out.order(orders.find_order(number, token), order_page(number, token)))
