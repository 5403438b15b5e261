"""The cart's rules hold when the order is born, and a cart remembers the order it became
(issue 8, items 5 and 10)."""
import pytest
from sqlalchemy import func, select

from shop.cart import services as carts
from shop.cart.models import Cart, CartItem
from shop.errors import InvalidInput, OutOfStock
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.orders.models import Order

API = "/api/v1"
GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"}
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}
CUSTOMER = orders.Customer(**GUEST)
DELIVERY = orders.Fulfilment(type="delivery", **ADDRESS)


@pytest.fixture
def stocked(make_product, make_shop):
    product = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong")
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True)
    inventory.receive(shop.id, product.id, 30)
    db.session.commit()
    return {"product": product, "shop": shop}


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def checkout(client, **fields):
    return client.post("/orders/checkout", data={**GUEST, **ADDRESS, "fulfilment": "delivery",
                                                 "payment_method": "cod", **fields})


def order_body(token: str) -> dict:
    return {"cart_token": token, "customer": dict(GUEST),
            "fulfilment": {"type": "delivery", "address": dict(ADDRESS)}, "payment_method": "cod"}


# ---- item 5: what the cart checks, place_order checks ------------------------------------------


@pytest.fixture
def eleven_then_limit_ten(app, client, stocked, monkeypatch):
    """The issue's example: 11 units put in the cart, then MAX_LINE_QUANTITY lowered to 10."""
    monkeypatch.setitem(app.config, "MAX_LINE_QUANTITY", 50)
    assert client.post("/cart/add", data={"product_id": stocked["product"].id, "quantity": "11"}).status_code == 302
    token = client.post(f"{API}/carts").get_json()["token"]
    client.put(f"{API}/carts/{token}/items/{stocked['product'].id}", json={"quantity": 11})
    monkeypatch.setitem(app.config, "MAX_LINE_QUANTITY", 10)
    return token


def test_the_cart_page_shows_a_line_above_the_limit_and_offers_no_checkout(client, eleven_then_limit_ten):
    page = client.get("/cart").get_data(as_text=True)
    assert 'data-problem="too_many"' in page and "Tối đa 10 mỗi đơn hàng" in page
    assert 'id="checkout-blocked"' in page and 'href="/orders/checkout"' not in page
    assert client.get("/orders/checkout").status_code == 302  # back to the cart


def test_the_page_checkout_refuses_a_line_above_the_limit(client, eleven_then_limit_ten):
    response = checkout(client)
    assert response.status_code == 400 and "Mỗi đơn hàng chỉ được tối đa 10" in response.get_data(as_text=True)
    assert count(Order) == 0 and count(CartItem) == 2  # both carts keep their 11 units


def test_the_api_reports_and_refuses_a_line_above_the_limit(client, eleven_then_limit_ten):
    token = eleven_then_limit_ten
    cart = client.get(f"{API}/carts/{token}").get_json()
    assert cart["ready_for_checkout"] is False and cart["lines"][0]["problems"] == ["too_many"]
    response = client.post(f"{API}/orders", json=order_body(token))
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["problem"] == "too_many"
    assert count(Order) == 0
    # Lowering the quantity makes the cart ready again.
    client.put(f"{API}/carts/{token}/items/{cart['lines'][0]['product_id']}", json={"quantity": 10})
    assert client.get(f"{API}/carts/{token}").get_json()["ready_for_checkout"] is True
    assert client.post(f"{API}/orders", json=order_body(token)).status_code == 201


def _make_problem(kind: str, product, shop, app, monkeypatch) -> None:
    if kind == carts.NOT_FOR_SALE:
        product.listed = False
    elif kind == carts.OUT_OF_STOCK:
        inventory.adjust(shop.id, product.id, -30, note="breakage")
    elif kind == carts.INSUFFICIENT:
        inventory.adjust(shop.id, product.id, -28, note="breakage")
    elif kind == carts.TOO_MANY:
        monkeypatch.setitem(app.config, "MAX_LINE_QUANTITY", 2)
    elif kind == carts.PRICE_CHANGED:
        product.price += 5_000
    db.session.commit()


@pytest.mark.parametrize("kind", carts.PROBLEMS)
def test_every_problem_the_cart_shows_is_refused_by_place_order(app, stocked, monkeypatch, kind):
    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, stocked["product"].id, 3)
    db.session.commit()
    token = cart.token
    _make_problem(kind, stocked["product"], stocked["shop"], app, monkeypatch)

    view = carts.view(carts.find_cart(token))
    assert kind in view.lines[0].problems and not view.ok
    with pytest.raises((InvalidInput, OutOfStock)) as error:
        orders.place_order(token, CUSTOMER, DELIVERY, "cod")
    assert error.value.details["product_id"] == stocked["product"].id
    assert error.value.details["problem"] == kind
    db.session.rollback()
    assert count(Order) == 0


# ---- item 10: the cart remembers its order (idempotent checkout) ------------------------------


def test_a_resubmitted_checkout_shows_the_order_it_already_became(client, stocked, monkeypatch):
    """A worker killed after the commit: the browser never saw the answer, so it still has the
    cart cookie and submits again."""
    sent = []
    monkeypatch.setattr("shop.orders.notifications.send_mail", lambda to, subject, body: sent.append(to))
    client.post("/cart/add", data={"product_id": stocked["product"].id, "quantity": "2"})
    cookie = client.get_cookie("cart").value
    first = checkout(client)
    assert first.status_code == 302 and client.get_cookie("cart") is None
    order = db.session.scalars(select(Order)).one()

    client.set_cookie("cart", cookie)  # as if the answer had been lost
    page = client.get("/cart").get_data(as_text=True)
    assert 'id="placed-order"' in page and order.number in page
    assert f"/orders/{order.number}?token={order.access_token}" in page

    again = checkout(client, name="Someone Else")
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert client.get_cookie("cart") is None
    assert count(Order) == 1 and len(sent) == 1  # no second order, no second email
    assert inventory.availability_matrix([stocked["product"].id])[(stocked["shop"].id, stocked["product"].id)] == 28
    client.set_cookie("cart", cookie)
    assert client.get("/orders/checkout").headers["Location"] == first.headers["Location"]


def test_the_link_to_the_order_ends_when_a_product_starts_a_new_cart(client, stocked):
    client.post("/cart/add", data={"product_id": stocked["product"].id, "quantity": "1"})
    cookie = client.get_cookie("cart").value
    checkout(client)
    client.set_cookie("cart", cookie)
    client.post("/cart/add", data={"product_id": stocked["product"].id, "quantity": "1"})
    assert client.get_cookie("cart").value != cookie
    page = client.get("/cart").get_data(as_text=True)
    assert 'id="placed-order"' not in page and 'data-problem' not in page
    assert count(Cart) == 2 and count(CartItem) == 1
    # The old cart takes no more changes (a stale cart page's form).
    client.set_cookie("cart", cookie)
    client.post("/cart/update", data={"product_id": stocked["product"].id, "quantity": "3"})
    assert count(CartItem) == 1


def test_the_api_answers_a_repeated_order_with_the_same_order(client, stocked):
    token = client.post(f"{API}/carts").get_json()["token"]
    client.put(f"{API}/carts/{token}/items/{stocked['product'].id}", json={"quantity": 2})
    first = client.post(f"{API}/orders", json=order_body(token))
    assert first.status_code == 201
    again = client.post(f"{API}/orders", json=order_body(token))
    assert again.status_code == 200 and again.headers["Location"] == first.headers["Location"]
    assert again.get_json()["number"] == first.get_json()["number"]
    assert again.get_json()["token"] == first.get_json()["token"]
    assert count(Order) == 1

    cart = client.get(f"{API}/carts/{token}").get_json()
    assert cart["lines"] == [] and cart["order"]["number"] == first.get_json()["number"]
    changed = client.put(f"{API}/carts/{token}/items/{stocked['product'].id}", json={"quantity": 1})
    assert changed.status_code == 409 and changed.get_json()["error"]["code"] == "cart_ordered"
    assert count(CartItem) == 0
