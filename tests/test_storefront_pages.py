"""The public pages as a visitor sees them: Vietnamese by default, badges only while valid."""
from datetime import timedelta

import pytest

from shop.extensions import db
from shop.inventory import services as inventory
from shop.timeutil import today_vn


@pytest.fixture
def catalogue(make_locality, make_producer, make_product, make_certificate, make_shop):
    province = make_locality("Bắc Kạn", "province", slug="bac-kan")
    na_ri = make_locality("Na Rì", "district", parent=province, slug="na-ri")
    tai_hoan = make_producer("HTX Tài Hoan", locality=na_ri, story="Miến dong **thủ công**.")
    shop = make_shop("Cửa hàng OCOP Ba Bể", slug="ba-be", latitude=22.41, longitude=105.62,
                     opening_hours="Thứ 2 – Thứ 6: 7:30 – 17:30\nThứ 7: 8:00 – 12:00")
    today = today_vn()
    products = {
        "valid": make_product("Miến dong Tài Hoan", stars=5, price=110_000, producer=tai_hoan, slug="mien"),
        "expired": make_product("Gạo nếp cũ", stars=3, producer=tai_hoan, slug="gao-cu",
                                issued_on=today - timedelta(days=1200), expires_on=today - timedelta(days=5)),
        "revoked": make_product("Trà nếp hỏng", stars=None, producer=tai_hoan, slug="tra-hong"),
    }
    make_certificate(products["revoked"], stars=4, status="revoked", revocation_decision="999/QĐ-UBND",
                     revoked_on=today - timedelta(days=3), revocation_reason="vi phạm an toàn thực phẩm")
    inventory.receive(shop.id, products["valid"].id, 12)
    db.session.commit()
    return products


def page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_home_is_vietnamese_by_default_and_english_on_request(client, catalogue):
    status, html = page(client, "/")
    assert status == 200
    assert '<html lang="vi">' in html
    assert "Sản phẩm" in html and "Nhà sản xuất" in html and "Cửa hàng" in html
    assert "OCOP 5 sao" in html
    status, html = page(client, "/?lang=en")
    assert '<html lang="en">' in html and "OCOP 5 stars" in html
    # The choice sticks through the cookie.
    assert '<html lang="en">' in page(client, "/products")[1]


def test_catalogue_lists_only_sellable_products_with_counts(client, catalogue):
    status, html = page(client, "/products")
    assert status == 200
    assert "1 sản phẩm" in html
    assert "Miến dong Tài Hoan" in html and "Gạo nếp cũ" not in html and "Trà nếp hỏng" not in html
    assert "110.000" in html and "Còn hàng" in html


def test_search_shows_what_was_searched_for(client, catalogue):
    status, html = page(client, "/products?q=mien")
    assert status == 200 and "Kết quả cho “mien”" in html


@pytest.mark.parametrize("query", [
    "page=abc", "stars=9", "min_price=-5", "sort=evil", "q=" + "x" * 10_000, "page=999999",
    "max_price=1e99", "group=%00", "locality=" + "z" * 500, "in_stock=maybe",
])
def test_junk_query_parameters_never_fail(client, catalogue, query):
    status, html = page(client, "/products?" + query)
    assert status == 200
    assert "x" * 200 not in html  # a pasted essay is not echoed into every link


def test_filters_that_cannot_be_used_are_named_in_a_notice(client, catalogue):
    status, html = page(client, "/products?page=abc&min_price=-5&in_stock=maybe&stars=5")
    assert status == 200 and 'id="filters-ignored"' in html
    notice = html.split('id="filters-ignored">')[1].split("</p>")[0]
    assert notice == ("Một số bộ lọc trong địa chỉ không dùng được như đã ghi nên đã được bỏ qua: "
                      "Giá thấp nhất, Chỉ hiện hàng còn, Trang.".replace("Chỉ hiện hàng còn", filter_label("in_stock")))
    assert "Miến dong Tài Hoan" in html  # the stars filter that could be read still applies
    # Unknown parameters (tracking tags) and empty form fields are not worth a word.
    status, html = page(client, "/products?utm_source=zalo&fbclid=x&group=&min_price=&lang=vi")
    assert status == 200 and 'id="filters-ignored"' not in html and "Miến dong Tài Hoan" in html


def filter_label(name):
    from shop.catalog.views import filter_labels

    return filter_labels()[name]


def test_pages_and_api_read_filters_alike(client, catalogue):
    """One reader for both: the same query string lists the same products on the page and the API."""
    for query in ("stars=5", "in_stock=1", "min_price=100000&max_price=120000", "locality=bac-kan",
                  "q=mien&sort=name", "stars=3"):
        api = client.get("/api/v1/products?" + query).get_json()
        html = page(client, "/products?" + query)[1]
        assert api["total"] == int(html.split('page-head__count" role="status">')[1].split(" ")[0]), query
        for item in api["items"]:
            assert item["name"] in html


def test_an_empty_result_offers_to_clear_the_filters(client, catalogue):
    status, html = page(client, "/products?q=khong-co-gi")
    assert status == 200 and "Bỏ tất cả bộ lọc" in html


def test_valid_product_shows_badge_price_record_and_where_to_buy(client, catalogue):
    status, html = page(client, "/products/mien")
    assert status == 200
    assert "OCOP 5 sao" in html and "110.000" in html
    assert "Còn hiệu lực" in html and "cấp tỉnh" in html
    assert 'href="/shops#shop-ba-be"' in html and "còn 12" in html


def test_expired_product_stays_reachable_without_badge_or_price(client, catalogue):
    status, html = page(client, "/products/gao-cu")
    assert status == 200
    expired_on = (today_vn() - timedelta(days=5)).strftime("%d/%m/%Y")
    assert f"đã hết hạn ngày {expired_on} — sản phẩm tạm ngừng bán" in html
    assert "OCOP 3 sao" not in html and "star-badge" not in html
    assert "Nơi mua" not in html and "Còn hàng" not in html


def test_revoked_product_names_the_decision_and_reason(client, catalogue):
    status, html = page(client, "/products/tra-hong")
    assert status == 200
    assert "đã bị thu hồi theo quyết định 999/QĐ-UBND" in html
    assert "vi phạm an toàn thực phẩm" in html
    assert "star-badge" not in html and "Đã thu hồi" in html


def test_unknown_pages_get_a_friendly_404_in_the_visitors_language(client, catalogue):
    for url in ("/products/does-not-exist", "/producers/nope", "/no-such-page"):
        status, html = page(client, url)
        assert status == 404
        assert "Về trang chủ" in html
    status, html = page(client, "/producers/nope?lang=en")
    assert status == 404 and "We could not find that producer." in html


def test_producer_page_lists_products_on_sale_and_those_paused(client, catalogue):
    producer = catalogue["valid"].producer
    status, html = page(client, f"/producers/{producer.slug}")
    assert status == 200
    assert "Hợp tác xã" in html and "Na Rì, Bắc Kạn" in html
    assert "<strong>thủ công</strong>" in html
    assert "Tạm ngừng bán" in html and "Gạo nếp cũ" in html and "Trà nếp hỏng" in html
    status, html = page(client, "/producers")
    assert status == 200 and producer.name in html


def test_shops_page_has_anchors_phone_hours_and_map_link(client, catalogue):
    status, html = page(client, "/shops")
    assert status == 200
    assert 'id="shop-ba-be"' in html
    assert "Nhận hàng tại cửa hàng" in html and "Giao hàng toàn quốc" in html
    assert "openstreetmap.org" in html and 'target="_blank"' in html
    assert "Thứ 2 – Thứ 6" in html
