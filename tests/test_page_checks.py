"""Every page type, checked by tools nobody here wrote: the Nu HTML Checker (markup) and axe-core
(accessibility, in Debian's Chromium at a phone's and a desktop's width). Both must report 0 errors,
and the browser's console none either (a Content-Security-Policy refusal shows there).

The tools come from the npm registry, pinned in tests/tools/package.json (`make test` runs `npm ci`
there); the checker runs with the machine's Java. Skipped locally when Java, npm's tools or Chromium
are missing; in CI (CI=true) they are required, so a missing tool fails the run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from shop.extensions import db
from shop.inventory.models import Lot
from shop.producers.models import Producer
from shop.seed.demo import seed_demo

TOOLS = Path(__file__).resolve().parent / "tools" / "node_modules"
VNU_JAR = Path(os.environ.get("VNU_JAR", TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"))
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))
GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn", "fulfilment": "delivery",
         "street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên",
         "payment_method": "bank_transfer"}


def _require(condition: bool, what: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{what} is required in CI")
        pytest.skip(f"{what} is missing (run `make test`, which installs tests/tools with npm ci)")


def demo_pages(client) -> dict[str, str]:
    """Seed the demo, place a bank-transfer order with a bad first try, and return the path of one
    page of each type (both languages are checked by the callers)."""
    seed_demo()
    product_slug = "gao-nep-tai"
    producer = db.session.scalars(select(Producer).order_by(Producer.id)).first()
    lot = db.session.scalars(select(Lot).order_by(Lot.id)).first()
    client.post("/cart/add", data={"product_id": _product_id(client, product_slug), "quantity": 2})
    placed = client.post("/orders/checkout", data=GUEST)
    assert placed.status_code == 302, placed.get_data(as_text=True)[:500]
    # A fresh cart with one line, so the cart and checkout pages show their forms and lines.
    client.post("/cart/add", data={"product_id": _product_id(client, "mien-dong-tai-hoan"), "quantity": 1})
    return {
        "home": "/",
        "catalogue": "/products",
        "catalogue, filtered": "/products?stars=5&sort=price_asc",
        "search": "/products?q=mien+dong",
        "search, nothing found": "/products?q=xyzzy",
        "product": f"/products/{product_slug}",
        "producers": "/producers",
        "producer": f"/producers/{producer.slug}",
        "shops": "/shops",
        "cart": "/cart",
        "checkout": "/orders/checkout",
        "order": placed.headers["Location"],
        "trace, product": f"/q/{lot.product_id}",
        "trace, lot": f"/q/{lot.product_id}/{lot.id}",
        "stamp sheet": f"/q/stamps/lot/{lot.id}",
        "API docs": "/api/v1/docs",
        "not found": "/products/khong-co",
    }


def _product_id(client, slug: str) -> int:
    from shop.catalog.models import Product

    return db.session.scalars(select(Product.id).where(Product.slug == slug)).one()


def _language(client, lang: str) -> None:
    client.get(f"/?lang={lang}")


def test_the_nu_html_checker_finds_no_error_on_any_page_type(client, tmp_path):
    java = shutil.which("java")
    _require(java is not None, "Java (for the Nu HTML Checker)")
    _require(VNU_JAR.is_file(), f"the Nu HTML Checker ({VNU_JAR})")
    pages = demo_pages(client)
    files = []
    for lang in ("vi", "en"):
        _language(client, lang)
        checkout_errors = client.post("/orders/checkout", data={"name": ""})  # a form with every error shown
        pages_now = dict(pages, **{"checkout, with errors": None})
        for name, path in pages_now.items():
            response = checkout_errors if path is None else client.get(path)
            assert response.status_code in (200, 400, 404), (name, response.status_code)
            target = tmp_path / f"{lang}-{re.sub(r'[^a-z]+', '-', name)}.html"
            target.write_bytes(response.data)
            files.append(target)
    run = subprocess.run([java, "-jar", str(VNU_JAR), "--format", "json", "--errors-only", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')}" for m in messages
              if m.get("type") in ("error", "non-document-error")]
    assert errors == [], "\n".join(errors)
    assert len(files) == 2 * (len(pages) + 1)


@pytest.fixture
def live_server(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_axe_finds_no_violation_on_any_page_type_at_phone_and_desktop_width(app, client, live_server):
    _require(AXE_JS.is_file(), f"axe-core ({AXE_JS})")
    _require(shutil.which(CHROMIUM) is not None, f"Chromium ({CHROMIUM})")
    sync_api = pytest.importorskip("playwright.sync_api")
    app.config["WTF_CSRF_ENABLED"] = False  # demo_pages posts through the test client
    pages = demo_pages(client)
    app.config["WTF_CSRF_ENABLED"] = True
    cookies = [{"name": c.key, "value": c.value, "url": live_server} for c in client._cookies.values()]
    axe_source = AXE_JS.read_text(encoding="utf-8") + "\n;undefined"
    found: list[str] = []
    views = 0
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            for width, height in ((390, 844), (1280, 900)):
                for lang in ("vi", "en"):
                    context = browser.new_context(viewport={"width": width, "height": height},
                                                  locale="vi-VN" if lang == "vi" else "en-US")
                    context.add_cookies(cookies)  # the test client's cart, so that page has lines
                    page = context.new_page()
                    page.set_default_timeout(20_000)
                    # A Content-Security-Policy refusal or a broken script shows as a console error.
                    page.on("console", lambda message, w=width, l=lang: message.type == "error" and not (
                        message.location.get("url") == live_server + pages["not found"]  # its own 404
                    ) and found.append(f"{w}px {l} {page.url}: console error: {message.text}"))
                    page.on("pageerror", lambda error, w=width, l=lang: found.append(
                        f"{w}px {l} {page.url}: uncaught: {error}"))
                    page.goto(f"{live_server}/?lang={lang}")
                    for name, path in pages.items():
                        page.goto(live_server + path)
                        page.evaluate(axe_source)  # through DevTools: the page's CSP stays on
                        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
                        views += 1
                        for violation in result["violations"]:
                            targets = [", ".join(n["target"]) for n in violation["nodes"]][:3]
                            found.append(f"{width}px {lang} {name}: {violation['id']} "
                                         f"({violation['impact']}) {targets}")
                    context.close()
        finally:
            browser.close()
    assert found == [], "\n".join(found)
    assert views == 4 * len(pages)
