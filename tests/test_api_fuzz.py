"""Fuzzing the JSON API from its own OpenAPI document with schemathesis (in process, no network).

For every operation, schemathesis generates requests that fit the document (positive) and
requests that break it (negative: wrong types, out-of-range numbers, missing fields, NUL bytes…)
and sends them to the app through WSGI. Whatever it sends, the API must answer without a 5xx,
with a status the document lists for that operation and a body that matches its schema; and
anything the document says is invalid must be refused with a 4xx.

The run is bounded for CI: a few dozen examples per operation (``API_FUZZ_EXAMPLES``, default 25),
no deadlines, no shrinking database; the whole file takes well under a minute.
"""
from __future__ import annotations

import json
import os

import pytest
import schemathesis
from sqlalchemy import select
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from config import TestingConfig
from shop.api import openapi
from shop.cart import services as carts
from shop.catalog.models import Product
from shop.catalog.services import CatalogFilters, browse
from shop.extensions import db
from shop.inventory import services as inventory
from shop.shops.models import Shop

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
# Fixed examples in CI (a failure reproduces); ``API_FUZZ_RANDOM=1`` explores new ones locally.
DERANDOMIZE = os.environ.get("API_FUZZ_RANDOM", "") not in ("1", "true", "yes")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def fuzz_data(make_product, make_shop, make_producer, make_group):
    """A small shop so that lists have items, and low ids name real products, shops and producers."""
    producer = make_producer("HTX Nông nghiệp Ba Bể", story="Gạo nếp Tài.")
    group = make_group()
    online = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    kiosk = make_shop("Cửa hàng OCOP Ba Bể", ships_online=False)
    products = [
        make_product("Gạo Nếp Tài Ba Bể", stars=4, price=65_000, producer=producer, group=group),
        make_product("Miến dong Tài Hoan", stars=5, price=110_000, group=group),
        make_product("Chè Shan tuyết", stars=3, price=90_000, cert_status="revoked"),
        make_product("Mật ong", stars=None, price=180_000),
    ]
    for product in products:
        inventory.receive(online.id, product.id, 500)
        inventory.receive(kiosk.id, product.id, 5)
    db.session.commit()


# The document is built from the test configuration at import time, because schemathesis makes
# its test items while pytest collects; ``test_the_fuzzed_document_is_the_served_one`` checks
# that it is exactly what the app serves at /api/v1/openapi.json.
DOCUMENT = openapi.build({name: getattr(TestingConfig, name) for name in dir(TestingConfig) if name.isupper()})
schema = schemathesis.openapi.from_dict(DOCUMENT)
# Schemathesis's in-process WSGI client does not undo Brotli; real clients do (test_static_files.py).
PLAIN = {"Accept-Encoding": "identity"}
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                max_examples=MAX_EXAMPLES, deterministic=DERANDOMIZE)


def test_the_fuzzed_document_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").get_json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document_whatever_it_is_sent(case, app, fuzz_data):
    response = case.call(app=app, headers=PLAIN)  # in process, through WSGI
    case.validate_response(response, checks=CHECKS)


# ---- deeper: the same generated requests, but with real carts ---------------------------------
# Random tokens stop almost every cart or order request at "404 no such cart". Here each example
# gets a real cart (and real product ids), so that what follows — quantities, customers,
# addresses, shops, payment methods — reaches the services. A negative example may become valid
# once its token is replaced, so ``negative_data_rejection`` is left out of these two.

DEEP_CHECKS = [check for check in CHECKS if check is not checks.negative_data_rejection]
SET_ITEM = schema["/carts/{token}/items/{product_id}"]["PUT"]
PLACE_ORDER = schema["/orders"]["POST"]


CUSTOMERS = [
    {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"},
    {"name": "John Smith", "phone": "+84 912.345.678", "email": "john@example.com"},
    {"name": "Hà", "phone": "84912345678", "email": "ha@ocop.example"},
]


def _both_modes(operation):
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def _real_cart(product_ids, quantity: int = 1) -> str:
    cart = carts.get_or_create_cart(None)
    for product_id in product_ids:
        carts.set_quantity(cart, product_id, quantity)
    db.session.commit()
    return cart.token


def _sellable_ids() -> list[int]:
    return [item.product.id for item in browse(CatalogFilters(), per_page=10).items]


@given(case=_both_modes(SET_ITEM), data=st.data())
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=list(HealthCheck))
def test_cart_items_with_real_carts_and_products(case, data, app, fuzz_data):
    ids = _all_product_ids()
    case.path_parameters["token"] = _real_cart(_sellable_ids()[:1], 2)
    if data.draw(st.booleans(), label="real product"):
        case.path_parameters["product_id"] = data.draw(st.sampled_from(ids), label="product_id")
    case.validate_response(case.call(app=app, headers=PLAIN), checks=DEEP_CHECKS)


@given(case=_both_modes(PLACE_ORDER), data=st.data())
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=list(HealthCheck))
def test_orders_from_real_carts(case, data, app, fuzz_data):
    if isinstance(case.body, dict):
        case.body["cart_token"] = _real_cart(_sellable_ids()[: data.draw(st.integers(1, 2), label="lines")])
        if data.draw(st.booleans(), label="a real customer"):  # random text is rarely a Vietnamese phone
            case.body["customer"] = data.draw(st.sampled_from(CUSTOMERS), label="customer")
        fulfilment = case.body.get("fulfilment")
        if isinstance(fulfilment, dict) and fulfilment.get("type") == "pickup" and data.draw(st.booleans()):
            fulfilment["shop_id"] = data.draw(st.sampled_from(_shop_ids()), label="shop_id")
    case.validate_response(case.call(app=app, headers=PLAIN), checks=DEEP_CHECKS)


def _all_product_ids() -> list[int]:
    return list(db.session.scalars(select(Product.id).order_by(Product.id)))


def _shop_ids() -> list[int]:
    return list(db.session.scalars(select(Shop.id).order_by(Shop.id)))
