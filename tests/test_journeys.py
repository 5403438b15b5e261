"""Real-browser journeys through the shop served by gunicorn on 127.0.0.1 (issue 17).

Debian's Chromium (/usr/bin/chromium) driven by Playwright's Python package; no browser is ever
downloaded. Each journey saves a screenshot after every step in ``test-results/journeys/<journey>/``
(git ignores ``test-results/``) and fails on any console error, uncaught page error, failed
request, HTTP error answer it did not expect, or a page wider than a 390 px phone.

Every page a journey steps on is also checked with axe-core (tests/tools, from the npm registry,
injected through DevTools so the page's CSP stays on; once per path): a serious or critical
accessibility violation is a problem like a console error. Without axe-core (no npm) the check is
left out locally and fails in CI.

Skipped where Chromium or Playwright is missing, except in CI (CI=true), where they must be there.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from shop.extensions import db
from shop.seed.demo import seed_demo
from gunicorn_server import gunicorn

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-results" / "journeys"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))
PHONE = {"width": 390, "height": 844}
AXE_JS = ROOT / "tests" / "tools" / "node_modules" / "axe-core" / "axe.min.js"
AXE_IMPACTS = ("serious", "critical")
if IN_CI and not AXE_JS.is_file():
    raise RuntimeError(f"axe-core is required in CI ({AXE_JS}: make test runs npm ci in tests/tools)")

if not shutil.which(CHROMIUM) and not IN_CI:
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api") if not IN_CI else __import__(
    "playwright.sync_api", fromlist=["sync_playwright"])


@pytest.fixture
def shop_server(app, tmp_path):
    """The demo shop (seeded in the test database) served by gunicorn, 2 workers; yields its URL."""
    seed_demo()
    db.session.commit()
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
              "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "WTF_CSRF_ENABLED": True}
    with gunicorn(tmp_path, config, timeout=60) as (base, _master):
        yield base


def _product_id(slug: str) -> int:
    from sqlalchemy import select

    from shop.catalog.models import Product

    return db.session.scalars(select(Product.id).where(Product.slug == slug)).one()


class Journey:
    """One person's browser: records every problem, screenshots every step."""

    def __init__(self, browser, base: str, name: str, *, locale: str, viewport=PHONE, expected_errors=()):
        self.base = base
        self.folder = SHOTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.context = browser.new_context(viewport=viewport, locale=locale)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.problems: list[str] = []
        self.steps = 0
        self.axe_checked: set[str] = set()  # paths already checked with axe-core
        self.expected_errors = set(expected_errors)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console error on {self.page.url}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"uncaught on {self.page.url}: {e}"))
        # A request the page itself abandoned by navigating away (a suggestion still loading when
        # Enter is pressed) is ERR_ABORTED: not a failure of the shop.
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and self.problems.append(
            f"request failed: {r.url} {r.failure}"))
        self.page.on("response", self._check_response)

    def _check_response(self, response) -> None:
        path = response.url.removeprefix(self.base)
        if response.status >= 400 and (response.status, path) not in self.expected_errors:
            self.problems.append(f"HTTP {response.status} for {path}")

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def step(self, label: str) -> None:
        """Screenshot the page as it is now and check it fits the viewport."""
        self.steps += 1
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=str(self.folder / f"{self.steps:02d}-{label}.png"), full_page=True)
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            culprits = self.page.evaluate("""() => {
                const width = document.documentElement.clientWidth;
                const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
                return Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > width + 0.5 && !clipped(e))
                    .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                                   + ' ' + Math.round(e.getBoundingClientRect().right));
            }""")
            self.problems.append(f"{label}: {overflow}px wider than the viewport at {self.page.url}: {culprits}")
        self.check_accessibility(label)

    def check_accessibility(self, label: str) -> None:
        """axe-core on the page as it is now (once per path): serious and critical violations."""
        path = self.page.url.removeprefix(self.base).split("?")[0].split("#")[0]
        if not AXE_JS.is_file() or path in self.axe_checked:
            return
        self.axe_checked.add(path)
        self.page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
        result = self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in AXE_IMPACTS:
                targets = [", ".join(n["target"]) for n in violation["nodes"]][:3]
                self.problems.append(f"{label}: axe {violation['id']} ({violation['impact']}) on {path}: {targets}")

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield chromium
        finally:
            chromium.close()


def test_journey_1_a_tourist_finds_a_product_with_a_typo_and_picks_it_up_at_a_shop(shop_server, browser):
    """English browser, phone: search with a typo, open a 4★ product, scan its trace page, add two
    to the cart, pick them up at a shop and pay there; the order page says where and how much."""
    tourist = Journey(browser, shop_server, "1-tourist-pickup", locale="en-US")
    page = tourist.page
    tourist.goto("/")
    tourist.step("home")
    assert page.locator("html").get_attribute("lang") == "en"

    page.fill("#site-q", "sticky rcie")  # "rice" mistyped
    page.keyboard.press("Enter")
    page.wait_for_url("**/products?q=*")
    tourist.step("search-with-typo")
    page.get_by_role("link", name=re.compile("Nếp Tài|Tai sticky", re.I)).first.click()
    page.wait_for_url("**/products/gao-nep-tai")
    tourist.step("product")
    assert "OCOP 4 stars" in page.locator(".star-badge").first.inner_text()

    # The QR stamp on the pack opens the product's trace page (shop/inventory/trace.py).
    tourist.goto(f"/q/{_product_id('gao-nep-tai')}")
    tourist.step("trace-page")
    assert "Yến Dương" in page.content()
    tourist.goto("/products/gao-nep-tai")

    page.fill("input[name=quantity]", "2")
    page.locator("form.add-to-cart button[type=submit]").click()
    tourist.goto("/cart")
    tourist.step("cart")
    assert "Gạo Nếp Tài" in page.content() or "sticky rice" in page.content().lower()

    tourist.goto("/orders/checkout")
    page.fill("input[name=name]", "Emma Brown")
    page.fill("input[name=phone]", "+44 7700 900123")
    page.fill("input[name=email]", "emma@example.com")
    page.check("input[name=fulfilment][value=pickup]")
    shop_choice = page.locator("select[name=pickup_shop_id] option:not([value=''])").first
    page.select_option("select[name=pickup_shop_id]", shop_choice.get_attribute("value"))
    shop_name = shop_choice.inner_text().strip()
    page.check("input[name=payment_method][value=pay_at_shop]")
    tourist.step("checkout-filled")
    page.locator("main form button.button--block[type=submit]").click()
    page.wait_for_url(re.compile(r".*/orders/OC-\d{4}-\d+\?token=.*"))
    tourist.step("order-placed")
    html = page.content()
    assert shop_name.split(",")[0].split(" (")[0] in html
    assert "Pay at the shop" in html
    assert "420.000" in html or "400.000" in html  # two packs at today's price, no delivery fee
    tourist.close()


def _mail_link(to: str, path_part: str) -> str:
    """The link containing ``path_part`` in the newest e-mail queued for ``to`` (the outbox)."""
    from sqlalchemy import select

    from shop.outbox.models import OutboxMessage

    db.session.expire_all()
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.to_address == to)
                                .order_by(OutboxMessage.id.desc())).all()
    for body in bodies:
        found = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", body)
        if found:
            return found[0]
    raise AssertionError(f"no e-mail to {to} with a {path_part} link among {len(bodies)}")


def test_journey_2_a_customer_registers_buys_cash_on_delivery_and_finds_the_order(shop_server, browser):
    """Vietnamese browser, 390 px: register, confirm the e-mail from its link, sign in, buy two
    products cash on delivery, and find the order in the account's history."""
    lan = Journey(browser, shop_server, "2-customer-cod-history", locale="vi-VN")
    page = lan.page
    lan.goto("/account/register")
    page.fill("input[name=name]", "Nguyễn Thị Lan")
    page.fill("input[name=email]", "lan.nguyen@example.vn")
    page.fill("input[name=password]", "mien-dong-ba-be-2026")
    lan.step("register")
    page.locator("main form button[type=submit]").click()
    lan.step("check-your-mail")

    link = _mail_link("lan.nguyen@example.vn", "/account/verify/")
    page.goto(shop_server + re.sub(r"^https?://[^/]+", "", link))  # the link, on this server
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/account/sign-in*")
    page.fill("input[name=email]", "lan.nguyen@example.vn")
    page.fill("input[name=password]", "mien-dong-ba-be-2026")
    lan.step("sign-in")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/account/**")
    lan.step("account")

    for slug in ("mien-dong-tai-hoan", "gao-nep-tai"):
        lan.goto(f"/products/{slug}")
        page.locator("form.add-to-cart button[type=submit]").click()
    lan.goto("/cart")
    lan.step("cart-two-products")
    lan.goto("/orders/checkout")
    assert page.input_value("input[name=email]") == "lan.nguyen@example.vn"  # pre-filled
    page.fill("input[name=phone]", "0912 345 678")
    page.check("input[name=fulfilment][value=delivery]")
    page.fill("input[name=street]", "12 Trường Chinh")
    page.fill("input[name=ward]", "Phường Đức Xuân")
    page.fill("input[name=province]", "Thái Nguyên")
    page.check("input[name=payment_method][value=cod]")
    lan.step("checkout")
    page.locator("main form button.button--block[type=submit]").click()
    page.wait_for_url(re.compile(r".*/orders/OC-\d{4}-\d+\?token=.*"))
    number = re.search(r"OC-\d{4}-\d+", page.url)[0]
    lan.step("order-placed")
    assert "Thanh toán khi nhận hàng" in page.content()

    lan.goto("/account/")
    lan.step("history")
    history = page.locator("main").inner_text()
    assert number in history
    lan.close()


def test_journey_3_a_clerks_day_ship_a_cod_order_receive_two_lots_and_transfer_to_another_shop(shop_server, browser):
    """Vietnamese browser, 390 px: a clerk signs in, confirms and ships a cash-on-delivery order
    (the customer's order page then shows the tracking number with its link), receives a delivery
    of two lots, and sends part of one to another shop, whose clerk receives it. The ledger agrees
    with the stock levels at the end."""
    from datetime import timedelta

    from sqlalchemy import select

    from shop.inventory import services as inventory
    from shop.inventory.enums import MovementReason, TransferState
    from shop.inventory.models import Lot, LotStock, StockMovement, Transfer
    from shop.orders import services as orders
    from shop.shops.models import Shop
    from shop.timeutil import today_vn

    from accounts_helpers import PASSWORD, make_user
    from test_orders import cart_with

    # A customer's COD order (placed through the services: this journey is the shop's side).
    customer = orders.Customer(name="Trần Văn Bình", phone="0987 654 321", email="binh@example.vn")
    where = orders.Fulfilment(type="delivery", street="5 Hoàng Văn Thụ", ward="Phường Phan Đình Phùng",
                              province="Thái Nguyên")
    from shop.catalog.models import Product
    mien = db.session.scalars(select(Product).where(Product.slug == "mien-dong-tai-hoan")).one()
    order = orders.place_order(cart_with((mien, 1)), customer, where, "cod")
    db.session.commit()
    home = order.shipments[0].shop
    other = db.session.scalars(select(Shop).where(Shop.id != home.id, Shop.active.is_(True)).order_by(Shop.id)).first()
    make_user("staff", email="hoa.clerk@example.vn", name="Hoa", shops=[home.slug], shop_role="clerk")
    make_user("staff", email="nam.clerk@example.vn", name="Nam", shops=[other.slug], shop_role="clerk")

    def sign_in(journey, email):
        journey.goto("/account/sign-in")
        journey.page.fill("input[name=email]", email)
        journey.page.fill("input[name=password]", PASSWORD)
        journey.page.locator("main form button[type=submit]").click()
        journey.page.wait_for_url(lambda url: "/sign-in" not in url)
        journey.goto("/staff/")

    hoa = Journey(browser, shop_server, "3-clerk-day", locale="vi-VN")
    page = hoa.page
    sign_in(hoa, "hoa.clerk@example.vn")  # one shop: straight to its queue
    hoa.step("queue")
    page.get_by_role("link", name=order.number).first.click()
    page.wait_for_url(f"**/orders/{order.number}")
    hoa.step("cod-order")
    page.check("input[name=called]")
    page.locator("form[action$='/confirm'] button[type=submit]").click()
    page.wait_for_url(f"**/orders/{order.number}")
    hoa.step("confirmed")
    shipping = page.locator("form[action$='/step']:has(input[name=to][value=shipped])")
    shipping.locator("select[name=carrier]").select_option(label="GHN")
    shipping.locator("input[name=tracking_number]").fill("GHNJ3123456")
    shipping.locator("button[type=submit]").click()
    page.wait_for_url(f"**/orders/{order.number}")
    hoa.step("shipped")
    assert "GHNJ3123456" in page.content()

    # The customer's order page shows the tracking number, linked to the carrier.
    hoa.goto(f"/orders/{order.number}?token={order.access_token}")
    hoa.step("customer-sees-tracking")
    assert "GHNJ3123456" in page.locator("main").inner_text()
    tracking = page.locator("main a[href*='GHNJ3123456']").first
    assert "ghn" in tracking.get_attribute("href").lower()

    # A delivery of two lots.
    hoa.goto(f"/staff/shops/{home.slug}/stock/receive")
    best = (today_vn() + timedelta(days=200)).isoformat()
    page.fill("input[name=reference]", "PN-J3-001")
    for i, (lot, units) in enumerate((("J3-A", "12"), ("J3-B", "8"))):
        page.fill(f"input[name='lines-{i}-product']", "mien-dong-tai-hoan")
        page.fill(f"input[name='lines-{i}-lot_code']", lot)
        page.fill(f"input[name='lines-{i}-produced_on']", (today_vn() - timedelta(days=10)).isoformat())
        page.fill(f"input[name='lines-{i}-best_before']", best)
        page.fill(f"input[name='lines-{i}-quantity']", units)
    hoa.step("receive-filled")
    page.locator("main form.staff-form button[type=submit]").click()
    page.wait_for_load_state("load")
    hoa.step("received")

    # Part of one lot to the other shop.
    hoa.goto(f"/staff/shops/{home.slug}/transfers/new")
    page.select_option("select[name=to_shop]", str(other.id))
    page.fill("input[name='lines-0-product']", "mien-dong-tai-hoan")
    page.fill("input[name='lines-0-lot_code']", "J3-A")
    page.fill("input[name='lines-0-quantity']", "5")
    hoa.step("transfer-filled")
    page.locator("main form.staff-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/transfers/\d+$"))
    hoa.step("transfer-sent")
    transfer_path = page.url.removeprefix(shop_server).replace(home.slug, other.slug)
    hoa.close()

    nam = Journey(browser, shop_server, "3-clerk-receives-transfer", locale="vi-VN")
    sign_in(nam, "nam.clerk@example.vn")
    nam.goto(f"/staff/shops/{other.slug}/transfers")
    nam.step("transfers")
    nam.goto(transfer_path)
    nam.step("transfer-to-receive")
    nam.page.locator("form[action$='/receive'] button[type=submit]").click()
    nam.page.wait_for_load_state("load")
    nam.step("transfer-received")
    nam.close()

    db.session.expire_all()
    transfer = db.session.scalars(select(Transfer).order_by(Transfer.id.desc())).first()
    assert transfer.state == TransferState.RECEIVED and transfer.to_shop_id == other.id
    received = db.session.execute(select(StockMovement.delta).where(
        StockMovement.shop_id == home.id, StockMovement.reason == MovementReason.RECEIVE,
        StockMovement.reference == "PN-J3-001")).scalars().all()
    assert sorted(received) == [8, 12]
    lot_a_at_other = db.session.scalar(select(LotStock.on_hand).join(Lot, Lot.id == LotStock.lot_id).where(
        LotStock.shop_id == other.id, Lot.code == "J3-A"))
    assert lot_a_at_other == 5
    assert inventory.ledger_mismatches() == []


def test_journey_4_a_manager_imports_the_bank_statement_and_refunds_a_transfer(shop_server, browser, tmp_path):
    """Vietnamese browser, 390 px: a shop manager uploads the bank's statement (Vietcombank-style
    CSV with a BOM and semicolons), checks the preview, imports it: two transfers are confirmed,
    the third (short by 10.000 ₫) waits and is then accepted by hand; one order is partly refunded
    with the bank reference, which the customer's order page shows."""
    from sqlalchemy import select

    from shop.catalog.models import Product
    from shop.inventory import services as inventory
    from shop.orders import services as orders
    from shop.orders.enums import OrderStatus, PaymentStatus
    from shop.orders.models import Order
    from shop.payments.enums import StatementLineState
    from shop.payments.models import StatementLine
    from shop.timeutil import today_vn

    from accounts_helpers import PASSWORD, make_user
    from test_orders import cart_with

    nep = db.session.scalars(select(Product).where(Product.slug == "gao-nep-tai")).one()
    where = orders.Fulfilment(type="delivery", street="5 Hoàng Văn Thụ", ward="Phường Phan Đình Phùng",
                              province="Thái Nguyên")
    placed = []
    for n, name in enumerate(("Lê Thị Hà", "Phạm Văn Đức", "Vũ Thị Mai")):
        customer = orders.Customer(name=name, phone=f"0912 000 00{n}", email=f"khach{n}@example.vn")
        placed.append(orders.place_order(cart_with((nep, 1)), customer, where, "bank_transfer"))
        db.session.commit()
    home = placed[0].shipments[0].shop
    assert all(o.shipments[0].shop_id == home.id for o in placed)
    make_user("staff", email="lan.manager@example.vn", name="Lan", shops=[home.slug], shop_role="manager")
    day = today_vn().strftime("%d/%m/%Y")
    rows = [f"{i + 1};{day} 09:1{i}:00;FT2633{i};;{o.total - (10_000 if i == 2 else 0):,};"
            f"MBVCB.99{i}.{o.number.replace('-', '').lower()}.CT tu {o.customer_name}".replace(",", ".")
            for i, o in enumerate(placed)]
    statement = tmp_path / "sao-ke-vcb.csv"
    statement.write_text("NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM\nSố tài khoản: 0123456789;;;;;\n"
                         "STT;Ngày giao dịch;Số tham chiếu;Số tiền ghi nợ;Số tiền ghi có;Mô tả\n"
                         + "\n".join(rows) + "\n", encoding="utf-8-sig")

    lan = Journey(browser, shop_server, "4-manager-statement-refund", locale="vi-VN")
    page = lan.page
    lan.goto("/account/sign-in")
    page.fill("input[name=email]", "lan.manager@example.vn")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    lan.goto(f"/staff/shops/{home.slug}/statements")
    lan.step("statements")
    page.set_input_files("input[name=file]", str(statement))
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state("load")
    lan.step("preview")
    assert page.locator("table").inner_text().count("Khớp") == 2 and "Sai số tiền" in page.content()
    page.locator(f"form[action$='/statements/import'] button[type=submit]").click()
    page.wait_for_url(f"**/staff/shops/{home.slug}/statements")
    lan.step("imported")
    db.session.expire_all()
    paid = [db.session.get(Order, o.id) for o in placed]
    assert [o.status for o in paid] == [OrderStatus.PAID, OrderStatus.PAID, OrderStatus.PENDING_PAYMENT]
    page.locator("form[action$='/confirm'] button[type=submit]").click()  # accept the short transfer
    page.wait_for_url(f"**/staff/shops/{home.slug}/statements")
    lan.step("short-transfer-accepted")
    db.session.expire_all()
    assert db.session.get(Order, placed[2].id).status == OrderStatus.PAID
    assert {line.state for line in db.session.scalars(select(StatementLine))} == {StatementLineState.CONFIRMED}

    lan.goto(f"/staff/shops/{home.slug}/orders/{placed[0].number}")
    page.fill("input[name=amount]", "50.000")
    page.fill("input[name=reference]", "FT26335REF1")
    page.fill("input[name=reason]", "khách trả lại một phần")
    lan.step("refund-filled")
    page.locator("form[action$='/refund'] button[type=submit]").click()
    page.wait_for_url(f"**/orders/{placed[0].number}")
    lan.step("refunded")
    lan.goto(f"/orders/{placed[0].number}?token={placed[0].access_token}")
    lan.step("customer-sees-refund")
    assert "50.000" in page.locator("main").inner_text()
    lan.close()
    db.session.expire_all()
    order = db.session.get(Order, placed[0].id)
    assert order.amount_refunded == 50_000 and order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert inventory.ledger_mismatches() == []
