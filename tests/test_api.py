"""The JSON API v1: the contract (OpenAPI document), the purchase story, errors, limits and CORS.

Every response a test reads goes through ``api.call``, which checks that its status is documented
for the operation and validates its body against the document's schema (Draft 2020-12, with
``additionalProperties: false`` added so that an undocumented field fails too).
"""
from __future__ import annotations

import copy
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shop.cart import services as carts
from shop.catalog.models import Certificate, Product
from shop.extensions import db, limiter
from shop.inventory import services as inventory
from shop.orders.models import Order
from shop.timeutil import today_vn

API = "/api/v1"
DOC_URI = "urn:ocop-shop:api-v1"


# ---- validating real responses against the document -----------------------------------------


def strict(node):
    """A copy of the document where objects with listed properties allow no others."""
    if isinstance(node, dict):
        node = {k: strict(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


class Api:
    """Calls the API by the document's path templates and checks every answer against it."""

    def __init__(self, client, document):
        self.client = client
        self.document = document
        self.registry = Registry().with_resource(
            DOC_URI, Resource.from_contents(strict(copy.deepcopy(document)), default_specification=DRAFT202012))

    def validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check(self, response, method: str, template: str):
        operation = self.document["paths"][template][method.lower()]
        declared = operation["responses"].get(str(response.status_code))
        assert declared is not None, (
            f"{method} {template} answered {response.status_code}, which the document does not list: "
            f"{response.get_data(as_text=True)[:300]}")
        declared = self.resolve(declared)
        if "content" in declared:
            assert response.mimetype == "application/json"
            status = str(response.status_code)
            ref = operation["responses"][status].get("$ref")
            pointer = (ref.removeprefix("#") + "/content/application~1json/schema") if ref else \
                f"/paths/{template.replace('/', '~1')}/{method.lower()}/responses/{status}/content/application~1json/schema"
            errors = sorted(self.validator(pointer).iter_errors(response.get_json()), key=str)
            assert not errors, f"{method} {template} {status}: " + "; ".join(
                f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        return response

    def call(self, method: str, template: str, *, query=None, json=None, headers=None, data=None,
             content_type=None, **path):
        url = API + re.sub(r"\{(\w+)\}", lambda m: quote(str(path[m.group(1)]), safe=""), template)
        kwargs = {"query_string": query, "headers": headers or {}}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
        response = self.client.open(url, method=method, **kwargs)
        return self.check(response, method, template)


@pytest.fixture
def document(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture
def api(client, document):
    return Api(client, document)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"]
    return body["error"]


# ---- data -------------------------------------------------------------------------------------


@pytest.fixture
def shop_data(make_product, make_producer, make_group, make_shop, make_locality):
    province = make_locality("Bắc Kạn", kind="province")
    ba_be = make_locality("Ba Bể", kind="district", parent=province)
    coop = make_producer("HTX Nông nghiệp Ba Bể", locality=ba_be, story="Gạo nếp **Tài** từ Ba Bể.")
    other = make_producer("HTX Miến dong Tài Hoan")
    weaver = make_producer("Hộ kinh doanh Nông Văn Dũng", kind="household")
    food = make_group(name="Thực phẩm", name_en="Food")
    rice = make_group(name="Gạo", name_en="Rice", parent=food)
    crafts = make_group(name="Thủ công mỹ nghệ", name_en="Crafts")
    nep = make_product("Gạo Nếp Tài Ba Bể", stars=4, price=65_000, producer=coop, group=rice,
                       name_en="Ba Be Tai sticky rice", unit="túi 1 kg")
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, producer=other, group=food)
    basket = make_product("Giỏ mây tre đan", stars=3, price=250_000, producer=weaver, group=crafts)
    revoked = make_product("Chè Shan tuyết Pác Nặm", stars=4, price=90_000, producer=coop, group=food,
                           cert_status="revoked")
    expired = make_product("Mật ong bạc hà", stars=None, price=180_000, producer=coop, group=food)
    past = today_vn() - timedelta(days=1200)
    db.session.add(Certificate(product=expired, stars=4, status="active", decision_number="9/QĐ-UBND",
                               issuing_body="UBND tỉnh Bắc Kạn", level="province", issued_on=past,
                               expires_on=past + timedelta(days=1095)))
    unlisted = make_product("Sản phẩm ẩn", stars=4, listed=False)
    online = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, opening_hours="7:30–21:00")
    kiosk = make_shop("Cửa hàng OCOP Ba Bể", ships_online=False)
    warehouse = make_shop("Kho tổng", ships_online=True, offers_pickup=False, kind="warehouse")
    inventory.receive(online.id, nep.id, 10)
    inventory.receive(kiosk.id, nep.id, 3)
    inventory.receive(online.id, mien.id, 5)
    inventory.receive(online.id, basket.id, 2)
    inventory.receive(online.id, revoked.id, 7)
    db.session.commit()
    return {"nep": nep, "mien": mien, "basket": basket, "revoked": revoked, "expired": expired,
            "unlisted": unlisted, "online": online, "kiosk": kiosk, "warehouse": warehouse,
            "coop": coop, "other": other, "food": food, "rice": rice, "crafts": crafts, "ba_be": ba_be}


CUSTOMER = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"}
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}


def order_body(token: str, **changes) -> dict:
    body = {"cart_token": token, "customer": dict(CUSTOMER),
            "fulfilment": {"type": "delivery", "address": dict(ADDRESS)}, "payment_method": "cod"}
    body.update(changes)
    return body


def new_cart(api, *lines) -> str:
    token = api.call("POST", "/carts").get_json()["token"]
    for product, quantity in lines:
        response = api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=product.id,
                            json={"quantity": quantity})
        assert response.status_code == 200, response.get_json()
    return token


# ---- the document -----------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1_and_describes_every_route(app, document):
    from openapi_spec_validator import validate

    validate(document)
    assert document["openapi"].startswith("3.1")
    routes = {(rule.rule.removeprefix(API), method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(API + "/") and rule.endpoint not in ("api.openapi_document", "api.docs")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method)
                  for path, item in document["paths"].items() for method in item}
    flask_style = {(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule), method) for rule, method in routes}
    assert flask_style == documented
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "429" in operation["responses"], (method, path)
            for status in operation["responses"]:
                assert status.startswith(("2", "4")), (method, path, status)
    for name in ("ProductSummary", "ProductDetail", "Cart", "OrderCreated", "Order", "Error"):
        assert name in document["components"]["schemas"]


def test_the_docs_page_is_rendered_from_the_document_with_nothing_fetched_elsewhere(client, document):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, item in document["paths"].items():
        assert path in html
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "assets must be served by the shop itself"
    assert client.get("/static/api/docs.css").status_code == 200


# ---- the story of the issue: find, fill a cart, order cash on delivery, follow it --------------


def test_a_client_that_knows_only_the_document_can_buy_cash_on_delivery(api, shop_data, app):
    found = api.call("GET", "/products", query={"q": "nep tai"}).get_json()
    assert [item["name"] for item in found["items"]] == ["Gạo Nếp Tài Ba Bể"]
    product = found["items"][0]
    assert product["price_vnd"] == 65_000 and product["stars"] == 4 and product["available"] == 13
    assert product["producer"] == {"id": shop_data["coop"].id, "name": "HTX Nông nghiệp Ba Bể"}

    detail = api.call("GET", "/products/{product_id}", product_id=product["id"]).get_json()
    assert detail["certificate"]["status"] == "active" and detail["stock"][0]["available"] == 10

    created = api.call("POST", "/carts")
    assert created.status_code == 201 and created.headers["Location"].endswith(created.get_json()["token"])
    token = created.get_json()["token"]
    api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=product["id"], json={"quantity": 2})
    cart = api.call("GET", "/carts/{token}", token=token).get_json()
    assert cart["lines"][0]["quantity"] == 2 and cart["lines"][0]["line_total_vnd"] == 130_000
    assert cart["subtotal_vnd"] == 130_000 and cart["ready_for_checkout"] is True

    placed = api.call("POST", "/orders", json=order_body(token))
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()
    assert order["status"] == "placed" and order["total_vnd"] == 130_000 + app.config["SHIPPING_FEE"]
    assert order["payment"] == {"method": "cod", "amount_vnd": order["total_vnd"]}
    assert placed.headers["Cache-Control"] == "no-store"
    spent = api.call("GET", "/carts/{token}", token=token).get_json()  # the cart became the order
    assert spent["lines"] == [] and spent["ready_for_checkout"] is False
    assert (spent["order"]["number"], spent["order"]["token"]) == (order["number"], order["token"])

    followed = api.call("GET", "/orders/{number}", number=order["number"], query={"token": order["token"]})
    body = followed.get_json()
    assert body["status"] == "placed" and body["customer"]["phone"] == "+84912345678"
    assert [(l["name"], l["quantity"], l["unit_price_vnd"], l["stars"]) for l in body["lines"]] == [
        ("Gạo Nếp Tài Ba Bể", 2, 65_000, 4)]
    assert [(e["from_status"], e["to_status"]) for e in body["history"]] == [(None, "placed")]
    assert body["fulfilment"] == {"type": "delivery", "address": ADDRESS}
    # The stock is held for the order: two fewer units can be sold.
    again = api.call("GET", "/products/{product_id}", product_id=product["id"]).get_json()
    assert again["available"] == 11


# ---- catalogue ----------------------------------------------------------------------------------


def test_products_list_only_what_is_on_sale_best_stars_first(api, shop_data):
    page = api.call("GET", "/products").get_json()
    assert [i["name"] for i in page["items"]] == ["Miến dong Tài Hoan", "Gạo Nếp Tài Ba Bể", "Giỏ mây tre đan"]
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (3, 1, 20, 1)


@pytest.mark.parametrize("query, names", [
    ({"stars": ["4", "5"]}, {"Miến dong Tài Hoan", "Gạo Nếp Tài Ba Bể"}),
    ({"stars": "3,5"}, {"Miến dong Tài Hoan", "Giỏ mây tre đan"}),
    ({"q": "MIEN DONG"}, {"Miến dong Tài Hoan"}),
    ({"q": "ba be"}, {"Gạo Nếp Tài Ba Bể"}),  # the producer's place of origin
    ({"q": "no such thing"}, set()),
    ({"group": "nonexistent-slug"}, set()),
    ({"producer": "999999"}, set()),
    ({"producer": "0"}, set()),
    ({"group": "99999999999"}, set()),
])
def test_products_filters(api, shop_data, query, names):
    items = api.call("GET", "/products", query=query).get_json()["items"]
    assert {i["name"] for i in items} == names


def test_group_producer_and_locality_by_slug_or_id(api, shop_data):
    for key, obj, names in (
        ("group", shop_data["food"], {"Miến dong Tài Hoan", "Gạo Nếp Tài Ba Bể"}),  # with its subgroup
        ("group", shop_data["crafts"], {"Giỏ mây tre đan"}),
        ("producer", shop_data["coop"], {"Gạo Nếp Tài Ba Bể"}),
        ("locality", shop_data["ba_be"], {"Gạo Nếp Tài Ba Bể"}),
    ):
        for value in (obj.slug, str(obj.id)):
            items = api.call("GET", "/products", query={key: value}).get_json()["items"]
            assert {i["name"] for i in items} == names, (key, value)


def test_in_stock_lists_only_products_with_units_left_after_holds(api, shop_data):
    """Issue 8, item 6: ``in_stock=1`` was ignored and listed a product whose every unit was held."""
    token = api.call("POST", "/carts").get_json()["token"]
    api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=shop_data["basket"].id,
             json={"quantity": 2})
    placed = api.call("POST", "/orders", json=order_body(token))
    assert placed.status_code == 201  # both baskets are held for the order now
    names = lambda query: {i["name"] for i in api.call("GET", "/products", query=query).get_json()["items"]}  # noqa: E731
    assert names({"in_stock": "1"}) == {"Gạo Nếp Tài Ba Bể", "Miến dong Tài Hoan"}
    assert names({"in_stock": "true"}) == names({"in_stock": "1"})
    assert names({"in_stock": "0"}) == names({}) == {"Gạo Nếp Tài Ba Bể", "Miến dong Tài Hoan", "Giỏ mây tre đan"}
    basket = api.call("GET", "/products/{product_id}", product_id=shop_data["basket"].id).get_json()
    assert basket["available"] == 0 and basket["stock"] == []  # the product page's rule, the same number


def test_every_filter_of_the_pages_is_in_the_api_and_its_document(api, document, shop_data):
    from shop.catalog.filters import PARAMETERS

    listed = {api.resolve(p)["name"] for p in document["paths"]["/products"]["get"]["parameters"]}
    assert listed == set(PARAMETERS)
    query = {"q": "tai", "stars": "4,5", "group": shop_data["food"].slug, "producer": shop_data["coop"].id,
             "locality": shop_data["ba_be"].slug, "min_price": "60000", "max_price": "70000", "in_stock": "1",
             "sort": "price_asc", "page": "1", "per_page": "5"}
    body = api.call("GET", "/products", query=query).get_json()
    assert [i["name"] for i in body["items"]] == ["Gạo Nếp Tài Ba Bể"] and body["per_page"] == 5


@pytest.mark.parametrize("query, names", [
    ({"min_price": "100000"}, {"Miến dong Tài Hoan", "Giỏ mây tre đan"}),
    ({"max_price": "110000"}, {"Gạo Nếp Tài Ba Bể", "Miến dong Tài Hoan"}),
    ({"min_price": "65000", "max_price": "65000"}, {"Gạo Nếp Tài Ba Bể"}),
])
def test_price_range(api, shop_data, query, names):
    assert {i["name"] for i in api.call("GET", "/products", query=query).get_json()["items"]} == names


@pytest.mark.parametrize("template, path, query, field", [
    ("/products", {}, {"in_stok": "1"}, "in_stok"),  # a misspelt filter must not list everything
    ("/products", {}, {"utm_source": "zalo"}, "utm_source"),
    ("/products", {}, {"in_stock": "maybe"}, "in_stock"),
    ("/products", {}, {"min_price": "-1"}, "min_price"),
    ("/products", {}, {"max_price": "1.5"}, "max_price"),
    ("/products", {}, {"min_price": "200000", "max_price": "100000"}, "max_price"),
    ("/products", {}, {"lang": "fr"}, "lang"),
    ("/products", {}, {"page": ""}, "page"),  # a form's empty field means "no filter"; a program's is a mistake
    ("/products", {}, {"in_stock": ""}, "in_stock"),
    ("/shops", {}, {"city": "bac-kan"}, "city"),
    ("/producers", {}, {"page": "2"}, "page"),
    ("/products/{product_id}", {"product_id": 1}, {"fields": "name"}, "fields"),
    ("/orders/{number}", {"number": "OC-2026-000001"}, {"token": "abc", "expand": "1"}, "expand"),
])
def test_unknown_or_malformed_query_parameters_are_refused_everywhere(api, shop_data, template, path, query, field):
    response = api.call("GET", template, query=query, **path)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_parameter" and error["field"] == field


def test_lang_is_accepted_everywhere(api, shop_data):
    assert api.call("GET", "/shops", query={"lang": "en"}).status_code == 200
    assert api.call("GET", "/products", query={"lang": "vi", "q": "nep"}).status_code == 200


def test_paging_and_pages_past_the_end_are_empty(api, shop_data):
    first = api.call("GET", "/products", query={"per_page": "2"}).get_json()
    second = api.call("GET", "/products", query={"per_page": "2", "page": "2"}).get_json()
    beyond = api.call("GET", "/products", query={"per_page": "2", "page": "3"}).get_json()
    assert (len(first["items"]), len(second["items"]), first["pages"]) == (2, 1, 2)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert beyond["items"] == [] and beyond["page"] == 3 and beyond["total"] == 3


@pytest.mark.parametrize("query, field", [
    ({"page": "abc"}, "page"),
    ({"page": "0"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"page": "99999999999999999999"}, "page"),
    ({"page": ["1", "2"]}, "page"),
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "101"}, "per_page"),
    ({"stars": "6"}, "stars"),
    ({"stars": "4,x"}, "stars"),
    ({"sort": "cheapest"}, "sort"),
    ({"q": "x" * 101}, "q"),
    ({"q": "gao\x00nep"}, "q"),
    ({"group": "\x00"}, "group"),
    ({"producer": "x" * 161}, "producer"),
])
def test_products_refuses_bad_parameters_with_a_reason(api, shop_data, query, field):
    response = api.call("GET", "/products", query=query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_parameter" and error["field"] == field


def test_page_must_be_a_positive_integer_message(api, client):
    error = error_of(client.get(f"{API}/products?page=abc&lang=en"))
    assert error == {"code": "invalid_parameter", "field": "page",
                     "message": "page must be a positive integer (at most 10000)."}


def test_product_detail(api, shop_data):
    nep = shop_data["nep"]
    body = api.call("GET", "/products/{product_id}", product_id=nep.id).get_json()
    cert = body["certificate"]
    assert body["name_en"] == "Ba Be Tai sticky rice" and body["on_sale"] is True and body["stars"] == 4
    assert cert["stars"] == 4 and cert["level"] == "province" and cert["status"] == "active"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cert["issued_on"]) and cert["expires_on"] > cert["issued_on"]
    assert body["stock"] == [
        {"shop_id": shop_data["online"].id, "shop_name": "Cửa hàng OCOP trung tâm", "available": 10},
        {"shop_id": shop_data["kiosk"].id, "shop_name": "Cửa hàng OCOP Ba Bể", "available": 3},
    ]
    assert body["available"] == 13 and body["group"]["name_en"] == "Rice"


@pytest.mark.parametrize("key, status", [("revoked", "revoked"), ("expired", "expired")])
def test_a_product_whose_certificate_lapsed_is_shown_but_not_sold(api, shop_data, key, status):
    body = api.call("GET", "/products/{product_id}", product_id=shop_data[key].id).get_json()
    assert body["stars"] is None and body["available"] == 0 and body["stock"] == [] and body["on_sale"] is False
    assert body["certificate"]["status"] == status


@pytest.mark.parametrize("product_id", ["unlisted", 999_999, 2**31, 10**30])
def test_unknown_or_unlisted_products_are_404(api, shop_data, product_id):
    if isinstance(product_id, str):
        product_id = shop_data[product_id].id
    response = api.call("GET", "/products/{product_id}", product_id=product_id)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_the_products_list_costs_the_same_number_of_queries_for_10_or_60_products(
        api, make_product, make_shop, count_queries):
    shop = make_shop()

    def add(n):
        for _ in range(n):
            product = make_product(f"Sản phẩm {Product.query.count()}")
            inventory.receive(shop.id, product.id, 3)
        db.session.commit()

    def queries(query):
        db.session.expire_all()
        with count_queries() as counter:
            response = api.call("GET", "/products", query=query)
        assert response.status_code == 200
        return counter.count

    add(10)
    small = [queries({"per_page": "100"}), queries({"q": "san pham", "stars": "4", "per_page": "100"})]
    add(50)
    large = [queries({"per_page": "100"}), queries({"q": "san pham", "stars": "4", "per_page": "100"})]
    # list: lapse check (shop.catalog.listing), bounded count, page; a search adds its candidates.
    assert small == large and max(large) <= 4


def test_shops_and_producers(api, shop_data):
    shops = api.call("GET", "/shops").get_json()
    names = [s["name"] for s in shops["items"]]
    assert names == ["Cửa hàng OCOP Ba Bể", "Cửa hàng OCOP trung tâm"]  # not the warehouse
    assert shops["items"][1]["opening_hours"] == "7:30–21:00" and shops["items"][1]["ships_online"] is True

    producers = api.call("GET", "/producers").get_json()
    by_name = {p["name"]: p for p in producers["items"]}
    assert by_name["HTX Nông nghiệp Ba Bể"]["products_on_sale"] == 1
    assert by_name["HTX Nông nghiệp Ba Bể"]["locality"] == "Ba Bể, Bắc Kạn"

    coop = api.call("GET", "/producers/{producer_id}", producer_id=shop_data["coop"].id).get_json()
    assert coop["story"] == "Gạo nếp **Tài** từ Ba Bể." and [p["name"] for p in coop["products"]] == ["Gạo Nếp Tài Ba Bể"]
    assert api.call("GET", "/producers/{producer_id}", producer_id=987654).status_code == 404


# ---- carts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"data": "{}", "content_type": "application/json; charset=utf-8"}])
def test_creating_a_cart_needs_no_body(api, kwargs):
    response = api.call("POST", "/carts", **kwargs)
    assert response.status_code == 201 and len(response.get_json()["token"]) >= 32


def test_quantity_zero_removes_a_line_and_quantities_are_exact(api, shop_data):
    token = new_cart(api, (shop_data["nep"], 3), (shop_data["mien"], 1))
    put = lambda product, q: api.call("PUT", "/carts/{token}/items/{product_id}", token=token,  # noqa: E731
                                      product_id=product.id, json={"quantity": q})
    assert put(shop_data["nep"], 1).get_json()["lines"][0]["quantity"] == 1
    after = put(shop_data["nep"], 0).get_json()
    assert [l["name"] for l in after["lines"]] == ["Miến dong Tài Hoan"] and after["subtotal_vnd"] == 110_000
    assert put(shop_data["nep"], 0).status_code == 200  # removing what is not there is fine
    assert put(shop_data["mien"], 2.0).get_json()["lines"][0]["quantity"] == 2  # JSON 2.0 is the integer 2


@pytest.mark.parametrize("body", [
    {"quantity": "abc"}, {"quantity": "2"}, {"quantity": 1.5}, {"quantity": True}, {"quantity": -1},
    {"quantity": 10**12}, {"quantity": None}, {"quantity": [1]}, {}, {"qty": 1},
])
def test_bad_quantities_are_refused_with_the_field(api, shop_data, body):
    token = new_cart(api)
    response = api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=shop_data["nep"].id,
                        json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input" and error["field"] == "quantity"


def test_cart_errors(api, shop_data):
    token = new_cart(api)
    put = lambda product_id, q, t=token: api.call(  # noqa: E731
        "PUT", "/carts/{token}/items/{product_id}", token=t, product_id=product_id, json={"quantity": q})
    too_many = put(shop_data["nep"].id, 14)
    assert too_many.status_code == 409 and error_of(too_many)["code"] == "out_of_stock"
    assert put(shop_data["revoked"].id, 1).status_code == 400  # exists, but may not be sold
    assert put(999_999, 1).status_code == 404
    assert put(2**40, 1).status_code == 404
    assert put(shop_data["nep"].id, 1, "no-such-cart").status_code == 404
    assert put(shop_data["nep"].id, 1, "bad token!").status_code == 404
    assert api.call("GET", "/carts/{token}", token="x" * 65).status_code == 404
    assert api.call("GET", "/carts/{token}", token="no-such-cart").status_code == 404


def test_cart_lines_report_problems(api, shop_data):
    token = new_cart(api, (shop_data["nep"], 2))
    shop_data["nep"].price = 70_000
    db.session.commit()
    line = api.call("GET", "/carts/{token}", token=token).get_json()["lines"][0]
    assert line["problems"] == ["price_changed"] and line["unit_price_vnd"] == 70_000
    refused = api.call("POST", "/orders", json=order_body(token))
    assert refused.status_code == 400 and error_of(refused)["details"]["problem"] == "price_changed"
    # Changing the quantity does not accept the new price; accepting it does.
    api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=shop_data["nep"].id,
             json={"quantity": 1})
    assert api.call("POST", "/orders", json=order_body(token)).status_code == 400
    accepted = api.call("POST", "/carts/{token}/accept-prices", token=token).get_json()
    assert accepted["lines"][0]["problems"] == [] and accepted["ready_for_checkout"] is True
    assert api.call("POST", "/carts/{token}/accept-prices", token="no-such-cart").status_code == 404
    final = api.call("POST", "/orders", json=order_body(token))
    assert final.status_code == 201, final.get_json()


# ---- JSON only ------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["/carts", "/orders", "/carts/{token}/items/{product_id}"])
@pytest.mark.parametrize("content_type, data, status, code", [
    ("text/plain", '{"quantity": 1}', 415, "unsupported_media_type"),
    ("application/x-www-form-urlencoded", "quantity=1", 415, "unsupported_media_type"),
    ("application/json", "{not json", 400, "invalid_json"),
    ("application/json", "[1, 2]", 400, "invalid_json"),
    ("application/json", '"text"', 400, "invalid_json"),
    ("application/json", '{"quantity": NaN}', 400, "invalid_json"),
    ("application/json", "[" * 50_000, 400, "invalid_json"),
    ("application/json", b"\xff\xfe{", 400, "invalid_json"),
])
def test_bodies_must_be_json_objects(api, shop_data, template, content_type, data, status, code):
    token = new_cart(api)
    method = "PUT" if "items" in template else "POST"
    response = api.call(method, template, data=data, content_type=content_type, token=token,
                        product_id=shop_data["nep"].id)
    assert response.status_code == status and error_of(response)["code"] == code


def test_a_required_body_cannot_be_left_out_and_big_bodies_are_refused(api, shop_data):
    assert api.call("POST", "/orders").status_code == 415
    assert error_of(api.call("POST", "/orders", data="", content_type="application/json"))["code"] == "invalid_json"
    big = api.call("POST", "/orders", data='{"a": "' + "x" * 70_000 + '"}', content_type="application/json")
    assert big.status_code == 413 and error_of(big)["code"] == "payload_too_large"


def test_unknown_routes_and_wrong_methods_answer_json(client):
    missing = client.get(f"{API}/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = client.delete(f"{API}/products")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    assert client.post(f"{API}/products/1", json={}).status_code == 405
    assert client.get(f"{API}/products/abc").status_code == 404


def test_the_api_sets_no_cookies_and_speaks_english_on_request(client, shop_data):
    response = client.get(f"{API}/products/999999?lang=en")
    assert "Set-Cookie" not in response.headers
    assert error_of(response)["message"] == "No such product."
    assert "Set-Cookie" not in client.post(f"{API}/carts").headers


# ---- orders -------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, field", [
    ({"customer": None}, "customer"),
    ({"customer": {"name": "Lan", "phone": "0912345678"}}, "customer.email"),
    ({"customer": {**CUSTOMER, "name": "L"}}, "customer.name"),
    ({"customer": {**CUSTOMER, "phone": "12345"}}, "customer.phone"),
    ({"customer": {**CUSTOMER, "phone": 912345678}}, "customer.phone"),
    ({"customer": {**CUSTOMER, "email": "lan.example.vn"}}, "customer.email"),
    ({"customer": {**CUSTOMER, "name": "Lan\x00"}}, "customer.name"),
    ({"customer": {**CUSTOMER, "name": "Lan\ud800"}}, "customer.name"),
    ({"fulfilment": {"type": "drone"}}, "fulfilment.type"),
    ({"fulfilment": {"type": "delivery"}}, "fulfilment.address"),
    ({"fulfilment": {"type": "delivery", "address": {**ADDRESS, "ward": ""}}}, "fulfilment.address.ward"),
    ({"fulfilment": {"type": "pickup"}, "payment_method": "pay_at_shop"}, "fulfilment.shop_id"),
    ({"fulfilment": {"type": "pickup", "shop_id": "1"}, "payment_method": "pay_at_shop"}, "fulfilment.shop_id"),
    ({"fulfilment": {"type": "pickup", "shop_id": 10**15}, "payment_method": "pay_at_shop"}, "fulfilment.shop_id"),
    ({"fulfilment": {"type": "pickup", "shop_id": 999_999}, "payment_method": "pay_at_shop"}, "fulfilment.shop_id"),
    ({"payment_method": "pay_at_shop"}, "payment_method"),  # not for delivery
    ({"payment_method": "bitcoin"}, "payment_method"),
    ({"payment_method": "card"}, "payment_method"),  # no card payments configured here
    ({"payment_method": None}, "payment_method"),
    ({"cart_token": 5}, "cart_token"),
])
def test_order_details_are_checked_and_the_field_named(api, shop_data, change, field):
    token = new_cart(api, (shop_data["nep"], 1))
    response = api.call("POST", "/orders", json=order_body(token, **change))
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["field"] == field
    assert Order.query.count() == 0 and api.call("GET", "/carts/{token}", token=token).status_code == 200


def test_ordering_from_an_unknown_or_empty_cart(api, shop_data):
    unknown = api.call("POST", "/orders", json=order_body("no-such-cart"))
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    empty = api.call("POST", "/orders", json=order_body(new_cart(api)))
    assert empty.status_code == 400 and error_of(empty)["code"] == "invalid_input"


def test_an_order_for_more_than_is_left_is_409(api, shop_data):
    token = new_cart(api, (shop_data["mien"], 4))
    other = carts.get_or_create_cart(None)
    carts.set_quantity(other, shop_data["mien"].id, 3)
    db.session.commit()
    from shop.orders import services as orders

    orders.place_order(other.token, orders.Customer(**CUSTOMER), orders.Fulfilment(type="delivery", **ADDRESS), "cod")
    db.session.commit()
    response = api.call("POST", "/orders", json=order_body(token))
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "out_of_stock" and error["details"]["product_id"] == shop_data["mien"].id
    assert api.call("GET", "/carts/{token}", token=token).get_json()["lines"][0]["problems"] == ["insufficient"]


def test_pickup_with_bank_transfer_gives_vietqr_details(api, shop_data, app):
    token = new_cart(api, (shop_data["nep"], 3))
    response = api.call("POST", "/orders", json=order_body(
        token, fulfilment={"type": "pickup", "shop_id": shop_data["kiosk"].id}, payment_method="bank_transfer"))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    payment = order["payment"]
    assert order["status"] == "pending_payment" and order["shipping_fee_vnd"] == 0 and order["total_vnd"] == 195_000
    assert payment["method"] == "bank_transfer" and payment["amount_vnd"] == 195_000
    assert payment["reference"] == order["number"] and payment["bank_bin"] == app.config["BANK_BIN"]
    assert payment["vietqr_payload"].startswith("000201") and "5406195000" in payment["vietqr_payload"]
    assert payment["expires_at"] is not None

    body = api.call("GET", "/orders/{number}", number=order["number"], query={"token": order["token"]}).get_json()
    assert body["fulfilment"] == {"type": "pickup", "shop_id": shop_data["kiosk"].id, "shop_name": "Cửa hàng OCOP Ba Bể"}
    assert body["payment"]["vietqr_payload"] == payment["vietqr_payload"]


def test_pickup_at_a_shop_without_the_goods_is_409(api, shop_data):
    token = new_cart(api, (shop_data["mien"], 1))
    response = api.call("POST", "/orders", json=order_body(
        token, fulfilment={"type": "pickup", "shop_id": shop_data["kiosk"].id}, payment_method="pay_at_shop"))
    assert response.status_code == 409


def test_card_orders_get_a_checkout_url_from_the_payments_module(api, shop_data, app, monkeypatch):
    from shop.api import views

    calls = []

    def start(order, success_url, cancel_url):
        calls.append((order.number, success_url, cancel_url))
        return "https://checkout.stripe.test/c/pay_123"

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_dummy")
    monkeypatch.setattr(views, "card_payments", lambda: start)
    token = new_cart(api, (shop_data["nep"], 1))
    response = api.call("POST", "/orders", json=order_body(token, payment_method="card"))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "pending_payment"
    assert order["payment"]["checkout_url"] == "https://checkout.stripe.test/c/pay_123"
    assert calls and calls[0][0] == order["number"] and order["token"] in calls[0][1]


def test_a_card_provider_failure_still_answers_201_with_the_order(api, shop_data, app, monkeypatch):
    from shop.api import views

    def start(order, success_url, cancel_url):
        raise RuntimeError("Stripe is down")

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_dummy")
    monkeypatch.setattr(views, "card_payments", lambda: start)
    token = new_cart(api, (shop_data["nep"], 1))
    response = api.call("POST", "/orders", json=order_body(token, payment_method="card"))
    assert response.status_code == 201 and response.get_json()["payment"]["checkout_url"] is None


def test_orders_are_read_only_with_their_token(api, shop_data):
    token = new_cart(api, (shop_data["nep"], 1))
    order = api.call("POST", "/orders", json=order_body(token)).get_json()
    get = lambda number, query: api.call("GET", "/orders/{number}", number=number, query=query)  # noqa: E731
    assert get(order["number"], {"token": order["token"]}).status_code == 200
    assert get(order["number"], {"token": "wrong-token"}).status_code == 404
    assert get(order["number"], {"token": "bad token"}).status_code == 404
    assert get(order["number"], {"token": "bad\x00token"}).status_code == 400
    assert get("OC-0000-999999", {"token": order["token"]}).status_code == 404
    assert get("OC\x00", {"token": order["token"]}).status_code == 404
    missing = get(order["number"], {})
    assert missing.status_code == 400 and error_of(missing)["field"] == "token"


# ---- CORS and rate limits -------------------------------------------------------------------------


PARTNER = "https://app.dulichbackan.example"


def test_cors_only_for_configured_partner_origins(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_CORS_ORIGINS", (PARTNER, "https://kiosk.example"))
    allowed = client.get(f"{API}/products", headers={"Origin": PARTNER})
    assert allowed.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "Origin" in allowed.headers["Vary"] and "Access-Control-Allow-Credentials" not in allowed.headers
    assert "X-RateLimit-Remaining" in allowed.headers["Access-Control-Expose-Headers"]

    preflight = client.options(f"{API}/orders", headers={
        "Origin": PARTNER, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()

    errors_too = client.get(f"{API}/nothing", headers={"Origin": PARTNER})
    assert errors_too.status_code == 404 and errors_too.headers["Access-Control-Allow-Origin"] == PARTNER

    for origin in ("https://evil.example", PARTNER + ".evil.example", "null"):
        other = client.get(f"{API}/products", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in other.headers
        other_pre = client.options(f"{API}/orders", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert not any(h.startswith("Access-Control-") for h in other_pre.headers.keys())
    # The pages are not part of the API: no CORS there.
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": PARTNER}).headers


def test_no_cors_when_no_origin_is_configured(client):
    response = client.get(f"{API}/shops", headers={"Origin": PARTNER})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def limited_app(app):
    """A second app with rate limiting on (the test config turns it off), on the same database.

    The limiter is one shared extension object; its switch and counters are put back afterwards.
    """
    from config import TestingConfig
    from shop import create_app

    was_enabled = limiter.enabled
    limited = create_app(TestingConfig, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"],
                         API_RATE_LIMIT="5/minute", ORDER_RATE_LIMIT="2/minute")
    try:
        yield limited
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def test_rate_limits_per_client_and_stricter_for_orders(limited_app):
    client = limited_app.test_client()
    other_client = limited_app.test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    there = {"REMOTE_ADDR": "198.51.100.8"}

    statuses = [client.get(f"{API}/shops", environ_base=here).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = client.get(f"{API}/producers", environ_base=here)  # one budget for the whole API
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert other_client.get(f"{API}/shops", environ_base=there).status_code == 200  # another client

    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    orders = [client.post(f"{API}/orders", json={}, environ_base=elsewhere).status_code for _ in range(3)]
    assert orders == [400, 400, 429]
    # The stricter order limit does not use up the general budget of that client.
    assert client.get(f"{API}/shops", environ_base=elsewhere).status_code == 200
    # The pages are not limited by the API's budget.
    assert client.get("/", environ_base=here).status_code == 200
