"""The administrator's journey of issue 14 in a real browser (Debian Chromium, 390 px phone,
Vietnamese): the shop served by gunicorn over the demo data, with the journeys' checks
(``test_journeys.Journey``: a screenshot after every step in ``test-results/journeys/``, failure on
any console error, uncaught page error, failed request, unexpected HTTP error or a page wider than
the phone).

A new administrator imports the sample list (docs/ocop-import-sample.csv), fixes the two refused
rows and imports the corrected file, gives an imported producer its locality, creates a product and
records its new 4★ certificate, revokes another product's certificate and sees the product leave
sale and its open order flagged, and retires a shop.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from shop.extensions import db
from test_journeys import Journey, browser, shop_server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "ocop-import-sample.csv"
DECISION = "2050/QĐ-UBND"
# The sample's two refused rows and how a careful administrator fixes them in the file.
FIXES = {"VII.1": "I.5", "HTX Than Tâm": "HTX Thanh Tâm"}


def _fixed_sample(folder: Path) -> Path:
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    fixed = [[FIXES.get(cell, cell) for cell in row] for row in rows]
    assert fixed != rows, "the sample no longer has the refused rows this journey fixes"
    path = folder / "ocop-import-sample-sua.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(fixed)
    return path


def _setup():
    """The administrator, and an open order holding Gạo Nếp Tài (to be flagged by the revocation)."""
    from shop.orders import services as orders
    from shop.catalog.models import Product

    from accounts_helpers import make_user
    from test_orders import CUSTOMER, DELIVERY, cart_with

    make_user("admin", email="ha.admin@example.vn", name="Chị Hà", password="quan-tri-ocop-2026")
    product = db.session.scalar(select(Product).where(Product.slug == "gao-nep-tai"))
    assert product.sellable
    order = orders.place_order(cart_with((product, 1)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    return order.number


def _shop_to_retire() -> str:
    from shop.admin.records import open_shipments
    from shop.shops.models import Shop

    for shop in db.session.scalars(select(Shop).where(Shop.active.is_(True)).order_by(Shop.slug.desc())):
        if open_shipments(shop.id) == 0:
            return shop.slug
    raise AssertionError("every shop has shipments in progress")


def _import(admin: Journey, path: Path, today: str, label: str) -> None:
    page = admin.page
    admin.goto("/admin/import")
    page.set_input_files("input[type=file]", str(path))
    page.fill("input[name=decision_number]", DECISION)
    page.fill("input[name=issued_on]", today)
    page.fill("input[name=issuing_body]", "UBND tỉnh Thái Nguyên")
    admin.step(f"{label}-upload")
    page.locator("main form[action$='/admin/import'] button[type=submit]").click()
    page.wait_for_url("**/admin/import")
    admin.step(f"{label}-preview")


def test_the_administrators_journey(shop_server, browser, tmp_path):  # noqa: F811
    from shop.catalog.models import Product
    from shop.orders.models import Order
    from shop.producers.models import Producer
    from shop.shops.models import Shop
    from shop.timeutil import today_vn

    number = _setup()
    retiring = _shop_to_retire()
    today = today_vn().isoformat()
    admin = Journey(browser, shop_server, "admin-issue-14", locale="vi-VN")
    page = admin.page

    admin.goto("/account/sign-in")
    page.fill("input[name=email]", "ha.admin@example.vn")
    page.fill("input[name=password]", "quan-tri-ocop-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/backoffice/**")
    admin.goto("/admin/")
    admin.step("administration")

    # 1. The sample list: two rows refused, with their reasons; the rest imported.
    _import(admin, SAMPLE, today, "sample")
    refused = page.locator("tr.import-row--refused")
    assert refused.count() == 2
    reasons = refused.all_inner_texts()
    assert any("VII.1" in text for text in reasons) and any("Than Tâm" in text for text in reasons)
    page.locator("main button[formaction$='/admin/import/confirm']").click()
    page.wait_for_url("**/admin/import/confirm")
    admin.step("sample-imported")
    assert page.locator("tr.import-row--refused").count() == 2

    # 2. The two rows fixed in the file; the same list again: only they change.
    _import(admin, _fixed_sample(tmp_path), today, "fixed")
    assert page.locator("tr.import-row--refused").count() == 0
    assert page.locator("tr.import-row--unchanged").count() == 10
    page.locator("main button[formaction$='/admin/import/confirm']").click()
    page.wait_for_url("**/admin/import/confirm")
    admin.step("fixed-imported")
    db.session.expire_all()
    assert db.session.scalar(select(Product).where(Product.name == "Chè dây Ba Bể")).latest_certificate.decision_number \
        == DECISION

    # 3. An imported producer has no locality yet: the administrator sets it.
    admin.goto("/admin/producers?locality=none")
    admin.step("producers-without-locality")
    first = page.locator("main table tbody tr td a").first
    name = first.inner_text().strip()
    first.click()
    page.wait_for_url("**/admin/producers/*")
    value = page.locator("select[name=locality] option", has_text="Văn Lang").first.get_attribute("value")
    page.select_option("select[name=locality]", value)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/admin/producers/*")
    admin.step("producer-locality-set")
    db.session.expire_all()
    assert db.session.scalar(select(Producer).where(Producer.name == name)).locality.name == "Văn Lang"

    # 4. A new product, and its new 4★ certificate.
    admin.goto("/admin/products/new")
    page.fill("input[name=name]", "Mật ong hoa rừng Pác Nặm")
    page.fill("input[name=name_en]", "Pac Nam wild-flower honey")
    page.select_option("select[name=group]", index=1)
    page.fill("input[name=unit]", "chai 500 ml")
    page.fill("input[name=weight_grams]", "700")
    page.fill("input[name=barcode]", "8931234567890")  # a wrong check digit first
    page.fill("input[name=price]", "180000")
    page.select_option("select[name=producer]", "htx-tai-hoan")
    page.check("input[name=listed]")
    admin.expected_errors.add((400, "/admin/products/new"))  # the refused form comes back as a 400
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    # Chromium also logs the 400 of the page itself as a console error: that one is expected too.
    admin.problems = [p for p in admin.problems if not ("/admin/products/new" in p and "status of 400" in p)]
    admin.step("product-wrong-check-digit")
    assert "8931234567897" not in page.content() and page.locator(".error-summary").count() == 1
    page.fill("input[name=barcode]", "8931234567897")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/certificates")
    admin.step("product-created")
    page.select_option("select[name=stars]", "4")
    page.fill("input[name=score]", "78")
    page.fill("input[name=decision_number]", "2101/QĐ-UBND")
    page.fill("input[name=issuing_body]", "UBND tỉnh Thái Nguyên")
    page.fill("input[name=issued_on]", today)
    page.locator("main form[action$='/certificates'] button[type=submit]").click()
    page.wait_for_url("**/certificates")
    admin.step("certificate-recorded")
    db.session.expire_all()
    honey = db.session.scalar(select(Product).where(Product.name == "Mật ong hoa rừng Pác Nặm"))
    assert honey.sellable and honey.stars == 4 and honey.barcode == "8931234567897"
    admin.goto(f"/products/{honey.slug}")
    admin.step("new-product-public-page")

    # 5. Another product's certificate revoked: it leaves sale, its open order is flagged.
    admin.goto("/admin/products/gao-nep-tai/certificates")
    page.fill("input[name=revoke-revocation_decision]", "2102/QĐ-UBND")
    page.fill("input[name=revoke-revoked_on]", today)
    page.fill("textarea[name=revoke-revocation_reason]", "Không duy trì chất lượng như khi được công nhận.")
    page.locator("main form[action$='/revoke'] button[type=submit]").click()
    page.wait_for_url("**/certificates")
    admin.step("certificate-revoked")
    assert number in page.content()
    db.session.expire_all()
    assert not db.session.scalar(select(Product).where(Product.slug == "gao-nep-tai")).sellable
    assert db.session.scalar(select(Order).where(Order.number == number)).needs_review
    admin.goto("/products/gao-nep-tai")
    admin.step("revoked-product-public-page")

    # 6. A shop retired.
    admin.goto(f"/admin/shops/{retiring}")
    page.locator("main form[action$='/retire'] button[type=submit]").click()
    page.wait_for_url(f"**/admin/shops/{retiring}")
    admin.step("shop-retired")
    db.session.expire_all()
    assert not db.session.scalar(select(Shop).where(Shop.slug == retiring)).active
    admin.goto("/admin/shops")
    admin.step("shops")
    admin.close()
