"""Tried as a new user would: print a lot's stamp sheet, scan a stamp, read the trace page on a phone.

Chromium (Debian's /usr/bin/chromium, driven by Playwright) renders the A4 stamp sheet; a stamp
is photographed (a screenshot of its element) and decoded with zxing-cpp, as a phone's camera
would; the decoded URL is then opened in a 390 px wide phone viewport. Skipped where Chromium,
Playwright or zxing-cpp is missing, except in CI (CI=true), where it must run.
"""
import io
import os
import shutil
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from shop.extensions import db
from shop.inventory import recalls
from shop.inventory import services as inventory
from shop.timeutil import today_vn

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not os.environ.get("CI"):
    playwright_api = pytest.importorskip("playwright.sync_api")
    zxingcpp = pytest.importorskip("zxingcpp")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)
else:
    import playwright.sync_api as playwright_api
    import zxingcpp
from PIL import Image  # noqa: E402


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_a_stamp_scanned_from_the_printed_sheet_opens_a_trace_page_readable_on_a_phone(
        live_server, make_product, make_shop, make_locality, make_producer):
    bac_kan = make_locality("Bắc Kạn", "province")
    cho_don = make_locality("Chợ Đồn", "district", parent=bac_kan)
    producer = make_producer("HTX Thanh Tâm", locality=cho_don)
    wine = make_product("Rượu men lá Thanh Tâm", stars=4, producer=producer, slug="ruou-men-la-thanh-tam")
    shop = make_shop("Cửa hàng OCOP Chợ Đồn", slug="cho-don")
    lot = inventory.receive(shop.id, wine.id, 24, lot_code="RML-2610", produced_on=today_vn() - timedelta(days=40),
                            best_before=today_vn() + timedelta(days=1800)).lot
    db.session.commit()

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            # The sheet as printed on A4 (210 mm ≈ 794 CSS px).
            sheet = browser.new_page(viewport={"width": 794, "height": 1123})
            sheet.goto(f"{live_server}/q/stamps/lot/{lot.id}")
            stamps = sheet.locator("figure.stamp")
            assert stamps.count() == 24
            box = stamps.nth(0).bounding_box()
            assert 255 <= box["width"] <= 275 and 130 <= box["height"] <= 145  # 70 × 37 mm at 96 dpi
            shot = stamps.nth(5).screenshot()
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
            assert found == [f"{live_server}/q/{wine.id}/{lot.id}"]

            phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
            phone.goto(found[0])
            body = phone.inner_text("main")
            assert "Rượu men lá Thanh Tâm" in body and "Lô RML-2610" in body
            assert "HTX Thanh Tâm" in body and "Chợ Đồn" in body and "Còn hiệu lực" in body
            assert lot.best_before.strftime("%d/%m/%Y") in body
            assert phone.locator(".star-badge--4").count() == 1
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390

            # The lot is recalled: the same stamp now warns the buyer.
            recalls.recall_lot(lot.id, "Methanol vượt ngưỡng cho phép", reference="12/QĐ-ATTP")
            db.session.commit()
            phone.goto(found[0])
            assert "đã bị thu hồi" in phone.inner_text("main")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()
