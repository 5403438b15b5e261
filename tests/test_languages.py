"""Everything a tourist reads follows the page language; emails follow the order's language.

The first visit follows the browser's Accept-Language; ``?lang=`` and the ``lang`` cookie win.
Order lines keep both names and units, so that the order page, the email, the API and Stripe show
the English ones to an English customer even after the product changed or vanished.
"""
import re

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from config import TestingConfig
from shop import create_app
from shop.catalog.models import Product, ProductGroup
from shop.extensions import db
from shop.i18n import current_lang
from shop.inventory import services as inventory
from shop.orders.models import Order, OrderLine
from shop.orders.notifications import confirmation_text
from shop.producers.models import Producer

GUEST = {"name": "Emma Brown", "phone": "0912 345 678", "email": "emma@example.com"}
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def outbox(monkeypatch):
    sent = []
    monkeypatch.setattr("shop.orders.notifications.send_mail",
                        lambda to, subject, body: sent.append({"to": to, "subject": subject, "body": body}))
    return sent


@pytest.fixture
def stocked(make_product, make_shop, make_producer):
    coop = make_producer("Hợp tác xã Tài Hoan", kind="cooperative")
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong", producer=coop,
                        unit="túi 1 kg", name_en="Tài Hoan arrowroot glass noodles", unit_en="1 kg bag")
    plain = make_product("Bánh gio Pắc San", stars=4, price=50_000, slug="banh-gio", producer=coop,
                         unit="túi 10 chiếc")  # no English name or unit: the Vietnamese ones are shown
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True,
                     opening_hours="Thứ Hai – Chủ nhật: 7:30 – 17:30",
                     opening_hours_en="Monday – Sunday: 7:30 am – 5:30 pm")
    inventory.receive(shop.id, mien.id, 10)
    inventory.receive(shop.id, plain.id, 10)
    db.session.commit()
    return {"mien": mien, "plain": plain, "shop": shop, "coop": coop}


def html_of(response) -> str:
    return response.get_data(as_text=True)


def page_lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', html_of(response)).group(1)


def only_order() -> Order:
    db.session.rollback()
    return db.session.scalars(select(Order)).one()


def place_pickup_order(client, stocked, lang_query="", check_cart=False):
    client.post(f"/cart/add{lang_query}", data={"product_id": stocked["mien"].id, "quantity": 2})
    client.post(f"/cart/add{lang_query}", data={"product_id": stocked["plain"].id, "quantity": 1})
    if check_cart:  # the cart shows the English name and unit: so must everything after it
        cart = html_of(client.get("/cart"))
        assert "Tài Hoan arrowroot glass noodles" in cart and "1 kg bag" in cart
    response = client.post(f"/orders/checkout{lang_query}", data={
        **GUEST, "fulfilment": "pickup", "pickup_shop_id": stocked["shop"].id, "payment_method": "pay_at_shop"})
    assert response.status_code == 302, html_of(response)[:2000]
    return only_order()


# ---- choosing the language -------------------------------------------------------------------


@pytest.mark.parametrize("header, expected", [
    ("en-GB,en;q=0.9", "en"),
    ("en-US", "en"),
    ("fr-FR, fr;q=0.9, en;q=0.5", "en"),          # the first language the shop has
    ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
    ("en;q=0.4, vi;q=0.8", "vi"),                  # q-values, not order, decide
    ("fr, de", "vi"),                              # nothing offered: the default
    ("*", "vi"),
    (";;;q=abc,,", "vi"),                          # nonsense is ignored, never a 500
    ("", "vi"),
])
def test_the_first_visit_follows_the_browsers_accept_language(client, header, expected):
    response = client.get("/", headers={"Accept-Language": header})
    assert response.status_code == 200 and page_lang(response) == expected
    assert "Accept-Language" in response.headers.get("Vary", "")  # caches keep the languages apart
    assert "Set-Cookie" not in response.headers  # a guess is not a choice: nothing is remembered


def test_static_files_do_not_vary_by_language(client):
    static = client.get("/static/css/site.css", headers={"Accept-Language": "en"})
    assert static.status_code == 200 and "Accept-Language" not in static.headers.get("Vary", "")


def test_lang_parameter_and_cookie_win_over_the_browser(client):
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}
    chosen = client.get("/?lang=vi", headers=english_browser)
    assert page_lang(chosen) == "vi" and client.get_cookie("lang").value == "vi"
    # The cookie now wins over the header on every page, and the answer no longer varies by it.
    again = client.get("/products", headers=english_browser)
    assert page_lang(again) == "vi" and "Accept-Language" not in again.headers.get("Vary", "")
    assert page_lang(client.get("/?lang=en", headers={"Accept-Language": "vi"})) == "en"
    assert page_lang(client.get("/shops", headers={"Accept-Language": "vi"})) == "en"


def test_the_api_answers_in_the_browsers_language_without_setting_a_cookie(client):
    response = client.get("/api/v1/products/999999", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "No such product."
    assert "Set-Cookie" not in response.headers


# ---- the order: page, email, snapshot ------------------------------------------------------------


def test_an_english_order_shows_english_names_units_and_opening_hours(client, stocked, outbox):
    client.get("/?lang=en")
    order = place_pickup_order(client, stocked, check_cart=True)
    assert order.lang == "en"
    assert [(l.product_name, l.product_name_en, l.unit, l.unit_en) for l in order.lines] == [
        ("Miến dong Tài Hoan", "Tài Hoan arrowroot glass noodles", "túi 1 kg", "1 kg bag"),
        ("Bánh gio Pắc San", "", "túi 10 chiếc", "")]

    page = html_of(client.get(f"/orders/{order.number}?token={order.access_token}"))
    assert "Tài Hoan arrowroot glass noodles" in page and "/ 1 kg bag" in page
    assert "Miến dong Tài Hoan" not in page and "túi 1 kg" not in page
    assert "Bánh gio Pắc San" in page and "túi 10 chiếc" in page  # untranslated: the Vietnamese name
    assert "Monday – Sunday: 7:30 am – 5:30 pm" in page and "Thứ Hai" not in page
    assert "Pay at the shop" in page and "Placed" in page

    (mail,) = outbox
    assert mail["subject"].startswith("Your order")
    assert "- Tài Hoan arrowroot glass noodles (1 kg bag): 2 × 110.000\u00a0₫" in mail["body"]
    assert "- Bánh gio Pắc San (túi 10 chiếc): 1 × 50.000\u00a0₫" in mail["body"]
    assert "Opening hours: Monday – Sunday: 7:30 am – 5:30 pm" in mail["body"]
    assert "Miến dong" not in mail["body"] and "Thứ Hai" not in mail["body"]
    assert f"token={order.access_token}&lang=en" in mail["body"]  # the link opens the English page


def test_a_vietnamese_order_gets_a_vietnamese_email_and_page(client, stocked, outbox):
    order = place_pickup_order(client, stocked)
    assert order.lang == "vi"
    (mail,) = outbox
    assert "Miến dong Tài Hoan (túi 1 kg)" in mail["body"] and "Giờ mở cửa: Thứ Hai" in mail["body"]
    assert "arrowroot" not in mail["body"] and "&lang=" not in mail["body"]
    page = html_of(client.get(f"/orders/{order.number}?token={order.access_token}"))
    assert "Miến dong Tài Hoan" in page and "arrowroot" not in page


def test_the_email_is_in_the_orders_language_whoever_sends_it(app, client, stocked, outbox):
    order = place_pickup_order(client, stocked, "?lang=en")
    # Staff (Vietnamese pages) or a job (no request at all) sending the email again: still English.
    with app.app_context(), app.test_request_context("/?lang=vi"):  # a fresh g, as in a real request
        assert current_lang() == "vi"
        subject, body = confirmation_text(order)
        assert subject.startswith("Your order") and "Tài Hoan arrowroot glass noodles" in body
        assert current_lang() == "vi"  # the page's language is back afterwards
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "vi"}):
        subject, body = confirmation_text(order)
        assert "Status: Placed" in body and "Payment: Pay at the shop" in body
        order.lang = "xx"  # unknown: the default language, not an error
        assert "Miến dong Tài Hoan" in confirmation_text(order)[1]
    db.session.rollback()


def test_order_lines_keep_their_names_when_the_product_changes_or_vanishes(client, stocked, outbox):
    order = place_pickup_order(client, stocked, "?lang=en")
    product = db.session.get(Product, stocked["mien"].id)
    product.name_en, product.unit_en = "Renamed noodles", "bag"
    db.session.commit()
    page = html_of(client.get(f"/orders/{order.number}?token={order.access_token}"))
    assert "Tài Hoan arrowroot glass noodles" in page and "Renamed noodles" not in page


def test_messages_about_a_product_name_it_in_the_page_language(client, stocked):
    response = client.post("/cart/add?lang=en", data={"product_id": stocked["mien"].id, "quantity": 11})
    assert response.status_code in (302, 400, 409)
    page = html_of(client.get("/cart")) if response.status_code == 302 else html_of(response)
    assert "Tài Hoan arrowroot glass noodles" in page and "Miến dong Tài Hoan" not in page


def test_card_checkout_shows_stripe_the_english_names_of_an_english_order(client, stocked, outbox):
    from shop.payments.models import Payment
    from shop.payments.services import session_params

    order = place_pickup_order(client, stocked, "?lang=en")
    payment = Payment(order=order, provider="stripe", attempt=1, idempotency_key="k", amount=order.total,
                      currency="VND", status="open", expires_at=order.created_at)
    params = session_params(order, payment, "https://x/ok", "https://x/cancel")
    assert [i["price_data"]["product_data"]["name"] for i in params["line_items"]] == [
        "Tài Hoan arrowroot glass noodles (1 kg bag)", "Bánh gio Pắc San (túi 10 chiếc)"]
    assert params["locale"] == "en"
    db.session.rollback()


# ---- the API ----------------------------------------------------------------------------------


def test_api_orders_keep_both_names_and_their_language(client, stocked):
    from test_api import Api  # validates every answer against the OpenAPI document

    api = Api(client, client.get("/api/v1/openapi.json").get_json())
    token = api.call("POST", "/carts").get_json()["token"]
    api.call("PUT", "/carts/{token}/items/{product_id}", token=token, product_id=stocked["mien"].id,
             json={"quantity": 1})
    cart = api.call("GET", "/carts/{token}", token=token).get_json()
    assert (cart["lines"][0]["unit"], cart["lines"][0]["unit_en"]) == ("túi 1 kg", "1 kg bag")
    body = {"cart_token": token, "customer": GUEST, "payment_method": "cod",
            "fulfilment": {"type": "delivery", "address": ADDRESS}}
    placed = api.call("POST", "/orders", json=body, headers={"Accept-Language": "en"}).get_json()
    followed = api.call("GET", "/orders/{number}", number=placed["number"],
                        query={"token": placed["token"]}).get_json()
    assert followed["language"] == "en"
    assert [(l["name"], l["name_en"], l["unit"], l["unit_en"]) for l in followed["lines"]] == [
        ("Miến dong Tài Hoan", "Tài Hoan arrowroot glass noodles", "túi 1 kg", "1 kg bag")]


# ---- wording ------------------------------------------------------------------------------------


def test_the_producer_kind_is_not_repeated_before_a_name_that_says_it(client, stocked, make_producer):
    page = html_of(client.get("/products/mien-dong"))
    assert "Hợp tác xã:" not in page and "Nhà sản xuất:" in page
    english = html_of(client.get("/products/mien-dong?lang=en"))
    assert "Cooperative:" in english  # tells a tourist what "Hợp tác xã" is
    producers = html_of(client.get("/producers?lang=vi"))
    assert not re.search(r'card__kicker">Hợp tác xã<', producers)


def test_the_in_stock_filter_says_what_it_does(client, stocked):
    assert "Chỉ hiện sản phẩm còn hàng" in html_of(client.get("/products"))


# ---- the migration backfills existing lines ------------------------------------------------------


def test_the_migration_backfills_english_names_of_existing_order_lines(tmp_path):
    uri = f"sqlite:///{tmp_path / 'backfill.db'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        group = ProductGroup(code="I", slug="thuc-pham", name="Thực phẩm", name_en="Food")
        producer = Producer(slug="htx", name="HTX", kind="cooperative")
        kept = Product(slug="mien", name="Miến", name_en="Glass noodles", unit="túi", unit_en="bag", price=1,
                       producer=producer, group=group)
        gone = Product(slug="gio", name="Bánh gio", name_en="Ash cake", unit="túi", unit_en="bag", price=1,
                       producer=producer, group=group)
        order = Order(access_token="t", status="placed", customer_name="x", email="x@y.vn", phone="0912345678",
                      fulfilment="delivery", payment_method="cod", subtotal=2, shipping_fee=0, total=2)
        order.lines = [OrderLine(product=kept, product_name="Miến", unit="túi", unit_price=1, stars=4, quantity=1,
                                 line_total=1),
                       OrderLine(product=gone, product_name="Bánh gio", unit="túi", unit_price=1, stars=4,
                                 quantity=1, line_total=1)]
        db.session.add(order)
        db.session.commit()
        downgrade(revision="0003_payments")  # the columns are gone, the lines stay
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE order_line SET product_id = NULL WHERE product_name = 'Bánh gio'"))
            conn.execute(sa.text("DELETE FROM product WHERE slug = 'gio'"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT product_name, product_name_en, unit_en FROM order_line ORDER BY id")).all()
            langs = conn.execute(sa.text('SELECT lang FROM "order"')).scalars().all()
        assert [tuple(r) for r in rows] == [("Miến", "Glass noodles", "bag"), ("Bánh gio", "", "")]
        assert langs == ["vi"]
        db.session.remove()
        db.engine.dispose()


def test_english_pages_say_the_certificate_record_is_shown_as_issued(client, stocked):
    note = "The certificate record is shown as issued, in Vietnamese."
    assert note in html_of(client.get("/products/mien-dong?lang=en"))
    assert "Hồ sơ chứng nhận được hiển thị" not in html_of(client.get("/products/mien-dong?lang=vi"))
