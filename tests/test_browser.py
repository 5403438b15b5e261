"""A real browser walks through the shop: search, product, cart, checkout, order page.

Uses Debian's Chromium (/usr/bin/chromium) driven by Playwright; no browser is downloaded.
Skipped where Chromium or Playwright is missing, except in CI (CI=true), where it must run.
"""
import os
import shutil
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders.models import Order

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else __import__(
    "playwright.sync_api", fromlist=["sync_playwright"])
if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)


@pytest.fixture
def live_server(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the browser posts real CSRF tokens
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser_page():
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_a_guest_finds_gao_nep_tai_and_orders_it_cash_on_delivery(
        live_server, browser_page, make_product, make_shop, make_locality, make_producer):
    ba_be = make_locality("Ba Bể", "district")
    producer = make_producer("Hợp tác xã Yến Dương", locality=ba_be)
    nep = make_product("Gạo Nếp Tài", stars=4, price=200_000, producer=producer, slug="gao-nep-tai")
    make_product("Miến dong Tài Hoan", stars=5, price=110_000, producer=producer)
    shop = make_shop("Cửa hàng OCOP Bắc Kạn", ships_online=True)
    inventory.receive(shop.id, nep.id, 4)
    db.session.commit()
    page = browser_page

    page.goto(live_server + "/")
    page.fill("input[name=q]", "nep tai")
    page.keyboard.press("Enter")
    page.wait_for_url("**/products?q=nep*")
    page.get_by_role("link", name="Gạo Nếp Tài").first.click()
    page.wait_for_url("**/products/gao-nep-tai")
    assert "OCOP 4 sao" in page.content()

    page.fill("input[name=quantity]", "2")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.goto(live_server + "/cart")
    assert "400.000" in page.content()

    page.goto(live_server + "/orders/checkout")
    page.fill("input[name=name]", "Nguyễn Thị Lan")
    page.fill("input[name=phone]", "0912 345 678")
    page.fill("input[name=email]", "lan@example.vn")
    page.check("input[name=fulfilment][value=delivery]")
    page.fill("input[name=street]", "12 Trường Chinh")
    page.fill("input[name=ward]", "Phường Đức Xuân")
    page.fill("input[name=province]", "Thái Nguyên")
    page.check("input[name=payment_method][value=cod]")
    page.locator("main form button.button--block[type=submit]").click()
    page.wait_for_url("**/orders/OC-*")

    db.session.expire_all()
    order = db.session.scalars(select(Order)).one()
    assert order.status == "placed" and order.total == 430_000  # 400.000 ₫ + 30.000 ₫ shipping
    assert order.number in page.content() and "430.000" in page.content()
    assert inventory.availability_matrix([nep.id])[(shop.id, nep.id)] == 2
    assert inventory.ledger_mismatches() == []
