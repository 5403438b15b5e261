"""Security headers on every route, no inline script in any template, request ids, health checks."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from flask_migrate import downgrade, upgrade

from config import TestingConfig
from shop import create_app
from shop.extensions import db
from shop.headers import CONTENT_SECURITY_POLICY, DEFAULT_HEADERS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _sample_url(rule) -> str:
    """A URL for ``rule`` with made-up arguments: the headers must be there whatever it answers."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind in ("IntegerConverter", "IdConverter"):
            values[name] = 1
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "svg"
        else:
            values[name] = "khong-co"
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)
        path = re.sub(r"<[^<>]*\(.*?\):" + re.escape(name) + r">", str(value), path)
    return path


def test_every_route_sends_the_security_headers(app, client, make_product):
    make_product(name="Gạo Nếp Tài", slug="gao-nep-tai")
    checked = 0
    for rule in app.url_map.iter_rules():
        url = _sample_url(rule)
        assert "<" not in url, (rule.rule, url)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        response = client.open(url, method=method)
        # /readyz is 503 here on purpose: the test database is not migrated (see below).
        assert response.status_code < 500 or url == "/readyz", (method, url, response.status_code)
        for name, value in DEFAULT_HEADERS.items():
            assert name in response.headers, (method, url, name)
        assert "Strict-Transport-Security" not in response.headers  # development and tests are plain HTTP
        assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])
        checked += 1
    assert checked == len(list(app.url_map.iter_rules())) > 30


def test_the_policy_forbids_inline_script_framing_and_foreign_sources():
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'" and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self' https://checkout.stripe.com"  # card payment redirects there


def test_no_template_has_inline_script_event_handlers_or_style_attributes():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", source):
            if "src=" not in match[1] and 'type="application/ld+json"' not in match[1]:
                offenders.append(f"{template.name}: inline <script{match[1]}>")
        offenders += [f"{template.name}: {m[0]}" for m in re.finditer(r"\son[a-z]+\s*=", source)]
        offenders += [f"{template.name}: style attribute" for _ in re.finditer(r"\sstyle\s*=", source)]
    assert offenders == []


def test_a_view_keeps_its_own_stricter_referrer_policy(app, client, make_product, make_shop):
    from shop.inventory import services as inventory

    product = make_product(name="Miến dong Tài Hoan", stars=5)
    shop = make_shop("Cửa hàng OCOP", ships_online=True)
    inventory.receive(shop.id, product.id, 5)
    db.session.commit()
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    placed = client.post("/orders/checkout", data={
        "name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn", "fulfilment": "delivery",
        "street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên",
        "payment_method": "cod"})
    order_page = client.get(placed.headers["Location"])
    assert order_page.headers["Referrer-Policy"] == "no-referrer"  # secret link: never leaked
    assert client.get("/").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_hsts_is_sent_where_configured(tmp_path):
    secure = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'h.db'}",
                        HSTS_SECONDS=31_536_000)
    response = secure.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_request_id_from_the_proxy_is_kept_and_logged_and_a_bad_one_replaced(app, client, caplog):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c2e11"}).headers["X-Request-ID"] == "lb-7f3a9c2e11"
    for hostile in ("x", "a" * 200, "abc def ghi", "<script>alert(1)</script>", "ab\u0301cdefghij"):
        got = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert got != hostile and re.fullmatch(r"[0-9a-f]{16}", got)
    from flask.logging import default_handler

    record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", None, None)
    with app.test_request_context(headers={"X-Request-ID": "lb-0123456789"}):
        app.preprocess_request()
        for log_filter in default_handler.filters:
            log_filter.filter(record)
        assert "request=lb-0123456789" in default_handler.format(record)


def test_health_and_readiness(tmp_path, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    # The test database is built from the models, not migrated: not ready, and says why.
    not_migrated = client.get("/readyz")
    assert not_migrated.status_code == 503 and "revision" in not_migrated.get_json()["reason"]

    migrated = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'ready.db'}",
                          UPLOAD_FOLDER=str(tmp_path))
    with migrated.app_context():
        upgrade()
        ready = migrated.test_client().get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
        downgrade(revision="-1")
        behind = migrated.test_client().get("/readyz")
        assert behind.status_code == 503 and "migrations at" in behind.get_json()["reason"]
        db.engine.dispose()

    gone = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                      UPLOAD_FOLDER=str(tmp_path))
    down = gone.test_client().get("/readyz")
    assert down.status_code == 503 and down.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    assert gone.test_client().get("/healthz").status_code == 200


# Routes that change state without a CSRF token, and why: the JSON API authenticates nothing by
# cookie (a cross-site form cannot act as anyone); Stripe's webhook is proved by its signature.
CSRF_EXEMPT_PREFIXES = ("/api/v1/",)
CSRF_EXEMPT_ENDPOINTS = {"payments.stripe_webhook"}


def test_every_state_changing_route_refuses_a_post_without_its_csrf_token(app, client, monkeypatch, make_product):
    from flask_wtf.csrf import CSRFError

    from shop.extensions import csrf

    make_product(name="Gạo Nếp Tài", slug="gao-nep-tai")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused: list[str] = []
    protect = csrf.protect

    def spy(**kwargs):  # records that it was the CSRF check that refused the request
        from flask import request

        try:
            protect(**kwargs)
        except CSRFError:
            refused.append(request.path)
            raise

    monkeypatch.setattr(csrf, "protect", spy)
    checked = []
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if not methods or rule.endpoint in CSRF_EXEMPT_ENDPOINTS or rule.rule.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        url = _sample_url(rule)
        for method in sorted(methods):
            response = client.open(url, method=method, data={"quantity": "1", "product_id": "1"})
            assert response.status_code == 400, (method, url, response.status_code)
            assert refused and refused[-1] == url, (method, url, "not refused by the CSRF check")
            checked.append(url)
    assert len(checked) >= 6
