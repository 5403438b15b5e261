"""Markup that assistive technology and validators read correctly: star ratings with a role,
<time datetime> in whole seconds, the 404 code in readable contrast, scrollable tables that the
keyboard can reach."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from shop.extensions import db
from shop.inventory import services as inventory

ROOT = Path(__file__).resolve().parents[1]
GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn", "fulfilment": "delivery",
         "street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên", "payment_method": "cod"}


@pytest.fixture
def ordered(client, make_product, make_shop):
    product = make_product("Miến dong Tài Hoan", stars=5, slug="mien-dong")
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    inventory.receive(shop.id, product.id, 10)
    db.session.commit()
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    cart = client.get("/cart").get_data(as_text=True)
    placed = client.post("/orders/checkout", data=GUEST)
    assert placed.status_code == 302
    return {"cart": cart, "order": client.get(placed.headers["Location"]).get_data(as_text=True),
            "product": client.get("/products/mien-dong").get_data(as_text=True)}


def test_star_ratings_are_images_with_a_name(ordered):
    for page in ("cart", "order"):
        stars = re.findall(r'<span class="stars"[^>]*>', ordered[page])
        assert stars and all('role="img"' in s and "aria-label=" in s for s in stars), page


def test_times_are_given_to_the_second(ordered):
    stamps = re.findall(r'<time[^>]*datetime="([^"]+)"', ordered["order"])
    assert stamps
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)?)?", stamp), stamp


def test_scrollable_tables_can_be_reached_with_the_keyboard(ordered, client):
    for page in ("product", "order"):
        wrappers = re.findall(r'<div class="table-scroll"[^>]*>', ordered[page])
        assert wrappers, page
        for wrapper in wrappers:
            assert 'tabindex="0"' in wrapper and 'role="region"' in wrapper and "aria-label" in wrapper, wrapper
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert re.findall(r"<table\b", docs) and all('tabindex="0"' in t for t in re.findall(r"<table\b[^>]*>", docs))
    assert all('tabindex="0"' in t for t in re.findall(r"<pre\b[^>]*>", docs))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_error_page_code_has_enough_contrast(client):
    assert 'class="error-page__status"' in client.get("/no-such-page").get_data(as_text=True)
    css = (ROOT / "static/css/site.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    rule = re.search(r"\.error-page__status \{[^}]*color: var\(--([\w-]+)\)", css).group(1)
    background = re.search(r"body \{[^}]*background: var\(--([\w-]+)\)", css).group(1)
    lighter, darker = sorted((_luminance(colours[rule]), _luminance(colours[background])), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5
