"""The producer portal in a real browser at 390 px (issue 15): a producer signs in, rewrites the
story with the live preview and a cover photo, changes a description, proposes a price; an
administrator approves; the public pages show it all.

Debian's Chromium through Playwright, the demo shop served by gunicorn with CSRF on (the journeys'
own fixtures, tests/test_journeys.py): a screenshot after every step in
``test-results/journeys/portal-*/``, and any console error, page error, failed request, unexpected
HTTP error or page wider than the phone fails the test.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from accounts_helpers import PASSWORD, make_user
from test_journeys import Journey, browser, shop_server  # noqa: F401  (fixtures)

STORY = "### Từ ruộng nếp Yến Dương\n\nHTX trồng **nếp Tài** bên hồ Ba Bể, gặt tay, phơi nắng."
DESCRIPTION = "Hạt nếp **dẻo thơm**, đồ xôi không cần ngâm lâu."


def _photo(path) -> str:
    image = Image.new("RGB", (1400, 700), (210, 170, 60))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (22.0, 26.0, 0.0), 3: "E", 4: (105.0, 37.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    path.write_bytes(buffer.getvalue())
    return str(path)


def _sign_in(journey: Journey, email: str) -> None:
    journey.goto("/account/sign-in")
    journey.page.fill("input[name=email]", email)
    journey.page.fill("input[name=password]", PASSWORD)
    journey.page.locator("main form button[type=submit]").click()
    journey.page.wait_for_url(re.compile(r".*/backoffice/?$"))


def test_a_producer_rewrites_the_story_and_proposes_a_price_and_an_administrator_approves(
        app, shop_server, browser, tmp_path):  # noqa: F811
    make_user("producer", email="yenduong@example.vn", producer="htx-yen-duong", name="Chị Dương")
    make_user("admin", email="ha@example.vn", name="Chị Hà")

    producer = Journey(browser, shop_server, "portal-1-producer", locale="vi-VN")
    page = producer.page
    _sign_in(producer, "yenduong@example.vn")
    producer.step("back-office")
    page.get_by_role("link", name="Cổng chủ thể OCOP").first.click()
    page.wait_for_url("**/portal/htx-yen-duong")
    producer.step("portal-profile")
    assert "Gạo Nếp Tài" in page.content()

    page.get_by_role("link", name="Sửa câu chuyện").click()
    page.wait_for_url("**/portal/htx-yen-duong/story")
    page.fill("#story", STORY)
    page.locator("#story").press("End")  # an input event: the live preview follows the typing
    page.locator("#story-preview strong").wait_for()
    assert page.locator("#story-preview strong").inner_text() == "nếp Tài"
    producer.step("story-live-preview")
    page.set_input_files("#photo", _photo(tmp_path / "IMG_2041.jpg"))
    page.locator("form[action$='/cover'] button[type=submit]").click()
    page.wait_for_url("**/portal/htx-yen-duong/story")
    assert "Đã đổi ảnh bìa" in page.content()
    producer.step("cover-uploaded")
    page.fill("#story", STORY)
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url("**/portal/htx-yen-duong/story")
    assert "Đã gửi để duyệt" in page.content()
    producer.step("story-sent-for-review")

    producer.goto("/portal/htx-yen-duong/products/gao-nep-tai")
    page.fill("#description", DESCRIPTION)
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url("**/portal/htx-yen-duong/products/gao-nep-tai")
    producer.step("description-sent")
    page.fill("#change-price", "225.000")
    page.locator("form[action$='/propose'] button[type=submit]").click()
    page.wait_for_url("**/portal/htx-yen-duong/proposals")
    producer.step("proposals-waiting")
    assert page.content().count("Đang chờ duyệt") == 3
    producer.close()

    admin = Journey(browser, shop_server, "portal-2-admin", locale="vi-VN")
    _sign_in(admin, "ha@example.vn")
    admin.goto("/admin/proposals")
    admin.step("queue")
    for _ in range(3):
        admin.page.locator("ol.portal-proposals li button:has-text('Duyệt')").first.click()
        admin.page.wait_for_url("**/admin/proposals")
    admin.step("all-approved")
    assert "Không có đề xuất nào đang chờ" in admin.page.content()
    admin.close()

    visitor = Journey(browser, shop_server, "portal-3-public", locale="vi-VN")
    visitor.goto("/producers/htx-yen-duong")
    visitor.step("producer-page")
    html = visitor.page.content()
    assert "<strong>nếp Tài</strong>" in html and "/media/covers/htx-yen-duong-" in html
    cover = re.search(r"/media/(covers/htx-yen-duong-[0-9a-f]+\.jpg)", html)[1]
    stored = (Path(app.config["UPLOAD_FOLDER"]) / cover).read_bytes()
    assert b"GPS" not in stored and b"Exif" not in stored  # the phone's position is gone
    visitor.goto("/products/gao-nep-tai")
    visitor.step("product-page")
    html = visitor.page.content()
    assert "<strong>dẻo thơm</strong>" in html and "225.000" in html
    visitor.close()

    again = Journey(browser, shop_server, "portal-4-decisions", locale="vi-VN")
    _sign_in(again, "yenduong@example.vn")
    again.goto("/portal/htx-yen-duong/proposals")
    again.step("decisions")
    assert again.page.content().count("Đã duyệt") >= 3
    again.close()
