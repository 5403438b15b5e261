"""robots.txt, the sitemap (both languages, bounded size) and favicon.ico answer at the site root."""
import xml.etree.ElementTree as ET

from shop import seo
from shop.extensions import db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def test_robots_txt_keeps_crawlers_out_of_private_pages_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for path in ("/cart", "/orders/", "/payments/", "/api/"):
        assert f"Disallow: {path}\n" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'href="/favicon.ico"' in client.get("/").get_data(as_text=True)


def locs(response) -> list[str]:
    assert response.status_code == 200 and response.mimetype == "application/xml"
    return [el.text for el in ET.fromstring(response.data).findall(".//s:loc", NS)]


def test_the_sitemap_lists_public_pages_in_both_languages(client, make_product, make_producer):
    coop = make_producer("Hợp tác xã Tài Hoan")
    coop.slug = "htx-tai-hoan"
    make_product("Miến dong Tài Hoan", slug="mien-dong", producer=coop)
    make_product("Chè đã bị thu hồi", slug="che-thu-hoi", producer=coop, cert_status="revoked")
    db.session.commit()
    response = client.get("/sitemap.xml")
    urls = locs(response)
    assert "http://localhost/products/mien-dong?lang=vi" in urls and "http://localhost/products/mien-dong?lang=en" in urls
    assert "http://localhost/producers/htx-tai-hoan?lang=en" in urls and "http://localhost/shops?lang=vi" in urls
    assert not any("che-thu-hoi" in u for u in urls)  # not on sale: not advertised
    assert not any(p in u for u in urls for p in ("/cart", "/orders", "/api"))
    assert len(urls) == 2 * (len(seo.STATIC_PAGES) + 2)
    root = ET.fromstring(response.data)
    first = root.find("s:url", NS)
    assert {(a.get("hreflang")) for a in first.findall("x:link", NS)} == {"vi", "en"}


def test_a_large_catalogue_gets_a_sitemap_index_of_bounded_parts(client, make_product, make_producer, monkeypatch):
    monkeypatch.setattr(seo, "URLS_PER_SITEMAP", 3)
    coop = make_producer("HTX")
    for n in range(4):
        make_product(f"Sản phẩm {n}", slug=f"san-pham-{n}", producer=coop)
    db.session.commit()
    total = len(seo.STATIC_PAGES) + 1 + 4  # 9 pages: 3 parts of 3
    index = client.get("/sitemap.xml")
    assert ET.fromstring(index.data).tag == "{%s}sitemapindex" % NS["s"]
    parts = locs(index)
    assert parts == [f"http://localhost/sitemap-{n}.xml" for n in (1, 2, 3)]
    seen = []
    for part in parts:
        urls = locs(client.get(part.removeprefix("http://localhost")))
        assert len(urls) <= 2 * 3
        seen += urls
    assert len(seen) == len(set(seen)) == 2 * total
    assert {f"http://localhost/products/san-pham-{n}?lang=vi" for n in range(4)} <= set(seen)
    assert client.get("/sitemap-4.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404
    monkeypatch.setattr(seo, "URLS_PER_SITEMAP", 100)
    assert client.get("/sitemap-1.xml").status_code == 404  # one file is enough: no parts


def test_pages_link_their_other_language_and_search_results_are_not_indexed(client, make_product):
    make_product("Miến dong Tài Hoan", slug="mien-dong")
    db.session.commit()
    page = client.get("/products/mien-dong").get_data(as_text=True)
    assert '<link rel="alternate" hreflang="vi" href="http://localhost/products/mien-dong?lang=vi">' in page
    assert '<link rel="alternate" hreflang="en" href="http://localhost/products/mien-dong?lang=en">' in page
    assert 'name="robots"' not in client.get("/products").get_data(as_text=True)
    for query in ("?q=mien", "?stars=5", "?sort=price_asc", "?in_stock=1"):
        listing = client.get("/products" + query).get_data(as_text=True)
        assert '<meta name="robots" content="noindex, follow">' in listing, query
