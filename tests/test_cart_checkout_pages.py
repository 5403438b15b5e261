"""The cart, checkout and order pages as a guest uses them, through the browser's forms.

Every scenario ends by checking that the stock ledger still explains every stock level.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.cart.models import Cart, CartItem
from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation, StockLevel, StockMovement
from shop.orders.models import Order
from shop.timeutil import today_vn

GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"}
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def outbox(monkeypatch):
    """Emails sent by the order notifications, instead of the log."""
    sent = []
    monkeypatch.setattr("shop.orders.notifications.send_mail",
                        lambda to, subject, body: sent.append({"to": to, "subject": subject, "body": body}))
    return sent


@pytest.fixture
def stocked(make_product, make_shop):
    """Two products; a central shop that ships online with both, a pick-up kiosk with only miến."""
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong", unit="túi 500 g")
    tra = make_product("Trà hoa vàng Pác Nặm", stars=4, price=150_000, slug="tra-hoa-vang", name_en="Golden camellia tea")
    central = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True,
                        address="Số 1 Trường Chinh, Đức Xuân", opening_hours="7:30 – 17:30")
    kiosk = make_shop("Ki-ốt OCOP Ba Bể", ships_online=False, offers_pickup=True, address="Hồ Ba Bể")
    inventory.receive(central.id, mien.id, 10)
    inventory.receive(central.id, tra.id, 4)
    inventory.receive(kiosk.id, mien.id, 20)
    db.session.commit()
    return {"mien": mien, "tra": tra, "central": central, "kiosk": kiosk}


# ---- helpers --------------------------------------------------------------------------------


def html_of(response) -> str:
    return response.get_data(as_text=True)


def add(client, product, quantity=1, **extra):
    return client.post("/cart/add", data={"product_id": product.id, "quantity": quantity, **extra})


def checkout(client, **fields):
    data = {**GUEST, **ADDRESS, "fulfilment": "delivery", "payment_method": "cod", **fields}
    return client.post("/orders/checkout", data=data)


def fresh():
    """Forget what this test's session has read: the requests wrote through their own sessions."""
    db.session.rollback()


def count(model) -> int:
    fresh()
    return db.session.scalar(select(func.count()).select_from(model))


def available(shop, product) -> int:
    fresh()
    return inventory.availability_matrix([product.id], [shop.id]).get((shop.id, product.id), 0)


def on_hand(shop, product) -> int:
    fresh()
    return db.session.scalar(select(StockLevel.on_hand).where(
        StockLevel.shop_id == shop.id, StockLevel.product_id == product.id))


def only_order() -> Order:
    fresh()
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 1
    return orders[0]


def order_link(order) -> str:
    return f"/orders/{order.number}?token={order.access_token}"


# ---- the cart -------------------------------------------------------------------------------


def test_guest_adds_a_product_from_its_page_and_sees_it_in_the_cart(client, stocked):
    page = html_of(client.get("/products/mien-dong"))
    assert 'action="/cart/add"' in page and 'name="quantity"' in page

    response = add(client, stocked["mien"], 2, next="/products/mien-dong")
    assert response.status_code == 302 and response.headers["Location"].endswith("/products/mien-dong")
    cookie = client.get_cookie("cart")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert "." in cookie.value  # signed, not the raw token

    # Back on the product page: the confirmation and the header count.
    page = html_of(client.get("/products/mien-dong"))
    assert "Miến dong Tài Hoan" in page and "flash--success" in page
    assert 'class="cart-link__count" aria-hidden="true">2<' in page

    cart = html_of(client.get("/cart"))
    assert "Miến dong Tài Hoan" in cart and 'href="/products/mien-dong"' in cart
    assert "110.000\u00a0₫" in cart and "220.000\u00a0₫" in cart  # unit price and line total
    assert 'href="/orders/checkout"' in cart

    # Adding again adds up.
    add(client, stocked["mien"], 1)
    fresh()
    assert db.session.scalars(select(CartItem.quantity)).all() == [3]


def test_a_product_that_cannot_be_sold_has_no_add_to_cart_form(client, make_product, make_shop):
    revoked = make_product("Trà nếp hỏng", slug="tra-hong", cert_status="revoked")
    make_product("Mật ong hết hàng", slug="mat-ong")
    make_shop()
    db.session.commit()
    assert 'action="/cart/add"' not in html_of(client.get("/products/tra-hong"))
    assert 'action="/cart/add"' not in html_of(client.get("/products/mat-ong"))
    # And the form cannot be forged either.
    response = add(client, revoked, 1)
    assert response.status_code == 302
    assert "Trà nếp hỏng hiện không được bán." in html_of(client.get("/cart"))
    assert count(CartItem) == 0


def test_customer_changes_quantities_and_removes_lines(client, stocked):
    add(client, stocked["mien"], 1)
    add(client, stocked["tra"], 1)

    response = client.post("/cart/update", data={"product_id": stocked["mien"].id, "quantity": "3"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    cart = html_of(client.get("/cart"))
    assert "330.000\u00a0₫" in cart and "480.000\u00a0₫" in cart  # 3 × 110.000 and the subtotal

    # More than all shops together have (4 teas) is refused with the number left; nothing changes.
    client.post("/cart/update", data={"product_id": stocked["tra"].id, "quantity": "9"})
    assert "Chỉ còn 4 Trà hoa vàng Pác Nặm." in html_of(client.get("/cart"))
    fresh()
    assert dict(db.session.execute(select(CartItem.product_id, CartItem.quantity)).all()) == {
        stocked["mien"].id: 3, stocked["tra"].id: 1}

    # Quantity 0 removes the line; so does the remove button.
    client.post("/cart/update", data={"product_id": stocked["mien"].id, "quantity": "0"})
    client.post("/cart/remove", data={"product_id": stocked["tra"].id})
    assert count(CartItem) == 0
    cart = html_of(client.get("/cart"))
    assert "Giỏ hàng của bạn đang trống." in cart and 'href="/orders/checkout"' not in cart


@pytest.mark.parametrize("product_id, quantity", [
    ("abc", "1"), ("", "1"), ("999999", "1"), ("99999999999999999999", "1"),
    (None, "0"), (None, "-1"), (None, "abc"), (None, "1e9"), (None, str(10**9)), (None, ""), (None, "2.5"),
])
def test_bad_add_to_cart_input_gives_a_message_and_writes_nothing(client, stocked, product_id, quantity):
    data = {"product_id": stocked["mien"].id if product_id is None else product_id, "quantity": quantity}
    response = client.post("/cart/add", data=data)
    assert response.status_code == 302
    assert client.get_cookie("cart") is None
    page = client.get("/cart")
    assert page.status_code == 200 and "flash--error" in html_of(page)
    assert count(Cart) == 0 and count(CartItem) == 0


@pytest.mark.parametrize("quantity", ["-1", "abc", str(10**9), "1e9"])
def test_bad_quantity_on_the_cart_page_keeps_the_line_as_it_was(client, stocked, quantity):
    add(client, stocked["mien"], 2)
    response = client.post("/cart/update", data={"product_id": stocked["mien"].id, "quantity": quantity})
    assert response.status_code == 302
    assert "flash--error" in html_of(client.get("/cart"))
    fresh()
    assert db.session.scalars(select(CartItem.quantity)).all() == [2]


def test_the_add_form_only_returns_to_pages_of_this_site(client, stocked):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = add(client, stocked["mien"], 1, next=target)
        assert response.headers["Location"].endswith("/cart"), target


def test_a_tampered_cart_cookie_is_an_empty_cart_not_an_error(client, stocked):
    add(client, stocked["mien"], 1)
    fresh()
    token = db.session.scalar(select(Cart.token))
    client.set_cookie("cart", token)  # the raw token without a signature
    assert "Giỏ hàng của bạn đang trống." in html_of(client.get("/cart"))
    client.set_cookie("cart", "x" * 3000)
    assert client.get("/cart").status_code == 200


def test_vietnamese_by_default_and_english_on_request(client, stocked):
    client.post("/cart/add", data={"product_id": stocked["tra"].id, "quantity": "abc"})
    page = html_of(client.get("/cart"))
    assert '<html lang="vi">' in page and "Số lượng phải là số nguyên." in page

    add(client, stocked["tra"], 1)
    page = html_of(client.get("/cart?lang=en"))
    assert '<html lang="en">' in page and "Your cart" in page and "Golden camellia tea" in page
    page = html_of(client.get("/orders/checkout"))  # the choice sticks
    assert '<html lang="en">' in page and "Cash on delivery" in page and "Bank transfer (VietQR)" in page


# ---- checkout -------------------------------------------------------------------------------


def test_cod_delivery_order_is_placed_with_server_totals_and_stock_held(client, stocked, outbox):
    add(client, stocked["mien"], 2)
    form = client.get("/orders/checkout")
    assert form.status_code == 200
    page = html_of(form)
    assert "220.000\u00a0₫" in page and "30.000\u00a0₫" in page and "250.000\u00a0₫" in page
    assert 'name="street"' in page and 'name="pickup_shop_id"' in page  # both, for browsers without JS

    response = checkout(client)
    assert response.status_code == 302
    order = only_order()
    assert response.headers["Location"].endswith(order_link(order))
    assert order.status == "placed" and order.payment_method == "cod" and order.fulfilment == "delivery"
    assert (order.subtotal, order.shipping_fee, order.total) == (220_000, 30_000, 250_000)
    assert order.phone == "+84912345678" and order.address == "12 Trường Chinh, Phường Đức Xuân, Thái Nguyên"
    assert [(l.product_name, l.unit_price, l.stars, l.quantity, l.line_total) for l in order.lines] == [
        ("Miến dong Tài Hoan", 110_000, 5, 2, 220_000)]
    assert [(e.from_status, e.to_status) for e in order.events] == [(None, "placed")]
    # Held at the shop that ships online; nothing has left the shelf yet.
    assert available(stocked["central"], stocked["mien"]) == 8
    assert on_hand(stocked["central"], stocked["mien"]) == 10
    assert available(stocked["kiosk"], stocked["mien"]) == 20
    # The cart has no lines left (it remembers its order), and its cookie is gone.
    assert count(CartItem) == 0 and client.get_cookie("cart") is None
    assert db.session.scalars(select(Cart)).one().order_id == order.id

    # One confirmation, with the private link, after the commit.
    assert len(outbox) == 1 and outbox[0]["to"] == "lan@example.vn"
    assert order.number in outbox[0]["subject"]
    assert f"{order.number}?token={order.access_token}" in outbox[0]["body"]
    assert "250.000\u00a0₫" in outbox[0]["body"]

    page = html_of(client.get(response.headers["Location"]))
    assert "flash--success" in page and order.number in page
    assert "Cửa hàng OCOP trung tâm" in page  # the source shop of the line
    assert "★★★★★" in page and "250.000\u00a0₫" in page
    assert "Giỏ hàng của bạn đang trống." in html_of(client.get("/cart"))


def test_delivery_is_free_from_the_threshold(client, stocked, outbox):
    add(client, stocked["mien"], 5)  # 550.000 ≥ 500.000
    assert checkout(client).status_code == 302
    order = only_order()
    assert (order.subtotal, order.shipping_fee, order.total) == (550_000, 0, 550_000)


def test_prices_sent_by_the_browser_are_ignored(client, stocked, outbox):
    add(client, stocked["tra"], 1)
    response = checkout(client, price="1", unit_price="1", subtotal="1", shipping_fee="0", total="1",
                        **{"lines-0-unit_price": "1"})
    assert response.status_code == 302
    order = only_order()
    assert (order.subtotal, order.shipping_fee, order.total) == (150_000, 30_000, 180_000)
    assert order.lines[0].unit_price == 150_000


def test_pickup_offers_only_shops_that_have_every_line(client, stocked, outbox):
    add(client, stocked["mien"], 1)
    add(client, stocked["tra"], 1)
    page = html_of(client.get("/orders/checkout"))
    options = re.findall(r'<option[^>]*value="(\d+)"', page)
    assert options == [str(stocked["central"].id)]  # the kiosk has no tea

    # Forcing the kiosk anyway is refused and holds nothing.
    response = checkout(client, fulfilment="pickup", pickup_shop_id=stocked["kiosk"].id, payment_method="pay_at_shop")
    assert response.status_code == 409 and "Trà hoa vàng Pác Nặm" in html_of(response)
    assert count(Order) == 0 and count(Reservation) == 0

    response = checkout(client, fulfilment="pickup", pickup_shop_id=stocked["central"].id,
                        payment_method="pay_at_shop", street="", ward="", province="")
    assert response.status_code == 302
    order = only_order()
    assert order.fulfilment == "pickup" and order.pickup_shop_id == stocked["central"].id
    assert (order.shipping_fee, order.total) == (0, 260_000) and order.status == "placed"
    assert {r.shop_id for r in db.session.scalars(select(Reservation))} == {stocked["central"].id}
    page = html_of(client.get(order_link(order)))
    assert "Số 1 Trường Chinh, Đức Xuân" in page and "7:30 – 17:30" in page


def test_pay_at_shop_is_refused_for_delivery(client, stocked):
    add(client, stocked["mien"], 1)
    response = checkout(client, payment_method="pay_at_shop")
    assert response.status_code == 400
    page = html_of(response)
    assert "Phương thức thanh toán này không áp dụng cho đơn hàng này." in page
    assert 'value="Nguyễn Thị Lan"' in page  # what the customer typed is kept
    assert count(Order) == 0 and count(Reservation) == 0 and count(CartItem) == 1


def test_wrong_details_are_shown_next_to_their_field(client, stocked):
    add(client, stocked["mien"], 1)
    response = checkout(client, phone="12345")
    assert response.status_code == 400
    page = html_of(response)
    assert 'id="phone-error"' in page and "Nhập số điện thoại" in page
    assert 'aria-invalid="true"' in page
    response = checkout(client, province="")
    assert response.status_code == 400 and 'id="province-error"' in html_of(response)
    assert count(Order) == 0


def test_card_is_offered_only_when_card_payments_are_configured(client, stocked, app, monkeypatch):
    add(client, stocked["mien"], 1)
    assert 'value="card"' not in html_of(client.get("/orders/checkout"))
    assert checkout(client, payment_method="card").status_code == 400
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_x")
    assert 'value="card"' in html_of(client.get("/orders/checkout"))


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, stocked):
    response = client.get("/orders/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    assert checkout(client).status_code == 302
    assert count(Order) == 0


def test_bank_transfer_page_shows_the_vietqr_code_and_the_amount(client, stocked, outbox, app, monkeypatch):
    from shop import vietqr

    encoded = []
    real_qr = vietqr.qr_svg
    monkeypatch.setattr("shop.payments.transfer.vietqr.qr_svg", lambda data: encoded.append(data) or real_qr(data))
    add(client, stocked["tra"], 2)
    response = checkout(client, payment_method="bank_transfer")
    assert response.status_code == 302
    order = only_order()
    assert order.status == "pending_payment" and order.total == 330_000 and order.hold_expires_at is not None

    page = html_of(client.get(order_link(order)))
    assert "<svg" in page and "330.000\u00a0₫" in page
    assert app.config["BANK_ACCOUNT"] in page and app.config["BANK_ACCOUNT_NAME"] in page
    assert order.number in page
    assert encoded == [vietqr.payload(app.config["BANK_BIN"], app.config["BANK_ACCOUNT"], 330_000, order.number)]
    assert "5406330000" in encoded[0]  # EMV field 54: the amount
    from shop.template_helpers import format_date
    assert format_date(order.hold_expires_at) in page
    assert "Bank transfer" in outbox[0]["body"] or "VietQR" in outbox[0]["body"]
    assert app.config["BANK_ACCOUNT"] in outbox[0]["body"]

    # A COD order has no payment box.
    add(client, stocked["mien"], 1)
    checkout(client)
    fresh()
    cod = db.session.scalars(select(Order).where(Order.payment_method == "cod")).one()
    assert "<svg" not in html_of(client.get(order_link(cod)))


def test_customer_cancels_and_the_stock_goes_back_on_sale(client, stocked, outbox):
    add(client, stocked["mien"], 3)
    checkout(client, payment_method="bank_transfer")
    order = only_order()
    assert available(stocked["central"], stocked["mien"]) == 7
    assert 'action="/orders/%s/cancel"' % order.number in html_of(client.get(order_link(order)))

    response = client.post(f"/orders/{order.number}/cancel", data={"token": order.access_token})
    assert response.status_code == 302 and response.headers["Location"].endswith(order_link(order))
    order = only_order()
    assert order.status == "cancelled"
    assert [(e.from_status, e.to_status) for e in order.events if e.shipment_id is None] == [(None, "pending_payment"),
                                                                     ("pending_payment", "cancelled")]
    assert available(stocked["central"], stocked["mien"]) == 10
    assert on_hand(stocked["central"], stocked["mien"]) == 10
    assert count(StockMovement) == 3  # only the receipts: a hold never touched the ledger
    page = html_of(client.get(order_link(order)))
    assert "flash--success" in page and "/cancel" not in page

    # Cancelling twice is refused politely.
    response = client.post(f"/orders/{order.number}/cancel", data={"token": order.access_token})
    assert response.status_code == 302
    assert "flash--error" in html_of(client.get(order_link(order)))


def test_an_order_is_private_to_its_link(client, stocked, outbox):
    add(client, stocked["mien"], 1)
    checkout(client)
    order = only_order()
    assert client.get(order_link(order)).status_code == 200
    for url in (f"/orders/{order.number}?token=wrong", f"/orders/{order.number}",
                f"/orders/OC-1999-000001?token={order.access_token}", f"/orders/{order.number}?token=" + "x" * 500):
        response = client.get(url)
        assert response.status_code == 404, url
        assert order.customer_name not in html_of(response)
    response = client.post(f"/orders/{order.number}/cancel", data={"token": "wrong"})
    assert response.status_code == 404
    assert only_order().status == "placed"
    assert client.get(order_link(order)).headers["Cache-Control"] == "private, no-store"


# ---- carts that went stale ------------------------------------------------------------------


def test_a_revoked_certificate_blocks_checkout_with_a_clear_message(client, stocked):
    add(client, stocked["tra"], 1)
    add(client, stocked["mien"], 1)
    cert = db.session.get(Product, stocked["tra"].id).certificates[0]
    cert.status, cert.revoked_on = "revoked", today_vn() - timedelta(days=1)
    db.session.commit()

    page = html_of(client.get("/cart?lang=en"))
    assert 'data-problem="not_for_sale"' in page
    assert "No longer on sale: the OCOP certificate expired or was revoked" in page
    assert 'href="/orders/checkout"' not in page and "disabled" in page
    response = client.get("/orders/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")

    response = checkout(client)
    assert response.status_code == 400
    # In English, the English name (the cart showed it too).
    assert "Golden camellia tea is not on sale at the moment. Please remove it" in html_of(response)
    assert count(Order) == 0 and count(Reservation) == 0

    client.post("/cart/remove", data={"product_id": stocked["tra"].id})
    assert 'href="/orders/checkout"' in html_of(client.get("/cart"))


def test_a_price_change_must_be_accepted_before_checkout(client, stocked, outbox):
    add(client, stocked["mien"], 2)
    db.session.get(Product, stocked["mien"].id).price = 120_000
    db.session.commit()

    page = html_of(client.get("/cart?lang=en"))
    assert "The price changed from 110.000\u00a0₫ to 120.000\u00a0₫." in page
    assert 'action="/cart/accept-prices"' in page
    assert 'href="/orders/checkout"' not in page
    assert checkout(client).status_code == 400 and count(Order) == 0

    client.post("/cart/accept-prices")
    page = html_of(client.get("/cart"))
    assert 'action="/cart/accept-prices"' not in page and "240.000\u00a0₫" in page
    assert checkout(client).status_code == 302
    assert only_order().subtotal == 240_000


def test_stock_sold_elsewhere_meanwhile_is_reported(client, stocked, app):
    add(client, stocked["tra"], 3)
    # Someone else buys three of the four teas.
    other = app.test_client()
    add(other, stocked["tra"], 3)
    assert checkout(other).status_code == 302

    page = html_of(client.get("/cart?lang=en"))
    assert 'data-problem="insufficient"' in page and "Only 1 left." in page
    response = checkout(client)
    assert response.status_code == 409
    assert count(Order) == 1 and count(Reservation) == 1


def test_a_card_order_goes_on_to_the_card_payment_page(client, stocked, outbox, app, monkeypatch):
    from flask import redirect

    started = []
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.setattr("shop.payments.views.card_checkout_redirect",
                        lambda order: started.append(order.number) or redirect("https://pay.example/session", 303))
    add(client, stocked["mien"], 1)
    response = checkout(client, payment_method="card")
    assert response.status_code == 303 and response.headers["Location"] == "https://pay.example/session"
    order = only_order()
    assert started == [order.number]
    assert order.status == "pending_payment" and order.hold_expires_at is not None
    assert available(stocked["central"], stocked["mien"]) == 9
    assert client.get_cookie("cart") is None and len(outbox) == 1
    page = html_of(client.get(order_link(order)))
    assert f'action="/payments/card/{order.number}/start"' in page
