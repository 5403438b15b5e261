"""Every form reports all its field errors in one answer, in field order, keeps what was typed, and
points the keyboard at the summary. Each form of the storefront is submitted empty here."""
from __future__ import annotations

import re

import pytest

from shop.errors import FieldErrors, InvalidFields, InvalidInput
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders.models import Order


@pytest.fixture
def in_cart(client, make_product, make_shop):
    product = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong")
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True)
    inventory.receive(shop.id, product.id, 10)
    db.session.commit()
    assert client.post("/cart/add", data={"product_id": product.id, "quantity": 1}).status_code == 302
    client.get("/cart")  # shows (and so clears) the "added" message
    return product


def summary_of(html: str) -> list[tuple[str, str]]:
    """(field id, message) for each entry of the error summary, in page order."""
    box = re.search(r'<div class="error-summary[^"]*"[^>]*data-error-summary.*?</div>', html, re.S)
    assert box, "no error summary on the page"
    assert 'tabindex="-1"' in box.group(0) and 'role="alert"' in box.group(0)
    return re.findall(r'<li><a href="#([\w-]+)">[^<]*</a>: ([^<]*)</li>', box.group(0))


def test_an_empty_checkout_lists_every_error_at_once_in_field_order(client, in_cart):
    response = client.post("/orders/checkout", data={})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # Nothing sent at all: delivery is the default way to receive an order, no payment was chosen.
    assert [field for field, _ in summary_of(html)] == ["name", "phone", "email", "street", "ward", "province",
                                                        "payment_method"]
    assert "Có 7 lỗi trong biểu mẫu" in html
    # Each field carries its own message too, and the summary takes the focus (static/js/forms.js).
    for field in ("name", "phone", "email"):
        assert f'id="{field}-error"' in html
    assert "js/forms.js" in html
    assert Order.query.count() == 0


def test_the_form_as_the_browser_sends_it_empty_lists_six_errors(client, in_cart):
    """Delivery and cash on delivery are preselected: the six text fields are empty."""
    response = client.post("/orders/checkout", data={"fulfilment": "delivery", "payment_method": "cod",
                                                     "name": "", "phone": "", "email": "", "street": "",
                                                     "ward": "", "province": ""}, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert [field for field, _ in summary_of(html)] == ["name", "phone", "email", "street", "ward", "province"]
    assert "There are 6 problems with the form:" in html


def test_what_was_typed_is_kept_and_only_wrong_fields_are_listed(client, in_cart):
    response = client.post("/orders/checkout?lang=en", data={
        "name": "Nguyễn Thị Lan", "phone": "12345", "email": "lan.example.vn", "fulfilment": "pickup",
        "pickup_shop_id": "", "payment_method": "pay_at_shop"})
    html = response.get_data(as_text=True)
    assert [field for field, _ in summary_of(html)] == ["phone", "email", "pickup_shop_id"]
    assert "There are 3 problems with the form:" in html
    assert 'value="Nguyễn Thị Lan"' in html and 'value="12345"' in html and 'value="lan.example.vn"' in html
    assert re.search(r'value="pickup"\s+checked', html) and re.search(r'value="pay_at_shop"\s+checked', html)


@pytest.mark.parametrize("path, errors", [
    ("/cart/add", ["No such product."]),  # the product is a hidden field: nothing the shopper typed
    ("/cart/update", ["Quantity must be a whole number."]),
    ("/cart/remove", ["No such product."]),
    ("/cart/accept-prices", []),  # a button: nothing to fill in
])
def test_the_cart_forms_submitted_empty_say_what_is_wrong(client, in_cart, path, errors):
    response = client.post(path + "?lang=en", data={}, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.findall(r'class="flash flash--error[^>]*>\s*(.*?)\s*</', html, re.S) == errors


def test_field_errors_collect_every_field_and_nested_groups_in_order():
    errors = FieldErrors()
    assert errors.check(int, "7") == 7
    errors.check(lambda: (_ for _ in ()).throw(InvalidInput("Name?", field="name")))

    def address():
        inner = FieldErrors()
        inner.add("street", "Street?")
        inner.add("ward", "Ward?")
        inner.raise_if_any()

    errors.check(address)
    errors.add(None, "The cart changed.")
    with pytest.raises(InvalidFields) as caught:
        errors.raise_if_any()
    assert caught.value.errors == {"name": ["Name?"], "street": ["Street?"], "ward": ["Ward?"],
                                   "": ["The cart changed."]}
    assert caught.value.message == "Name?" and caught.value.details == {"field": "name"}
    FieldErrors().raise_if_any()  # nothing to report: no exception
