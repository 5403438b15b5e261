"""The catalogue's filter menus and place names on the demo catalogue (issue 8, item 14).

Every option a menu offers must find what it promises: a shopper who picks "Thái Nguyên" or a
district gets its products, never an empty page, and subgroups can be picked as well as groups.
"""
from __future__ import annotations

import re
from html import unescape

import pytest

from shop.catalog.services import CatalogFilters, browse, facets
from shop.seed.demo import seed_demo


@pytest.fixture
def demo(app):
    seed_demo()


def options(html: str, select_id: str) -> list[tuple[str, str]]:
    """(value, label) of each option of the <select> with this id, label as shown."""
    block = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return [(value, unescape(label)) for value, label in
            re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block)]


def test_every_menu_option_finds_products_and_none_is_empty(client, demo):
    html = client.get("/products").get_data(as_text=True)
    menus = {"group": options(html, "f-group"), "producer": options(html, "f-producer"),
             "locality": options(html, "f-locality")}
    for name, menu in menus.items():
        assert menu[0][0] == "" and len(menu) > 2, name
        for value, label in menu[1:]:
            api = client.get(f"/api/v1/products?{name}={value}&per_page=1").get_json()
            page = client.get(f"/products?{name}={value}").get_data(as_text=True)
            assert api["total"] >= 1, (name, value, label)
            assert f'value="{value}" selected' in page, (name, value)  # the form shows what is applied
    places = [label.strip("\xa0") for _value, label in menus["locality"]]
    # Today's province first, the merged one inside it, then its districts and communes.
    assert places[1:3] == ["Thái Nguyên", "Bắc Kạn (cũ)"] and "Na Rì" in places and "Côn Minh" in places
    assert "Chợ Rã" not in places  # a town with a shop but no producer: not offered
    groups = [label for _value, label in menus["group"]]
    assert "Thực phẩm" in groups and "\xa0\xa0\xa0Thực phẩm chế biến" in groups  # subgroups, indented


def test_thai_nguyen_finds_what_a_search_for_it_finds(client, demo):
    """Bắc Kạn merged into Thái Nguyên on 1/7/2025: the place filter follows the merger, as search does."""
    by_place = client.get("/api/v1/products?locality=thai-nguyen&per_page=100").get_json()
    by_search = client.get("/api/v1/products?q=thai%20nguyen&per_page=100").get_json()
    assert by_place["total"] == by_search["total"] >= 40
    assert {i["id"] for i in by_place["items"]} == {i["id"] for i in by_search["items"]}
    assert by_place["total"] == client.get("/api/v1/products?locality=bac-kan&per_page=1").get_json()["total"]
    html = client.get("/products?locality=thai-nguyen").get_data(as_text=True)
    assert f'{by_place["total"]} sản phẩm' in html


def test_chosen_empty_option_stays_shown(client, demo):
    menus = facets(CatalogFilters(locality="cho-ra"))
    assert [o.obj.slug for o in menus["localities"] if o.count == 0] == ["cho-ra"]
    html = client.get("/products?locality=cho-ra").get_data(as_text=True)
    assert 'value="cho-ra" selected' in html and "0 sản phẩm" in html


def test_addresses_say_where_the_place_is_today(client, demo):
    producer = client.get("/producers/htx-tai-hoan").get_data(as_text=True)
    assert "Côn Minh, Na Rì, Bắc Kạn (nay thuộc Thái Nguyên)" in producer
    shops = client.get("/shops").get_data(as_text=True)
    assert "Yến Lạc, Na Rì, Bắc Kạn (nay thuộc Thái Nguyên)" in shops
    english = client.get("/producers/htx-tai-hoan?lang=en").get_data(as_text=True)
    assert "Côn Minh, Na Rì, Bắc Kạn (now part of Thái Nguyên)" in english
    product = client.get("/products/mien-dong-tai-hoan?lang=vi").get_data(as_text=True)
    assert "(nay thuộc Thái Nguyên)" in product
    api = client.get("/api/v1/producers").get_json()["items"]
    tai_hoan = next(p for p in api if p["slug"] == "htx-tai-hoan")
    assert (tai_hoan["locality"], tai_hoan["locality_today"]) == ("Côn Minh, Na Rì, Bắc Kạn", "Thái Nguyên")


def test_shop_addresses_on_checkout_order_page_and_email_name_today_s_province(client, demo, monkeypatch):
    """The pick-up shop's address, wherever a customer reads it, says where it is on today's map."""
    sent = []
    monkeypatch.setattr("shop.orders.notifications.send_mail",
                        lambda to, subject, body: sent.append(body))
    nep = client.get("/api/v1/products?q=nep%20tai").get_json()["items"][0]
    client.post("/cart/add", data={"product_id": nep["id"], "quantity": 1})
    checkout = client.get("/orders/checkout?lang=vi").get_data(as_text=True)
    central = "Số 8 đường Trường Chinh, phường Đức Xuân, thành phố Bắc Kạn"  # the one shop with this rice
    assert f"{central} (nay thuộc Thái Nguyên)" in checkout

    shop = next(s for s in client.get("/api/v1/shops").get_json()["items"] if s["slug"] == "ocop-bac-kan-trung-tam")
    assert shop["locality_today"] == "Thái Nguyên"
    cart = client.post("/api/v1/carts").get_json()["token"]
    client.put(f"/api/v1/carts/{cart}/items/{nep['id']}", json={"quantity": 1})
    placed = client.post("/api/v1/orders", json={
        "cart_token": cart, "customer": {"name": "John Smith", "phone": "0912345678", "email": "john@example.com"},
        "fulfilment": {"type": "pickup", "shop_id": shop["id"]}, "payment_method": "pay_at_shop"})
    assert placed.status_code == 201, placed.get_json()
    page = client.get(placed.get_json()["order_url"] + "&lang=en").get_data(as_text=True)
    assert f"{central} (now part of Thái Nguyên)" in page
    assert f"{central} (nay thuộc Thái Nguyên)" in sent[-1]  # the email is in the order's language


def test_address_label_adds_only_what_the_text_lacks(app):
    from shop.places.models import Locality
    from shop.places.services import address_label

    thai_nguyen = Locality(name="Thái Nguyên", kind="province", slug="tn")
    bac_kan = Locality(name="Bắc Kạn", kind="province", slug="bk", successor=thai_nguyen)
    ward = Locality(name="Đức Xuân", kind="ward", slug="dx",
                    parent=Locality(name="Thành phố Bắc Kạn", kind="city", slug="tp", parent=bac_kan))
    assert address_label("Số 8 Trường Chinh, thành phố Bắc Kạn", ward) == \
        "Số 8 Trường Chinh, thành phố Bắc Kạn (nay thuộc Thái Nguyên)"
    assert address_label("Tổ 3, thị trấn Yến Lạc", ward) == "Tổ 3, thị trấn Yến Lạc, Bắc Kạn (nay thuộc Thái Nguyên)"
    assert address_label("Tổ 1, Thái Nguyên", Locality(name="Phổ Yên", kind="ward", slug="py", parent=thai_nguyen)) \
        == "Tổ 1, Thái Nguyên"
    assert address_label("12 Hàng Bạc", None) == "12 Hàng Bạc"
