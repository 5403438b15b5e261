"""What a share preview (Zalo, Facebook) and a search engine read from the public pages: canonical
URL, language alternates, Open Graph tags and schema.org JSON-LD."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from shop.cart.models import Cart
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders


class Head(HTMLParser):
    """The <link>, <meta> and JSON-LD of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.links, self.meta, self.json_ld, self._in_ld = [], {}, [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            self.links.append(attrs)
        elif tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta.setdefault(attrs.get("property") or attrs["name"], []).append(attrs.get("content"))
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_ld = True

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        self._in_ld = False

    def link(self, rel: str, hreflang: str | None = None) -> list[str]:
        return [l["href"] for l in self.links if l.get("rel") == rel and l.get("hreflang") == hreflang]


def head_of(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    return Head(response.get_data(as_text=True))


@pytest.fixture
def nep(make_product, make_producer, make_shop, make_locality):
    producer = make_producer("Hợp tác xã Yến Dương", locality=make_locality("Ba Bể", "district"),
                             address="Thôn Khuổi Luông, xã Yến Dương", phone="0983217504",
                             story="Người Tày ở **Yến Dương** giữ giống lúa Nếp Tài.")
    product = make_product("Gạo Nếp Tài", stars=4, price=210_000, slug="gao-nep-tai", producer=producer,
                           name_en="Nếp Tài sticky rice", image="products/gao-nep-tai.jpg",
                           description="Hạt gạo tròn, trắng đục như sữa.")
    shop = make_shop("Cửa hàng OCOP Bắc Kạn", ships_online=True)
    inventory.receive(shop.id, product.id, 3)
    db.session.commit()
    return product


def test_a_product_page_gives_its_name_picture_price_and_availability(client, nep):
    head = head_of(client, "/products/gao-nep-tai?lang=en")
    assert head.meta["og:type"] == ["product"]
    assert head.meta["og:title"] == ["Nếp Tài sticky rice"]
    assert head.meta["og:image"] == ["http://localhost/media/products/gao-nep-tai.jpg"]
    assert head.meta["og:url"] == ["http://localhost/products/gao-nep-tai?lang=en"]
    assert head.meta["product:price:amount"] == ["210000"] and head.meta["product:price:currency"] == ["VND"]
    assert head.meta["og:locale"] == ["en_US"] and head.meta["og:locale:alternate"] == ["vi_VN"]

    [product] = [d for d in head.json_ld if d["@type"] == "Product"]
    assert product["name"] == "Nếp Tài sticky rice"
    assert product["image"] == ["http://localhost/media/products/gao-nep-tai.jpg"]
    assert product["brand"] == {"@type": "Organization", "name": "Hợp tác xã Yến Dương",
                                "url": "http://localhost/producers/" + nep.producer.slug + "?lang=en"}
    offer = product["offers"]
    assert (offer["@type"], offer["price"], offer["priceCurrency"]) == ("Offer", 210_000, "VND")
    assert offer["availability"] == "https://schema.org/InStock"

    # Live stock: once every unit is held by an order, the same page says out of stock.
    assert client.post("/cart/add", data={"product_id": nep.id, "quantity": 3}).status_code == 302
    cart = db.session.query(Cart).one()
    orders.place_order(cart.token, orders.Customer("Nguyễn Thị Lan", "0912345678", "lan@example.vn"),
                       orders.Fulfilment("delivery", street="12 Trường Chinh", ward="Đức Xuân",
                                         province="Thái Nguyên"), "cod")
    db.session.commit()
    head = head_of(client, "/products/gao-nep-tai")
    [product] = [d for d in head.json_ld if d["@type"] == "Product"]
    assert product["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert head.meta["product:availability"] == ["out of stock"]


def test_a_product_without_a_valid_certificate_has_no_offer(client, make_product):
    make_product("Măng khô Pác Nặm", stars=3, slug="mang-kho", cert_status="revoked")
    db.session.commit()
    head = head_of(client, "/products/mang-kho")
    [product] = [d for d in head.json_ld if d["@type"] == "Product"]
    assert "offers" not in product and "product:price:amount" not in head.meta


def test_a_producer_page_describes_the_organisation(client, nep):
    head = head_of(client, f"/producers/{nep.producer.slug}?lang=vi")
    [org] = [d for d in head.json_ld if d["@type"] == "Organization"]
    assert org["name"] == "Hợp tác xã Yến Dương" and org["telephone"] == "+84983217504"
    assert org["address"]["streetAddress"] == "Thôn Khuổi Luông, xã Yến Dương"
    assert org["address"]["addressCountry"] == "VN"
    assert org["description"] == "Người Tày ở Yến Dương giữ giống lúa Nếp Tài."


@pytest.mark.parametrize("path", ["/", "/products", "/products/gao-nep-tai", "/producers", "/shops",
                                  "/producers/{producer}"])
def test_every_public_page_names_its_canonical_url_and_its_languages(client, nep, path):
    path = path.format(producer=nep.producer.slug)
    head = head_of(client, path + "?lang=en&utm_source=zalo")
    base = "http://localhost" + path
    assert head.link("canonical") == [base + "?lang=en"]
    assert head.link("alternate", "vi") == [base + "?lang=vi"]
    assert head.link("alternate", "en") == [base + "?lang=en"]
    assert head.link("alternate", "x-default") == [base]
    assert head.meta["og:url"] == [base + "?lang=en"] and head.meta["og:title"][0]


def test_pages_keep_their_page_number_and_private_pages_name_no_canonical(client, nep):
    assert head_of(client, "/products?page=2&lang=vi").link("canonical") == [
        "http://localhost/products?lang=vi&page=2"]
    for path in ("/cart", "/no-such-page"):
        response = client.get(path)
        assert 'rel="canonical"' not in response.get_data(as_text=True) and "og:title" not in response.get_data(as_text=True)


def test_search_results_are_not_indexed(client, nep):
    html = client.get("/products?q=nep").get_data(as_text=True)
    assert re.search(r'<meta name="robots" content="noindex[^"]*">', html)
