"""Kept public pages (shop/pagecache.py): served from the cache only while they are still true.

Every change that alters a page (product, certificate, stock, hold) and every instant at which
one lapses by the clock (hold expiry, certificate end) must show at once; per-visitor parts (cart
count, CSRF token, flashed messages, a signed-in session) never travel from one visitor to another.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shop import pagecache, timeutil
from shop.catalog import listing
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.timeutil import today_vn


def _travel(monkeypatch, later):
    """Move the clock of the page cache and of every reader a page uses to ``later``."""
    for target in ("shop.timeutil.utcnow", "shop.catalog.listing.utcnow", "shop.catalog.services.utcnow",
                   "shop.inventory.services.utcnow"):
        monkeypatch.setattr(target, lambda: later)


@pytest.fixture
def stocked(make_product, make_shop):
    product, shop = make_product(name="Miến dong Tài Hoan", price=100_000), make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, 2)
    db.session.commit()
    return product, shop


def _page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 304), response.status_code
    return response


def _add_form_max(html: str) -> int | None:
    match = re.search(r'name="quantity" value="1" min="1" max="(\d+)"', html)
    return int(match.group(1)) if match else None


def test_a_kept_page_is_served_without_the_views_queries_and_follows_a_product_change(client, stocked,
                                                                                     count_queries):
    product, _shop = stocked
    first = _page(client, "/products").get_data(as_text=True)
    assert "100.000" in first
    with count_queries() as queries:
        again = _page(client, "/products").get_data(as_text=True)
    assert again == first
    assert queries.count <= 2, queries.statements  # the two version tokens (+ the cart, when there is one)
    product.price = 120_000
    db.session.commit()
    assert "120.000" in _page(client, "/products").get_data(as_text=True)


def test_a_certificate_revoked_or_a_product_unlisted_shows_at_once(client, stocked):
    product, _shop = stocked
    assert product.name in _page(client, "/products").get_data(as_text=True)
    assert _add_form_max(_page(client, f"/products/{product.slug}").get_data(as_text=True)) == 2
    product.certificates[0].status = "revoked"
    db.session.commit()
    assert product.name not in _page(client, "/products").get_data(as_text=True)
    assert _add_form_max(_page(client, f"/products/{product.slug}").get_data(as_text=True)) is None


def test_stock_movements_and_holds_show_at_once(client, stocked):
    from tests.test_orders import CUSTOMER, DELIVERY, cart_with
    from shop.orders import services as orders

    product, shop = stocked
    url = f"/products/{product.slug}"
    assert _add_form_max(_page(client, url).get_data(as_text=True)) == 2
    inventory.receive(shop.id, product.id, 3)
    db.session.commit()
    assert _add_form_max(_page(client, url).get_data(as_text=True)) == 5
    orders.place_order(cart_with((product, 4)), CUSTOMER, DELIVERY, "bank_transfer")
    db.session.commit()
    assert _add_form_max(_page(client, url).get_data(as_text=True)) == 1
    reservation = db.session.scalars(db.select(Reservation)).one()
    inventory.release_reservation(reservation)
    db.session.commit()
    assert _add_form_max(_page(client, url).get_data(as_text=True)) == 5


@pytest.mark.no_read_model_check  # the clock moves for the code under test only
def test_a_hold_that_lapses_shows_at_its_expiry_instant(client, stocked, monkeypatch, count_queries):
    from tests.test_orders import CUSTOMER, DELIVERY, cart_with
    from shop.orders import services as orders

    product, _shop = stocked
    order = orders.place_order(cart_with((product, 2)), CUSTOMER, DELIVERY, "bank_transfer")
    db.session.commit()
    url = f"/products/{product.slug}"
    assert _add_form_max(_page(client, url).get_data(as_text=True)) is None  # both units held
    _travel(monkeypatch, order.hold_expires_at - timedelta(seconds=1))
    assert _add_form_max(_page(client, url).get_data(as_text=True)) is None  # kept, still true
    _travel(monkeypatch, order.hold_expires_at)
    assert _add_form_max(_page(client, url).get_data(as_text=True)) == 2  # the hold no longer counts
    with count_queries() as queries:
        assert _add_form_max(_page(client, url).get_data(as_text=True)) == 2
    assert queries.count <= 2, "the page rendered again is kept again"


@pytest.mark.no_read_model_check
def test_a_certificate_that_ends_leaves_the_catalogue_at_midnight(client, make_product, monkeypatch):
    today = today_vn()
    lapsing = make_product(name="Sắp hết hạn", issued_on=today - timedelta(days=30), expires_on=today)
    make_product(name="Còn hạn")
    db.session.commit()
    assert "Sắp hết hạn" in _page(client, "/products").get_data(as_text=True)
    _travel(monkeypatch, listing.vn_midnight(today + timedelta(days=1)) + timedelta(seconds=1))
    html = _page(client, "/products").get_data(as_text=True)
    assert "Sắp hết hạn" not in html and "Còn hạn" in html
    assert lapsing.current_stars is None


def test_etag_and_304_and_a_new_tag_after_a_change(client, stocked):
    product, shop = stocked
    first = _page(client, "/")
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    assert first.headers["Cache-Control"] in ("public, no-cache", "no-cache, public")
    assert "Cookie" in first.headers["Vary"]
    second = client.get("/", headers={"If-None-Match": tag})
    assert second.status_code == 304 and second.get_data() == b""
    inventory.receive(shop.id, product.id, 1)
    db.session.commit()
    third = client.get("/", headers={"If-None-Match": tag})
    assert third.status_code == 200 and third.headers["ETag"] != tag


def test_the_cart_count_is_per_visitor_and_a_cart_page_is_never_shared(app, client, stocked):
    from tests.test_orders import cart_with
    from shop.cart.views import _serializer

    product, _shop = stocked
    anonymous = _page(client, "/products")
    assert "cart-link__count" not in anonymous.get_data(as_text=True)
    with app.test_request_context():
        cookie = _serializer().dumps(cart_with((product, 2)))
    with_cart = app.test_client()
    with_cart.set_cookie(app.config["CART_COOKIE_NAME"], cookie)
    html = _page(with_cart, "/products").get_data(as_text=True)
    assert '<span class="cart-link__count" aria-hidden="true">2</span>' in html
    assert "private" in _page(with_cart, "/products").headers["Cache-Control"]
    assert "cart-link__count" not in _page(client, "/products").get_data(as_text=True)
    # The same body, only the live part differs.
    strip = lambda text: re.sub(r'<a class="cart-link".*?</a>', "", text, flags=re.S)  # noqa: E731
    assert strip(html) == strip(_page(client, "/products").get_data(as_text=True))
    # The product page's "view your cart" line is live too.
    product_html = _page(with_cart, f"/products/{product.slug}").get_data(as_text=True)
    assert "(2 " in product_html.split("add-to-cart", 1)[1]
    assert "add-to-cart" in _page(client, f"/products/{product.slug}").get_data(as_text=True)


def test_flashed_messages_and_signed_in_sessions_are_never_kept_or_shared(app, client, stocked):
    product, _shop = stocked
    url = f"/products/{product.slug}"
    _page(client, url)
    visitor = app.test_client()
    response = visitor.post("/cart/add", data={"product_id": product.id, "quantity": 1, "next": url})
    assert response.status_code == 302
    flashed = visitor.get(url)
    text = flashed.get_data(as_text=True)
    assert 'class="flash flash--success"' in text
    assert flashed.headers["Cache-Control"] in ("private, no-store", "no-store, private")
    assert "ETag" not in flashed.headers
    assert 'class="flash' not in _page(client, url).get_data(as_text=True)
    assert 'class="flash' not in visitor.get(url).get_data(as_text=True)  # shown once
    signed_in = app.test_client()
    with signed_in.session_transaction() as session:
        session["_user_id"] = "7"
    response = signed_in.get("/products")
    assert "no-store" in response.headers["Cache-Control"] and "ETag" not in response.headers


def test_csrf_tokens_are_filled_per_request(app, client, stocked):  # client: one g per request
    product, _shop = stocked
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        tokens = []
        for _ in range(2):
            html = app.test_client().get(f"/products/{product.slug}").get_data(as_text=True)
            tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', html).group(1))
        assert tokens[0] != tokens[1] and "\x00" not in tokens[0]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_per_visitor_value_outside_a_live_part_fails_while_a_page_is_kept(app):
    from flask import g, render_template_string

    with app.test_request_context("/"):
        g._pagecache_holes = []
        with pytest.raises(pagecache.PerVisitorValue):
            render_template_string("{{ cart_item_count() }}")
        assert "\x00" in render_template_string('{{ live("cart/_header_link.html") }}')
        g._pagecache_holes = None


def test_the_next_change_is_the_earliest_clock_instant(stocked):
    now = timeutil.utcnow()
    midnight = listing.vn_midnight(today_vn() + timedelta(days=1))
    assert pagecache.next_change(now) <= midnight


def test_a_store_that_fails_costs_speed_never_the_page(client, stocked, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(pagecache.cache, "get", broken)
    monkeypatch.setattr(pagecache.cache, "set", broken)
    pagecache._front.clear()
    assert "Miến dong Tài Hoan" in _page(client, "/products").get_data(as_text=True)


def test_pages_kept_in_redis_are_shared_and_follow_the_versions(app, client, stocked):
    """With CACHE_REDIS_URL (production), the same keys in a store all workers share."""
    import redis
    from flask_caching import Cache

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    shared = Cache()
    shared.init_app(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                                 "CACHE_KEY_PREFIX": f"ocop-test-{id(app)}:"})
    original = pagecache.cache
    pagecache.cache = shared
    try:
        product, shop = stocked
        pagecache._front.clear()
        first = _page(client, f"/products/{product.slug}").get_data(as_text=True)
        pagecache._front.clear()  # another worker: only the shared store
        assert _page(client, f"/products/{product.slug}").get_data(as_text=True).split("csrf")[0] == first.split("csrf")[0]
        inventory.receive(shop.id, product.id, 1)
        db.session.commit()
        assert _add_form_max(_page(client, f"/products/{product.slug}").get_data(as_text=True)) == 3
    finally:
        shared.clear()
        pagecache.cache = original


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_kept_pages_are_compressed_once_per_coding(client, stocked, coding, monkeypatch):
    import gzip

    import brotli
    from flask_compress import flask_compress

    calls = []
    original = flask_compress._compress_data
    monkeypatch.setattr(flask_compress, "_compress_data", lambda app, data, alg: (calls.append(alg), original(app, data, alg))[1])
    plain = _page(client, "/products").get_data()
    for _ in range(3):
        response = client.get("/products", headers={"Accept-Encoding": f"{coding}, identity"})
        assert response.headers["Content-Encoding"] == coding and "Accept-Encoding" in response.headers["Vary"]
        data = response.get_data()
        assert (brotli.decompress(data) if coding == "br" else gzip.decompress(data)) == plain
    assert calls == [coding]
