"""The OpenAPI 3.1 document of API v1: the contract partners program against.

Built once per application as a plain dict (``spec()``) and served at ``/api/v1/openapi.json``;
the readable page at ``/api/v1/docs`` is rendered from the same dict (``docs_view``). Tests
validate real responses against these schemas and a schemathesis run fuzzes the API from it,
so a change of the API that is not made here too fails the build.
"""
from __future__ import annotations

import json
from typing import Any

import markdown
from flask import current_app
from markupsafe import Markup

from shop.api.inputs import MAX_BODY_BYTES, TOKEN_PATTERN
from shop.catalog.models import CERT_LEVELS
from shop.catalog.search import MAX_QUERY_LENGTH
from shop.catalog.filters import FALSE_VALUES, MAX_LOCALITY_REF_LENGTH, MAX_PAGE, MAX_PER_PAGE, MAX_PRICE, \
    MAX_REF_LENGTH, SORTS, TRUE_VALUES
from shop.cart.services import PROBLEMS
from shop.orders.enums import (FulfilmentStatus, FulfilmentType, OrderState, OrderStatus, PaymentMethod,
                               PaymentStatus, ShipmentState)
from shop.orders.services import ADDRESS_MAX, FIELD_MAX
from shop.orders.services import TRANSITIONS
from shop.producers.models import PRODUCER_KINDS

ORDER_STATUSES = sorted(TRANSITIONS)
CART_PROBLEMS = list(PROBLEMS)
CERT_STATUSES = ["active", "expired", "pending", "revoked", "superseded"]  # vocabulary: certificate statuses

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


def _nullable(schema: dict) -> dict:
    schema = dict(schema)
    schema["type"] = [schema["type"], "null"]
    return schema


def _object(properties: dict, required: list[str] | None = None, description: str = "") -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    return schema


INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
STR = {"type": "string"}
VND = {"type": "integer", "minimum": 0, "description": "Whole Vietnamese đồng."}
COUNT = {"type": "integer", "minimum": 0}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
LOCALITY_TODAY = {"type": ["string", "null"],
                  "description": "Today's unit when the place (or a unit above it) was merged since, e.g. "
                                 "`Thái Nguyên` for a place of the former Bắc Kạn province (merged on 1/7/2025); "
                                 "null when unchanged."}
ORDER_URL = {"type": ["string", "null"], "format": "uri",
             "description": "The customer's private order page on the website (status, payment, cancelling)."}


def _schemas(max_quantity: int) -> dict:
    product_summary = {
        "id": ID,
        "slug": STR,
        "name": {**STR, "description": "Vietnamese name."},
        "name_en": {**STR, "description": "English name (may be empty)."},
        "stars": {"type": ["integer", "null"], "minimum": 3, "maximum": 5,
                  "description": "OCOP stars of the valid certificate; null when the product has none today."},
        "price_vnd": VND,
        "unit": {**STR, "description": "Vietnamese unit of sale, e.g. \"túi 1 kg\"."},
        "unit_en": {**STR, "description": "English unit of sale, e.g. \"1 kg bag\" (may be empty: show `unit` then)."},
        "producer": _ref("ProducerRef"),
        "available": {**COUNT, "description": "Units that can be sold now, all shops together "
                                               "(stock on hand less units held for orders)."},
    }
    product_detail = {
        **product_summary,
        "on_sale": {"type": "boolean", "description": "Listed with a valid certificate today."},
        "description": STR,
        "description_en": STR,
        "group": {"oneOf": [_ref("ProductGroup"), {"type": "null"}]},
        "image_url": _nullable({"type": "string", "format": "uri"}),
        "certificate": {"oneOf": [_ref("Certificate"), {"type": "null"}],
                        "description": "The valid certificate; when there is none, the latest one "
                                       "with the reason in its status. Null if never certified."},
        "stock": {"type": "array", "items": _ref("StockEntry"),
                  "description": "Shops with units available, most first (empty when not on sale)."},
    }
    producer_summary = {
        "id": ID,
        "slug": STR,
        "name": STR,
        "kind": {"type": "string", "enum": list(PRODUCER_KINDS)},
        "locality": _nullable({"type": "string", "description": "Commune, district, province as certified."}),
        "locality_today": LOCALITY_TODAY,
        "products_on_sale": COUNT,
    }
    text = {"type": "string", "minLength": 2, "maxLength": 200}
    return {
        "Error": _object({
            "error": _object({
                "code": {"type": "string", "examples": ["invalid_parameter", "not_found", "out_of_stock"]},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The parameter or body field at fault, "
                                                            "e.g. `page` or `customer.phone`."},
                "details": {"type": "object", "additionalProperties": {
                    "type": ["string", "integer", "number", "boolean", "null"]}},
            }, required=["code", "message"]),
        }),
        "ProducerRef": _object({"id": ID, "name": STR}),
        "ProductSummary": _object(product_summary),
        "ProductPage": _object({
            "items": {"type": "array", "items": _ref("ProductSummary")},
            "total": {**COUNT, "description": "Products matching the filters, counted up to 50 pages' worth "
                                              "(50 × per_page): a total of exactly that means at least that "
                                              "many; narrow the filters to reach the rest."},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "pages": {**COUNT, "description": "Number of pages (0 when nothing matches). Pages past "
                                              "the last one are empty."},
        }),
        "ProductGroup": _object({"id": ID, "slug": STR, "name": STR, "name_en": STR}),
        "Certificate": _object({
            "stars": {"type": "integer", "minimum": 3, "maximum": 5},
            "level": {"type": "string", "enum": list(CERT_LEVELS),
                      "description": "Level of the body that certified it."},
            "decision_number": {**STR, "examples": ["1234/QĐ-UBND"]},
            "issuing_body": STR,
            "issued_on": DATE,
            "expires_on": DATE,
            "status": {"type": "string", "enum": CERT_STATUSES,
                       "description": "`active`: valid today. `expired`: past `expires_on`. `pending`: "
                                      "not yet in force. `revoked`, `superseded`: withdrawn or replaced."},
        }),
        "StockEntry": _object({"shop_id": ID, "shop_name": STR, "available": COUNT}),
        "ProductDetail": _object(product_detail),
        "Shop": _object({
            "id": {**ID, "description": "Use as `fulfilment.shop_id` for pick-up orders."},
            "slug": STR,
            "name": STR,
            "address": STR,
            "locality": _nullable({"type": "string", "description": "Ward, city, province as recorded."}),
            "locality_today": LOCALITY_TODAY,
            "phone": STR,
            "opening_hours": STR,
            "opening_hours_en": STR,
            "latitude": _nullable({"type": "number"}),
            "longitude": _nullable({"type": "number"}),
            "offers_pickup": {"type": "boolean"},
            "ships_online": {"type": "boolean", "description": "Sends delivery orders."},
        }),
        "ShopList": _object({"items": {"type": "array", "items": _ref("Shop")}, "total": COUNT}),
        "ProducerSummary": _object(producer_summary),
        "ProducerList": _object({"items": {"type": "array", "items": _ref("ProducerSummary")},
                                 "total": COUNT}),
        "ProducerDetail": _object({
            **producer_summary,
            "address": STR,
            "phone": STR,
            "story": {**STR, "description": "The producer's story, Markdown (Vietnamese)."},
            "story_en": {**STR, "description": "The story in English, Markdown (may be empty)."},
            "cover_image_url": _nullable({"type": "string", "format": "uri"}),
            "products": {"type": "array", "items": _ref("ProductSummary"), "description": "Products on sale now."},
        }),
        "CartLine": _object({
            "product_id": ID,
            "slug": STR,
            "name": {**STR, "description": "Vietnamese name."},
            "name_en": {**STR, "description": "English name (may be empty: show `name` then)."},
            "unit": {**STR, "description": "Vietnamese unit of sale."},
            "unit_en": {**STR, "description": "English unit of sale (may be empty: show `unit` then)."},
            "stars": {"type": ["integer", "null"], "minimum": 3, "maximum": 5},
            "quantity": {"type": "integer", "minimum": 1,
                         "description": f"Units wanted; above {max_quantity} the line reports `too_many` "
                                        "(the limit may have been lowered since the product was added)."},
            "unit_price_vnd": {**VND, "description": "Today's price (prices are always read live)."},
            "line_total_vnd": VND,
            "available": COUNT,
            "problems": {"type": "array", "items": {"type": "string", "enum": CART_PROBLEMS},
                         "description": "What stops checkout (`POST /orders` checks the same): `not_for_sale`, "
                                        "`out_of_stock`, `insufficient`, `too_many` (lower the quantity), or "
                                        "`price_changed` (accept it with `POST /carts/{token}/accept-prices`)."},
        }),
        "Cart": _object({
            "token": {"type": "string", "pattern": TOKEN_PATTERN,
                      "description": "The cart's private token: keep it to use the cart."},
            "lines": {"type": "array", "items": _ref("CartLine")},
            "count": {**COUNT, "description": "Units in the cart."},
            "subtotal_vnd": VND,
            "ready_for_checkout": {"type": "boolean", "description": "Has lines and none has a problem."},
            "order": {"oneOf": [_object({
                "number": STR,
                "token": {**STR, "description": "The order's private token (for `GET /orders/{number}`)."},
                "order_url": ORDER_URL,
            }), {"type": "null"}], "description": "The order this cart became, once `POST /orders` succeeded "
                                                  "(the cart then has no lines and takes no changes); else null."},
        }),
        "CartItemUpdate": _object({
            "quantity": {"type": "integer", "minimum": 0, "maximum": max_quantity,
                         "description": "The exact number of units wanted; 0 removes the line."},
        }),
        "Customer": _object({
            "name": {"type": "string", "minLength": 2, "maxLength": FIELD_MAX["name"],
                     "description": "Lengths count characters after Unicode NFC normalisation."},
            "phone": {"type": "string", "maxLength": 31,
                      "description": "As people type it: `0912 345 678`, `+84 912 345 678` (Vietnam is the default; "
                                     "a Vietnamese mobile has 10 digits starting 03, 05, 07, 08 or 09), or a foreign "
                                     "number with its country code, `+44 7700 900123`. ASCII digits only. "
                                     "Stored and returned in E.164: `+84912345678`."},
            "email": {"type": "string", "maxLength": FIELD_MAX["email"],
                      "description": "At most this long after normalisation (IDNA can lengthen a domain)."},
        }),
        "Address": _object({
            "street": {**text, "maxLength": ADDRESS_MAX["street"], "description": "House number and street."},
            "ward": {**text, "maxLength": ADDRESS_MAX["ward"], "description": "Ward or commune (phường / xã)."},
            "province": {**text, "maxLength": ADDRESS_MAX["province"],
                         "description": "Province or city (tỉnh / thành phố)."},
        }, description="A delivery address in Vietnam."),
        "DeliveryFulfilment": _object({"type": {"type": "string", "const": FulfilmentType.DELIVERY},
                                       "address": _ref("Address")},
                                      description="Delivered by courier; shipping is free above a threshold."),
        "PickupFulfilment": _object({"type": {"type": "string", "const": FulfilmentType.PICKUP},
                                     "shop_id": {**ID, "maximum": 2**31 - 1,
                                                 "description": "A shop from `GET /shops` that offers pick-up "
                                                                "and holds every item."}},
                                    description="Collected at a shop; no shipping fee."),
        "OrderRequest": _object({
            "cart_token": {"type": "string", "pattern": TOKEN_PATTERN},
            "customer": _ref("Customer"),
            "fulfilment": {"oneOf": [_ref("DeliveryFulfilment"), _ref("PickupFulfilment")],
                           "discriminator": {"propertyName": "type", "mapping": {
                               FulfilmentType.DELIVERY: "#/components/schemas/DeliveryFulfilment",
                               FulfilmentType.PICKUP: "#/components/schemas/PickupFulfilment"}}},
            "payment_method": {"type": "string", "enum": list(PaymentMethod),
                               "description": "Delivery: `cod`, `bank_transfer`, `card`. Pick-up: `pay_at_shop`, "
                                              "`bank_transfer`, `card`. `card` only where the shop takes cards."},
        }),
        "CashPayment": _object({"method": {"type": "string", "enum": [PaymentMethod.COD, PaymentMethod.PAY_AT_SHOP]},
                                "amount_vnd": VND},
                               description="Cash to the courier (`cod`) or at the shop (`pay_at_shop`)."),
        "BankTransferPayment": _object({
            "method": {"type": "string", "const": PaymentMethod.BANK_TRANSFER},
            "amount_vnd": VND,
            "bank_bin": {"type": "string", "description": "The bank's 6-digit NAPAS BIN."},
            "bank_name": STR,
            "account": STR,
            "account_name": STR,
            "reference": {**STR, "description": "Transfer description: the order number."},
            "vietqr_payload": _nullable({"type": "string", "description": "Text of a VietQR code "
                                                                          "(render it as a QR code)."}),
            "expires_at": _nullable({**DATETIME, "description": "Unpaid orders are cancelled after this."}),
        }, description="Pay by bank transfer, e.g. by scanning the VietQR code in a banking app."),
        "CardPayment": _object({
            "method": {"type": "string", "const": PaymentMethod.CARD},
            "amount_vnd": VND,
            "checkout_url": _nullable({"type": "string", "description": "Send the customer here to pay "
                                                                        "(only in the reply to POST /orders)."}),
            "expires_at": _nullable(DATETIME),
        }),
        "Payment": {"oneOf": [_ref("CashPayment"), _ref("BankTransferPayment"), _ref("CardPayment")]},
        "OrderCreated": _object({
            "number": {"type": "string", "examples": ["OC-2026-000123"]},
            "token": {"type": "string", "description": "The order's private token, needed to read it."},
            "order_url": ORDER_URL,
            "status": {"type": "string", "enum": ORDER_STATUSES,
                       "description": "`placed` for cash orders, `pending_payment` until paid otherwise."},
            "subtotal_vnd": VND,
            "shipping_fee_vnd": VND,
            "total_vnd": VND,
            "payment": _ref("Payment"),
        }),
        "OrderLine": _object({
            "product_id": _nullable(ID),
            "name": {**STR, "description": "Vietnamese product name when ordered."},
            "name_en": {**STR, "description": "English product name when ordered (may be empty: show `name` then)."},
            "unit": {**STR, "description": "Vietnamese unit of sale when ordered."},
            "unit_en": {**STR, "description": "English unit of sale when ordered (may be empty: show `unit` then)."},
            "stars": {"type": "integer", "minimum": 3, "maximum": 5, "description": "Stars when ordered."},
            "quantity": {"type": "integer", "minimum": 1},
            "unit_price_vnd": VND,
            "line_total_vnd": VND,
        }),
        "OrderEvent": _object({
            "from_status": {"type": ["string", "null"], "enum": [*ORDER_STATUSES, None]},
            "to_status": {"type": "string", "enum": ORDER_STATUSES},
            "at": DATETIME,
        }),
        "Order": _object({
            "number": STR,
            "order_url": ORDER_URL,
            "status": {"type": "string", "enum": [*ORDER_STATUSES, OrderStatus.EXPIRED],
                       "description": "`expired`: the time to pay, to be confirmed or to be collected ran "
                                      "out and the stock was released; the order will be cancelled."},
            "created_at": DATETIME,
            "language": {"type": "string", "enum": ["vi", "en"],
                         "description": "The language the order was placed in (`?lang=`, else `Accept-Language`, "
                                        "else `vi`); the customer's emails are written in it."},
            "customer": _object({"name": STR, "phone": STR, "email": STR}),
            "fulfilment": {"oneOf": [
                _object({"type": {"type": "string", "const": FulfilmentType.DELIVERY},
                         "address": _object({"street": STR, "ward": STR, "province": STR})}),
                _object({"type": {"type": "string", "const": FulfilmentType.PICKUP}, "shop_id": _nullable(ID),
                         "shop_name": _nullable(STR)}),
            ]},
            "payment_method": {"type": "string", "enum": list(PaymentMethod)},
            "payment": _ref("Payment"),
            "lines": {"type": "array", "items": _ref("OrderLine")},
            "subtotal_vnd": VND,
            "shipping_fee_vnd": VND,
            "total_vnd": VND,
            "history": {"type": "array", "items": _ref("OrderEvent"),
                        "description": "Oldest first: the order's own steps (each shipment has its own)."},
            "payment_status": {"type": "string", "enum": list(PaymentStatus),
                               "description": "The money, apart from the goods: `unpaid` (cash orders until "
                                              "delivered or collected), `pending` (card or transfer awaited), "
                                              "`paid`, `partially_refunded`, `refunded`."},
            "refunded_vnd": {**VND, "description": "Đồng given back to the customer so far."},
            "fulfilment_status": {"type": "string", "enum": list(FulfilmentStatus),
                                  "description": "The goods, read from the shipments not cancelled."},
            "state": {"type": "string", "enum": list(OrderState),
                      "description": "`completed`: goods delivered or collected and the money settled."},
            "shipments": {"type": "array", "items": _ref("Shipment"),
                          "description": "One per source shop: each shop prepares and sends its own part."},
        }),
        "Shipment": _object({
            "id": ID,
            "shop_id": ID,
            "shop_name": STR,
            "state": {"type": "string", "enum": list(ShipmentState)},
            "carrier": STR,
            "tracking_number": STR,
            "lines": {"type": "array", "items": _object({"product_id": _nullable(ID),
                                                         "quantity": {"type": "integer", "minimum": 1}})},
            "history": {"type": "array", "items": _object({
                "from_state": {"type": ["string", "null"], "enum": [*ShipmentState, None]},
                "to_state": {"type": "string", "enum": list(ShipmentState)},
                "at": DATETIME,
            })},
        }),
    }


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


def _json(schema_name: str, description: str, example: Any | None = None, **extra) -> dict:
    content: dict[str, Any] = {"schema": _ref(schema_name)}
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
    "fulfilment": {"type": FulfilmentType.DELIVERY, "address": {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân",
                                                   "province": "Thái Nguyên"}},
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
                "200": _json("ProductPage", "A page of products.",
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
            "responses": {"200": _json("ProductDetail", "The product."), "404": _r("NotFound"), **limited},
        }},
        "/shops": {"get": {
            "operationId": "listShops", "tags": ["Shops and producers"], "summary": "OCOP shops",
            "description": "Shops open to visitors, by name. Pick-up orders name one of these.",
            "responses": {"200": _json("ShopList", "Every shop."), **limited},
        }},
        "/producers": {"get": {
            "operationId": "listProducers", "tags": ["Shops and producers"], "summary": "Producers",
            "description": "Every OCOP producer (cooperatives, companies, households), by name.",
            "responses": {"200": _json("ProducerList", "Every producer."), **limited},
        }},
        "/producers/{producer_id}": {"get": {
            "operationId": "getProducer", "tags": ["Shops and producers"], "summary": "One producer",
            "description": "The producer's profile and story, with its products on sale.",
            "parameters": [_p("producer_id")],
            "responses": {"200": _json("ProducerDetail", "The producer."), "404": _r("NotFound"), **limited},
        }},
        "/carts": {"post": {
            "operationId": "createCart", "tags": ["Cart"], "summary": "Start a cart",
            "description": "A new empty cart. Send no body (or `{}`). Keep the `token`: it is the only way "
                           "back to the cart. A cart disappears when an order is placed from it.",
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": {"type": "object"}, "example": {}}}},
            "responses": {
                "201": _json("Cart", "The new cart.", {"token": "5Jc1yG3kq0yWw3E6n7H3rVb2nQ9x4TtD", "lines": [],
                                                       "count": 0, "subtotal_vnd": 0, "ready_for_checkout": False},
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
            "responses": {"200": _json("Cart", "The cart."), "404": _r("NotFound"), **limited},
        }},
        "/carts/{token}/items/{product_id}": {"put": {
            "operationId": "setCartItem", "tags": ["Cart"], "summary": "Set a product's quantity",
            "description": "Put exactly `quantity` units of the product in the cart (0 removes it). Refused "
                           "with 409 when fewer units are available, 400 when the product is not on sale.",
            "parameters": [_p("cart_token"), _p("product_id")],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _ref("CartItemUpdate"), "example": {"quantity": 2}}}},
            "responses": {
                "200": _json("Cart", "The cart after the change.",
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
            "responses": {"200": _json("Cart", "The cart, without `price_changed` problems."),
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
                "schema": _ref("OrderRequest"),
                "examples": {
                    "cash_on_delivery": {"summary": "Delivery, cash on delivery", "value": COD_ORDER_EXAMPLE},
                    "pickup_bank_transfer": {"summary": "Pick-up at a shop, bank transfer",
                                             "value": PICKUP_ORDER_EXAMPLE},
                }}}},
            "responses": {
                "201": _json("OrderCreated", "The order is placed.", {
                    "number": "OC-2026-000123", "token": "q8W4o1f9YtZk3VxN2Lr7m5Ps0aBcDeFg", "status": OrderStatus.PLACED,
                    "subtotal_vnd": 130000, "shipping_fee_vnd": 30000, "total_vnd": 160000,
                    "payment": {"method": PaymentMethod.COD, "amount_vnd": 160000}},
                    headers={"Location": {"description": "The order's URL (with its token).",
                                          "schema": {"type": "string"}}},
                    links={"GetOrder": {"operationId": "getOrder", "parameters": {
                        "number": "$response.body#/number", "token": "$response.body#/token"}}}),
                "200": _json("OrderCreated", "This cart had already become this order; nothing was changed "
                             "(`payment.checkout_url` is null: pay from the order page)."),
                "404": _r("NotFound"), "409": _r("OutOfStock"), **body_errors, **limited,
            },
        }},
        "/orders/{number}": {"get": {
            "operationId": "getOrder", "tags": ["Orders"], "summary": "Follow an order",
            "description": "Status, lines and history of an order, for whoever holds its token.",
            "parameters": [_p("order_number"), _p("order_token")],
            "responses": {"200": _json("Order", "The order."), "400": _r("BadRequest"), "404": _r("NotFound"),
                          **limited},
        }},
    }


def build(config) -> dict:
    rate, order_rate = config["API_RATE_LIMIT"], config["ORDER_RATE_LIMIT"]
    paths = _paths()
    for item in paths.values():  # any operation refuses a query parameter it does not list
        for op in item.values():
            op["responses"].setdefault("400", _r("BadRequest"))
            op["responses"] = dict(sorted(op["responses"].items()))
    order_op = paths["/orders"]["post"]
    order_op["description"] = order_op["description"].replace("{order_rate}", order_rate)
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
            "schemas": _schemas(config["MAX_LINE_QUANTITY"]),
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
    if "oneOf" in schema:
        return " or ".join(type_label(s) for s in schema["oneOf"])
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
