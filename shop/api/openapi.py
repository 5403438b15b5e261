"""The OpenAPI 3.1 document of API v1: the contract partners program against.

The shapes (``components/schemas``) are generated from the pydantic models of
``shop.api.schemas``, the same models the serialisers build replies with; this module keeps only
what is not a shape: the operations (a route table beside the views, naming their models), the
query and path parameters, the error replies, examples and the introduction.

Built once per application as a plain dict (``spec()``) and served at ``/api/v1/openapi.json``;
the readable page at ``/api/v1/docs`` is rendered from the same dict (``docs_view``). Tests
validate real responses against it and a schemathesis run fuzzes the API from it.
"""
from __future__ import annotations

import json
import re
from typing import Any

import markdown
from flask import current_app
from markupsafe import Markup
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from shop.api import schemas
from shop.api.inputs import MAX_BODY_BYTES, TOKEN_PATTERN
from shop.catalog.search import MAX_QUERY_LENGTH
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod
from shop.catalog.filters import FALSE_VALUES, MAX_LOCALITY_REF_LENGTH, MAX_PAGE, MAX_PER_PAGE, MAX_PRICE, \
    MAX_REF_LENGTH, SORTS, TRUE_VALUES

REF_TEMPLATE = "#/components/schemas/{model}"

DESCRIPTION = """\
The catalogue of OCOP-certified products and their checkout, for partner applications
(tourism apps, marketplaces, kiosks in a shop). It runs on the same services as the website:
prices, stock, certificates and orders are the same everywhere.

**A whole purchase** takes five calls:
1. `GET /products?q=nep tai` — find a product (search ignores Vietnamese accents);
2. `POST /carts` — get a cart `token`;
3. `PUT /carts/{token}/items/{product_id}` with `{"quantity": 2}` — fill the cart
   (the same call with 0 removes a line);
4. `POST /orders` with the cart token, the customer, delivery or pick-up, and a payment method —
   the answer (201) carries the order `number` and its private `token`, and payment instructions;
5. `GET /orders/{number}?token=…` — follow the order's status and history.

**Conventions.** Requests with a body send `Content-Type: application/json` (anything else: 415).
Money is a whole number of Vietnamese đồng (`*_vnd`); dates are ISO 8601 (`2026-03-01`), times
ISO 8601 in UTC with an offset. No authentication: carts and orders are reached only through
their unguessable tokens — keep them private. No cookies are used.

**Languages.** Text the shop keeps in both languages comes as a pair: the Vietnamese field and its
`_en` twin (`name`/`name_en`, `unit`/`unit_en`, `description`/`description_en`, `story`/`story_en`,
`opening_hours`/`opening_hours_en`, a group's `name`/`name_en`, and on order lines the names and
units as they were when ordered). An empty `_en` field means there is no translation: show the
Vietnamese one. Coded values (`status`, `kind`, `level`, `payment_method`, `problems`) are codes for
the client to label in its own language. Names of producers, shops and places, addresses and
certificate records are proper names or official records and come once, as written in Vietnam.

**Errors.** Every error is a 4xx reply shaped `{"error": {"code", "message"}}`, with `field`
naming the offending parameter or body field (`customer.phone`) when there is one, and sometimes
`details` (e.g. the `product_id` that sold out). `code` is stable; `message` is written for the
customer, in Vietnamese by default or English with `?lang=en` (without `?lang`, the
`Accept-Language` header chooses).
A query parameter that an operation does not list is refused (`invalid_parameter`), so a
misspelt filter never passes unnoticed; `lang` (`vi` or `en`) is accepted everywhere.
Codes: `invalid_parameter`, `invalid_json`, `invalid_input` (400), `not_found` (404),
`method_not_allowed` (405), `out_of_stock`, `cart_ordered`, `customer_limit` (409), `payload_too_large` (413),
`unsupported_media_type` (415), `rate_limited` (429).

**Limits.** Each client address may make {rate} requests to the API, place {order_rate}
orders (`POST /orders` and the shop's checkout page share this budget) and create {cart_rate}
carts (`POST /carts`); beyond that the reply is 429 with a `Retry-After` header. One customer
(same phone or email) may have a few orders waiting for payment or confirmation at a time;
beyond that `POST /orders` answers 409 `customer_limit`.
`X-RateLimit-*` headers tell how much is left.

**CORS.** Browsers may call the API from the partner origins the shop has configured; other
origins get no CORS headers.
"""


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, where: str, schema: dict, description: str, required: bool = False, **extra) -> dict:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema, **extra}


def _parameters() -> dict:
    ref = {"type": "string", "maxLength": MAX_REF_LENGTH}
    return {
        "q": _param("q", "query", {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                    "Search words, accents optional (`nep tai` finds \"Gạo Nếp Tài\"): names, producer, "
                    "group and places of origin, old names and new."),
        "stars": _param("stars", "query",
                        {"type": "array", "items": {"type": "integer", "enum": [3, 4, 5]}},
                        "Only products with these OCOP stars. Repeat (`stars=4&stars=5`) or separate with "
                        "commas (`stars=4,5`).", style="form", explode=True),
        "group": _param("group", "query", ref, "A product group: its slug (`thuc-pham`) or numeric id. "
                                               "A group includes its subgroups, at any depth. Empty: no filter."),
        "producer": _param("producer", "query", ref, "A producer: its slug or numeric id."),
        "locality": _param("locality", "query", {**ref, "maxLength": MAX_LOCALITY_REF_LENGTH},
                           "A place of origin (slug or numeric id), with everything inside it and every "
                           "older place merged into it: `thai-nguyen` includes the former Bắc Kạn province "
                           "(merged on 1/7/2025) and its districts and communes. An old name covers only "
                           "what was in it."),
        "min_price": _param("min_price", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
                            "Lowest price in whole đồng (inclusive)."),
        "max_price": _param("max_price", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
                            "Highest price in whole đồng (inclusive); not below `min_price`."),
        "in_stock": _param("in_stock", "query", {"type": "string", "enum": [*TRUE_VALUES, *FALSE_VALUES]},
                           "`1` (or `true`, `on`, `yes`): only products with units available now, that is "
                           "stock on hand less units held for orders, at any shop — the `available` number, "
                           "the same as on the product page. `0`/`false`/`off`/`no` or absent: all."),
        "sort": _param("sort", "query", {"type": "string", "enum": list(SORTS)},
                       "Order: `relevance` (default when searching), `stars` (default otherwise), "
                       "`price_asc`, `price_desc`, `name`, `newest`."),
        "page": _param("page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                       "Page number, from 1."),
        "per_page": _param("per_page", "query",
                           {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
                           f"Products per page, 1 to {MAX_PER_PAGE}."),
        "product_id": _param("product_id", "path", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                             "The product's id."),
        "producer_id": _param("producer_id", "path", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                              "The producer's id."),
        "cart_token": _param("token", "path", {"type": "string", "pattern": TOKEN_PATTERN},
                             "The cart token returned by `POST /carts`."),
        "order_number": _param("number", "path", {"type": "string", "pattern": r"^[A-Za-z0-9-]{1,20}$"},
                               "The order number, e.g. `OC-2026-000123`."),
        "order_token": _param("token", "query", {"type": "string", "pattern": TOKEN_PATTERN},
                              "The order token returned by `POST /orders`.", required=True),
    }


def _error_response(description: str, example_code: str, example_message: str, **example_extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {
            "schema": _ref("Error"),
            "example": {"error": {"code": example_code, "message": example_message, **example_extra}},
        }},
    }


def _responses() -> dict:
    return {
        "BadRequest": _error_response(
            "The parameters or the body are not acceptable; `field` says which.",
            "invalid_parameter", "page must be a positive integer (at most 10000).", field="page"),
        "NotFound": _error_response("No such thing (or a wrong token).", "not_found", "No such product."),
        "OutOfStock": _error_response(
            "Not enough units available (`out_of_stock`), or the cart has already become an order "
            "(`cart_ordered`, with `details.order_number`).", "out_of_stock",
            "Only 2 of Gạo Nếp Tài available.", details={"product_id": 12}),
        "PayloadTooLarge": _error_response(f"The body is larger than {MAX_BODY_BYTES // 1024} KB.",
                                           "payload_too_large", "The upload is too large."),
        "UnsupportedMediaType": _error_response("The body is not sent as application/json.",
                                                "unsupported_media_type",
                                                "Send a JSON body with the header Content-Type: application/json."),
        "TooManyRequests": {
            **_error_response("Too many requests from this client; wait `Retry-After` seconds.",
                              "rate_limited", "Too many requests. Please wait a moment and try again."),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
        },
    }


def _json(model: type[BaseModel], description: str, example: Any | None = None, **extra) -> dict:
    """A JSON reply of ``model``'s shape (``shop.api.schemas``); ``build`` turns the model into a ``$ref``."""
    content: dict[str, Any] = {"schema": model}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}, **extra}


def _r(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _p(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


PRODUCT_EXAMPLE = {
    "id": 12, "slug": "gao-nep-tai-ba-be", "name": "Gạo Nếp Tài Ba Bể", "name_en": "Ba Be Tai sticky rice",
    "stars": 4, "price_vnd": 65000, "unit": "túi 1 kg", "unit_en": "1 kg bag",
    "producer": {"id": 3, "name": "HTX Nông nghiệp Ba Bể"}, "available": 40,
}
COD_ORDER_EXAMPLE = {
    "cart_token": "5Jc1yG3kq0yWw3E6n7H3rVb2nQ9x4TtD",
    "customer": {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"},
    "fulfilment": {"type": FulfilmentType.DELIVERY, "address": {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân",  # vocabulary: address field names
                                                               "province": "Thái Nguyên"}},  # vocabulary: address field names
    "payment_method": PaymentMethod.COD,
}
PICKUP_ORDER_EXAMPLE = {
    "cart_token": "5Jc1yG3kq0yWw3E6n7H3rVb2nQ9x4TtD",
    "customer": {"name": "John Smith", "phone": "+84 912 345 678", "email": "john@example.com"},
    "fulfilment": {"type": FulfilmentType.PICKUP, "shop_id": 1},
    "payment_method": PaymentMethod.BANK_TRANSFER,
}


# The query parameters of GET /products: every filter of the catalogue pages (shop.catalog.filters).
PRODUCT_FILTERS = ("q", "stars", "group", "producer", "locality", "min_price", "max_price", "in_stock", "sort",
                   "page", "per_page")


def _paths() -> dict:
    limited = {"429": _r("TooManyRequests")}
    body_errors = {"400": _r("BadRequest"), "413": _r("PayloadTooLarge"), "415": _r("UnsupportedMediaType")}
    return {
        "/products": {"get": {
            "operationId": "listProducts", "tags": ["Catalogue"], "summary": "Find products",
            "description": "Products on sale (listed, with a valid OCOP certificate), best stars first, "
                           "or by relevance when searching: the filters of the website's catalogue, read by "
                           "the same code. Unknown slugs or ids simply match nothing; an unknown parameter "
                           "or a malformed value is refused (400, `field` names it).",
            "parameters": [_p(n) for n in PRODUCT_FILTERS],
            "responses": {
                "200": _json(schemas.ProductPage, "A page of products.",
                             {"items": [PRODUCT_EXAMPLE], "total": 1, "page": 1, "per_page": 20, "pages": 1},
                             links={"GetProduct": {"operationId": "getProduct",
                                                   "parameters": {"product_id": "$response.body#/items/0/id"}}}),
                "400": _r("BadRequest"), **limited,
            },
        }},
        "/products/{product_id}": {"get": {
            "operationId": "getProduct", "tags": ["Catalogue"], "summary": "One product",
            "description": "A listed product with its certificate and stock per shop. A product whose "
                           "certificate lapsed is still answered, with `stars: null`, `available: 0` and the "
                           "certificate's `status` saying why.",
            "parameters": [_p("product_id")],
            "responses": {"200": _json(schemas.ProductDetail, "The product."), "404": _r("NotFound"), **limited},
        }},
        "/shops": {"get": {
            "operationId": "listShops", "tags": ["Shops and producers"], "summary": "OCOP shops",
            "description": "Shops open to visitors, by name. Pick-up orders name one of these.",
            "responses": {"200": _json(schemas.ShopList, "Every shop."), **limited},
        }},
        "/producers": {"get": {
            "operationId": "listProducers", "tags": ["Shops and producers"], "summary": "Producers",
            "description": "Every OCOP producer (cooperatives, companies, households), by name.",
            "responses": {"200": _json(schemas.ProducerList, "Every producer."), **limited},
        }},
        "/producers/{producer_id}": {"get": {
            "operationId": "getProducer", "tags": ["Shops and producers"], "summary": "One producer",
            "description": "The producer's profile and story, with its products on sale.",
            "parameters": [_p("producer_id")],
            "responses": {"200": _json(schemas.ProducerDetail, "The producer."), "404": _r("NotFound"), **limited},
        }},
        "/carts": {"post": {
            "operationId": "createCart", "tags": ["Cart"], "summary": "Start a cart",
            "description": "A new empty cart. Send no body (or `{}`). Keep the `token`: it is the only way "
                           "back to the cart. A cart disappears when an order is placed from it.",
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": {"type": "object"}, "example": {}}}},
            "responses": {
                "201": _json(schemas.Cart, "The new cart.", {"token": "5Jc1yG3kq0yWw3E6n7H3rVb2nQ9x4TtD", "lines": [],
                                                       "count": 0, "subtotal_vnd": 0, "ready_for_checkout": False},  # vocabulary: JSON field names
                             headers={"Location": {"description": "The cart's URL.", "schema": {"type": "string"}}},
                             links={
                                 "GetCart": {"operationId": "getCart",
                                             "parameters": {"token": "$response.body#/token"}},
                                 "SetCartItem": {"operationId": "setCartItem",
                                                 "parameters": {"token": "$response.body#/token"}},
                             }),
                **body_errors, **limited,
            },
        }},
        "/carts/{token}": {"get": {
            "operationId": "getCart", "tags": ["Cart"], "summary": "Read a cart",
            "description": "The cart at today's prices, with what (if anything) stops checkout per line.",
            "parameters": [_p("cart_token")],
            "responses": {"200": _json(schemas.Cart, "The cart."), "404": _r("NotFound"), **limited},
        }},
        "/carts/{token}/items/{product_id}": {"put": {
            "operationId": "setCartItem", "tags": ["Cart"], "summary": "Set a product's quantity",
            "description": "Put exactly `quantity` units of the product in the cart (0 removes it). Refused "
                           "with 409 when fewer units are available, 400 when the product is not on sale.",
            "parameters": [_p("cart_token"), _p("product_id")],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": schemas.CartItemUpdate, "example": {"quantity": 2}}}},
            "responses": {
                "200": _json(schemas.Cart, "The cart after the change.",
                             links={"GetCart": {"operationId": "getCart",
                                                "parameters": {"token": "$request.path.token"}}}),
                "404": _r("NotFound"), "409": _r("OutOfStock"), **body_errors, **limited,
            },
        }},
        "/carts/{token}/accept-prices": {"post": {
            "operationId": "acceptCartPrices", "tags": ["Cart"], "summary": "Accept today's prices",
            "description": "When a price changed since a product was put in the cart, its line reports "
                           "`price_changed` and checkout is refused until the customer has seen the new price. "
                           "Call this (no body) once they have.",
            "parameters": [_p("cart_token")],
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": {"type": "object"}, "example": {}}}},
            "responses": {"200": _json(schemas.Cart, "The cart, without `price_changed` problems."),
                          "404": _r("NotFound"), **body_errors, **limited},
        }},
        "/orders": {"post": {
            "operationId": "placeOrder", "tags": ["Orders"], "summary": "Place an order",
            "description": "Turns the cart into an order at today's prices, holds the stock, and empties the "
                           "cart, which then remembers the order: sending the same cart again (a retry after a "
                           "lost answer) changes nothing and answers 200 with that order. Totals are computed "
                           "by the shop. The reply says how to pay. A confirmation "
                           "email with a link to the order page goes to the customer. At most "
                           "{order_rate} orders per client.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": schemas.OrderRequest,
                "examples": {
                    "cash_on_delivery": {"summary": "Delivery, cash on delivery", "value": COD_ORDER_EXAMPLE},
                    "pickup_bank_transfer": {"summary": "Pick-up at a shop, bank transfer",
                                             "value": PICKUP_ORDER_EXAMPLE},
                }}}},
            "responses": {
                "201": _json(schemas.OrderCreated, "The order is placed.", {
                    "number": "OC-2026-000123", "token": "q8W4o1f9YtZk3VxN2Lr7m5Ps0aBcDeFg", "status": OrderStatus.PLACED,
                    "subtotal_vnd": 130000, "shipping_fee_vnd": 30000, "total_vnd": 160000,
                    "payment": {"method": PaymentMethod.COD, "amount_vnd": 160000}},
                    headers={"Location": {"description": "The order's URL (with its token).",
                                          "schema": {"type": "string"}}},
                    links={"GetOrder": {"operationId": "getOrder", "parameters": {
                        "number": "$response.body#/number", "token": "$response.body#/token"}}}),
                "200": _json(schemas.OrderCreated, "This cart had already become this order; nothing was changed "
                             "(`payment.checkout_url` is null: pay from the order page)."),
                "404": _r("NotFound"), "409": _r("OutOfStock"), **body_errors, **limited,
            },
        }},
        "/orders/{number}": {"get": {
            "operationId": "getOrder", "tags": ["Orders"], "summary": "Follow an order",
            "description": "Status, lines and history of an order, for whoever holds its token.",
            "parameters": [_p("order_number"), _p("order_token")],
            "responses": {"200": _json(schemas.Order, "The order."), "400": _r("BadRequest"), "404": _r("NotFound"),
                          **limited},
        }},
    }


class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), without the titles it
    makes up from names ("Price Vnd"), and without ``additionalProperties: false`` on replies:
    replies may gain fields in v1, and clients must ignore those they do not know."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def model_schema(self, schema):
        json_schema = super().model_schema(schema)
        json_schema.pop("title", None)
        if self.mode == "serialization":
            json_schema.pop("additionalProperties", None)
        return json_schema

    def default_schema(self, schema):
        """An optional reply field (``field`` of an error) is left out when empty, not sent as null."""
        json_schema = super().default_schema(schema)
        if self.mode == "serialization" and json_schema.get("default", ...) is None:
            json_schema.pop("default")
        return json_schema


_CONFIG_NAME = re.compile(r"\{([A-Z][A-Z0-9_]+)\}")


def _with_config(node: Any, config) -> Any:
    """``node`` with the settings it names filled in: ``x-config`` keywords and ``{SETTING}`` in texts."""
    if isinstance(node, dict):
        node = {key: _with_config(value, config) for key, value in node.items()}
        for keyword, setting in node.pop("x-config", {}).items():
            node[keyword] = config[setting]
        return node
    if isinstance(node, list):
        return [_with_config(value, config) for value in node]
    if isinstance(node, str):
        return _CONFIG_NAME.sub(lambda m: str(config[m.group(1)]) if m.group(1) in config else m.group(0), node)
    return node


def _models_to_refs(node: Any, found: dict[type[BaseModel], str], mode: str = "serialization") -> Any:
    """``node`` (the paths) with every model class replaced by its ``$ref``; the models are collected
    in ``found`` with the mode pydantic describes them in (request bodies: validation)."""
    if isinstance(node, type) and issubclass(node, BaseModel):
        found[node] = mode
        return _ref(node.__name__)
    if isinstance(node, dict):
        return {key: _models_to_refs(value, found, "validation" if key == "requestBody" else mode)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_models_to_refs(value, found, mode) for value in node]
    return node


def components_schemas(models: dict[type[BaseModel], str]) -> dict:
    """The JSON Schemas of ``models`` and of every model they use, named by class."""
    _, generated = models_json_schema(
        [(model, mode) for model, mode in models.items()], ref_template=REF_TEMPLATE,
        schema_generator=_SchemaGenerator)
    return generated.get("$defs", {})


def build(config) -> dict:
    rate, order_rate = config["API_RATE_LIMIT"], config["ORDER_RATE_LIMIT"]
    models: dict[type[BaseModel], str] = {schemas.Error: "serialization"}
    paths = _models_to_refs(_paths(), models)
    for item in paths.values():  # any operation refuses a query parameter it does not list
        for op in item.values():
            op["responses"].setdefault("400", _r("BadRequest"))
            op["responses"] = dict(sorted(op["responses"].items()))
    order_op = paths["/orders"]["post"]
    order_op["description"] = order_op["description"].replace("{order_rate}", order_rate)
    component_schemas = components_schemas(models)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OCOP Shop API",
            "version": "1.0.0",
            "summary": "Catalogue and checkout of OCOP-certified products.",
            "description": DESCRIPTION.replace("{rate}", rate).replace("{order_rate}", order_rate)
                                      .replace("{cart_rate}", config["CART_RATE_LIMIT"]),
        },
        "servers": [{"url": "/api/v1", "description": "This shop."}],
        "tags": [
            {"name": "Catalogue", "description": "Products, certificates and stock."},
            {"name": "Shops and producers", "description": "Where to buy, and who makes it."},
            {"name": "Cart", "description": "A cart addressed by its token."},
            {"name": "Orders", "description": "Checkout and following an order."},
        ],
        "paths": paths,
        "components": {
            "schemas": _with_config(component_schemas, config),
            "parameters": _parameters(),
            "responses": _responses(),
        },
    }


def query_parameters(document: dict) -> dict[tuple[str, str], frozenset[str]]:
    """{(path template, method): names of the query parameters it lists}, e.g.
    ``("/orders/{number}", "get") → {"token"}``; the API refuses any other (``lang`` aside)."""
    allowed = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            params = [_resolve(document, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            allowed[(path, method)] = frozenset(p["name"] for p in params if p["in"] == "query")
    return allowed


def spec() -> dict:
    """The document for the current app (built once; it depends only on configuration)."""
    cached = current_app.extensions.get("api_openapi")
    if cached is None:
        cached = current_app.extensions["api_openapi"] = build(current_app.config)
    return cached


# ---- the readable page ----------------------------------------------------------------------

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def _resolve(document: dict, ref: str) -> dict:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def type_label(schema: dict) -> str:
    """A short human description of a schema: `integer 1–100`, `array of Shop`, `string or null`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return " or ".join(type_label(s) for s in schema[keyword])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    label = " or ".join(kinds)
    if "array" in kinds and "items" in schema:
        label = label.replace("array", f"array of {type_label(schema['items'])}")
    if "enum" in schema:
        label += ": " + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        label += f" {'' if low is None else low}–{'' if high is None else high}"
    if "maxLength" in schema:
        label += f", {schema.get('minLength', 0)}–{schema['maxLength']} characters"
    if "pattern" in schema:
        label += f", matching {schema['pattern']}"
    if "format" in schema:
        label += f" ({schema['format']})"
    return label


def md(text: str | None, inline: bool = False) -> Markup:
    """Markdown of this module's own texts (trusted: nothing here comes from users)."""
    html = markdown.markdown(text or "")
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def _fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    return [{"name": name, "type": type_label(prop), "required": name in required,
             "description": md(prop.get("description", ""), inline=True)}
            for name, prop in schema.get("properties", {}).items()]


def docs_view(document: dict) -> dict:
    """What the docs page shows, in reading order, with every ``$ref`` made into a link."""
    operations = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, item in document["paths"].items():
        for method in METHOD_ORDER:
            op = item.get(method)
            if op is None:
                continue
            params = [_resolve(document, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            body = op.get("requestBody")
            body_view = None
            if body:
                media = body["content"]["application/json"]
                examples = [(e.get("summary", name), e["value"]) for name, e in media.get("examples", {}).items()]
                if "example" in media:
                    examples.append(("Example", media["example"]))
                body_view = {"required": body.get("required", False), "type": type_label(media["schema"]),
                             "examples": [(title, json.dumps(v, ensure_ascii=False, indent=2)) for title, v in examples]}
            responses = []
            for status, response in sorted(op["responses"].items()):
                response = _resolve(document, response["$ref"]) if "$ref" in response else response
                media = response.get("content", {}).get("application/json", {})
                example = media.get("example")
                responses.append({"status": status, "description": md(response["description"], inline=True),
                                  "type": type_label(media["schema"]) if "schema" in media else "",
                                  "example": json.dumps(example, ensure_ascii=False, indent=2)
                                  if example is not None else None})
            operations.setdefault(op["tags"][0], []).append({
                "id": op["operationId"], "method": method.upper(), "path": path, "summary": op["summary"],
                "description": md(op.get("description", "")),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": type_label(p["schema"]),
                                "description": md(p.get("description", ""), inline=True)}
                               for p in params],
                "body": body_view,
                "responses": responses,
            })
    schemas = []
    for name, schema in document["components"]["schemas"].items():
        schemas.append({"name": name, "description": md(schema.get("description", ""), inline=True),
                        "type": type_label(schema) if "properties" not in schema else "object",
                        "fields": _fields(schema)})
    return {
        "info": document["info"],
        "description": md(document["info"].get("description", "")),
        "server": document["servers"][0]["url"],
        "tags": [{"name": t["name"], "description": t.get("description", ""), "operations": operations[t["name"]]}
                 for t in document.get("tags", [])],
        "schemas": schemas,
    }
