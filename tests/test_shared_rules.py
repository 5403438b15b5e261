"""One home for each shared presentation rule (issue 9): the bank-transfer instructions, the
no-store / no-referrer headers, the reason a product is not on sale, the low-stock rule.

Each rule is checked where it lives, then through every door that shows it (page, API, email),
and a scan makes sure no second copy of it creeps back into the code.
"""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Response
from sqlalchemy import select

from shop import vietqr
from shop.catalog.enums import NotOnSaleReason
from shop.extensions import db
from shop.headers import no_store, secret_link
from shop.inventory import services as inventory
from shop.inventory.models import StockLevel
from shop.inventory.rules import LOW_STOCK_THRESHOLD, is_low_stock
from shop.orders.models import Order
from shop.payments.transfer import transfer_instructions
from shop.timeutil import today_vn

ROOT = Path(__file__).resolve().parent.parent
GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn", "street": "12 Trường Chinh",
         "ward": "Phường Đức Xuân", "province": "Thái Nguyên", "fulfilment": "delivery"}


@pytest.fixture
def outbox(monkeypatch):
    sent = []
    monkeypatch.setattr("shop.orders.notifications.send_mail",
                        lambda to, subject, body: sent.append({"to": to, "subject": subject, "body": body}))
    return sent


@pytest.fixture
def tea(make_product, make_shop):
    product = make_product("Trà hoa vàng Pác Nặm", stars=4, price=150_000, slug="tra-hoa-vang")
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    inventory.receive(shop.id, product.id, 20)
    db.session.commit()
    return product


def place(client, product, method: str) -> Order:
    client.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    assert client.post("/orders/checkout", data={**GUEST, "payment_method": method}).status_code == 302
    db.session.rollback()
    return db.session.scalars(select(Order).order_by(Order.id.desc())).first()


def page_of(client, order) -> tuple[Response, str]:
    response = client.get(f"/orders/{order.number}?token={order.access_token}")
    return response, response.get_data(as_text=True)


# ---- bank-transfer instructions ------------------------------------------------------------------


def test_page_api_and_email_show_the_same_transfer_instructions(client, tea, outbox, app):
    order = place(client, tea, "bank_transfer")
    transfer = transfer_instructions(order)
    assert transfer.amount == order.total == 330_000 and transfer.reference == order.number
    assert transfer.awaiting and transfer.expires_at == order.hold_expires_at
    assert transfer.qr_payload == vietqr.payload(app.config["BANK_BIN"], app.config["BANK_ACCOUNT"], 330_000,
                                                 order.number)

    _response, page = page_of(client, order)
    api = client.get(f"/api/v1/orders/{order.number}?token={order.access_token}").get_json()
    email = outbox[0]["body"]
    for text in (transfer.bank_name, transfer.account, transfer.account_name, transfer.reference):
        assert text in page and text in email
    assert "<svg" in page
    payment = api["payment"]
    assert (payment["bank_name"], payment["account"], payment["account_name"], payment["reference"],
            payment["amount_vnd"], payment["vietqr_payload"]) == (
        transfer.bank_name, transfer.account, transfer.account_name, transfer.reference, 330_000, transfer.qr_payload)


def test_no_code_to_scan_once_the_time_to_pay_is_over(client, tea, outbox):
    order = place(client, tea, "bank_transfer")
    order.hold_expires_at = order.created_at - timedelta(minutes=1)
    db.session.commit()
    transfer = transfer_instructions(order)
    assert not transfer.awaiting and transfer.qr_payload is None and transfer.qr_svg() is None
    _response, page = page_of(client, order)
    assert "<svg" not in page and transfer.account not in page


def test_wrong_bank_settings_leave_the_account_to_type_in(client, tea, outbox, app, monkeypatch):
    order = place(client, tea, "bank_transfer")
    monkeypatch.setitem(app.config, "BANK_BIN", "BIDV")  # not a 6-digit BIN: no VietQR code
    transfer = transfer_instructions(order)
    assert transfer.awaiting and transfer.qr_payload is None
    response, page = page_of(client, order)
    assert response.status_code == 200 and "<svg" not in page and transfer.account in page


def test_other_methods_have_no_transfer_instructions(client, tea, outbox):
    order = place(client, tea, "cod")
    assert transfer_instructions(order) is None
    assert "<svg" not in page_of(client, order)[1]


# ---- headers -------------------------------------------------------------------------------------


def test_the_header_helpers_set_their_headers():
    assert no_store(Response()).headers["Cache-Control"] == "no-store"
    headers = secret_link(Response()).headers
    assert (headers["Cache-Control"], headers["X-Robots-Tag"], headers["Referrer-Policy"]) == (
        "private, no-store", "noindex, nofollow", "no-referrer")


def test_secret_links_and_token_replies_are_neither_stored_nor_referred(client, tea, outbox):
    order = place(client, tea, "cod")
    response, _page = page_of(client, order)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    cancel = client.post(f"/orders/{order.number}/cancel", data={"token": order.access_token})
    assert cancel.status_code == 302 and cancel.headers["Referrer-Policy"] == "no-referrer"
    api = client.get(f"/api/v1/orders/{order.number}?token={order.access_token}")
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    assert client.get("/search/suggest?q=tra").headers["Cache-Control"] == "no-store"


# ---- why a product is not on sale ----------------------------------------------------------------


def test_the_reason_a_product_is_not_on_sale(make_product, make_certificate):
    on_sale = make_product("Gạo nếp", stars=4)
    revoked = make_product("Chè Shan", stars=4, cert_status="revoked")
    never = make_product("Mật ong", stars=None)
    past = today_vn() - timedelta(days=1200)
    expired = make_product("Măng khô", stars=4, issued_on=past, expires_on=past + timedelta(days=1095))
    pending = make_product("Miến", stars=None)
    make_certificate(pending, issued_on=today_vn() + timedelta(days=3))
    hidden = make_product("Sản phẩm ẩn", stars=4, listed=False)
    db.session.commit()
    assert on_sale.not_on_sale_reason() is None
    assert revoked.not_on_sale_reason() == NotOnSaleReason.REVOKED
    assert expired.not_on_sale_reason() == NotOnSaleReason.EXPIRED
    assert never.not_on_sale_reason() == pending.not_on_sale_reason() == NotOnSaleReason.UNCERTIFIED
    assert hidden.not_on_sale_reason() == NotOnSaleReason.UNLISTED
    # The day before it ended, the expired one was on sale.
    assert expired.not_on_sale_reason(past + timedelta(days=1095)) is None


def test_page_and_api_give_the_same_reason(client, make_product):
    past = today_vn() - timedelta(days=1200)
    products = {
        "mang-kho": make_product("Măng khô", stars=4, slug="mang-kho", issued_on=past,
                                 expires_on=past + timedelta(days=1095)),
        "che-shan": make_product("Chè Shan", stars=4, slug="che-shan", cert_status="revoked"),
        "gao-nep": make_product("Gạo nếp", stars=4, slug="gao-nep"),
    }
    db.session.commit()
    for slug, reason, sentence in (("mang-kho", "expired", "expired on"), ("che-shan", "revoked", "was revoked"),
                                   ("gao-nep", None, None)):
        body = client.get(f"/api/v1/products/{products[slug].id}").get_json()
        assert body["not_on_sale_reason"] == reason and body["on_sale"] is (reason is None)
        page = client.get(f"/products/{slug}?lang=en").get_data(as_text=True)
        assert (sentence in page) if sentence else ("not on sale" not in page)


# ---- low stock -----------------------------------------------------------------------------------


def test_the_low_stock_rule():
    assert LOW_STOCK_THRESHOLD == 5
    assert is_low_stock(0) and is_low_stock(5) and not is_low_stock(6)
    assert is_low_stock(8, threshold=8) and not is_low_stock(3, threshold=2)
    assert StockLevel(on_hand=3, low_stock_threshold=2).is_low is False
    assert StockLevel(on_hand=2, low_stock_threshold=2).is_low is True


def test_a_new_stock_row_takes_the_default_threshold(tea):
    level = db.session.scalars(select(StockLevel).where(StockLevel.product_id == tea.id)).one()
    assert level.low_stock_threshold == LOW_STOCK_THRESHOLD


@pytest.mark.parametrize("units, word", [(5, "Running low"), (6, "In stock")])
def test_the_product_page_and_card_follow_the_rule(client, make_product, make_shop, units, word):
    product = make_product("Trà", stars=4, slug="tra")
    inventory.receive(make_shop("Cửa hàng OCOP", ships_online=True).id, product.id, units)
    db.session.commit()
    assert word in client.get("/products/tra?lang=en").get_data(as_text=True)
    assert word in client.get("/products?lang=en").get_data(as_text=True)


# ---- no second copy ------------------------------------------------------------------------------


def _sources(templates: bool = True):
    for path in sorted((ROOT / "shop").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    if templates:
        for path in sorted((ROOT / "templates").rglob("*.html")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def test_no_store_and_secret_link_headers_are_set_in_one_place():
    # Templates may say the same in HTML (<meta name="referrer">); the site-wide defaults live in
    # the same module (shop/headers.py: DEFAULT_HEADERS), applied by shop/security.py.
    pattern = r"""headers\[["']Referrer-Policy["']\]\s*=|["'](private, )?no-store["']|["']no-referrer["']|["']noindex, nofollow["']"""
    copies = [name for name, text in _sources(templates=False) if re.search(pattern, text)]
    assert copies == ["shop/headers.py"]


@pytest.mark.parametrize("pattern, home", [
    (r"BANK_(BIN|NAME|ACCOUNT)\b|vietqr\.payload", {"shop/payments/transfer.py", "shop/vietqr.py"}),
    (r"\bLOW_STOCK\b|\blow_stock\b|<= *low\b|low=\d", {"shop/inventory/rules.py"}),
    (r"class Lapse|def lapse_of", set()),
])
def test_each_rule_has_one_home(pattern, home):
    copies = sorted({name for name, text in _sources() if re.search(pattern, text)} - home)
    assert copies == [], f"{pattern!r} outside {sorted(home)}"


# ---- models: typed relationships, one timestamps mixin -------------------------------------------


def _models():
    return sorted((mapper.class_ for mapper in db.Model.registry.mappers), key=lambda cls: cls.__name__)


def test_every_relationship_is_typed():
    untyped = [f"{cls.__name__}.{rel.key}" for cls in _models() for rel in cls.__mapper__.relationships
               if not any(str(getattr(klass, "__annotations__", {}).get(rel.key, "")).startswith("Mapped[")
                          for klass in cls.__mro__)]
    assert untyped == []


def test_timestamps_come_from_the_mixin_and_are_utc(make_product):
    from shop.model_mixins import CreatedMixin, UpdatedMixin

    copies = [f"{cls.__name__}.{name}" for cls in _models()
              for name, mixin in (("created_at", CreatedMixin), ("updated_at", UpdatedMixin))
              if name in cls.__table__.c and not issubclass(cls, mixin)]
    assert copies == []
    product = make_product("Miến")
    db.session.commit()
    before = product.updated_at
    assert product.created_at.utcoffset() == timedelta(0) and before.utcoffset() == timedelta(0)
    product.price += 1
    db.session.commit()
    assert product.updated_at > before
