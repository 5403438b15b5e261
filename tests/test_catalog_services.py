"""Browsing and searching the catalogue through shop.catalog.services."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shop.catalog.services import CatalogFilters, browse, parse_filters, product_detail, read_filters
from shop.errors import NotFound
from shop.extensions import db
from shop.inventory import services as inventory
from shop.timeutil import today_vn


@pytest.fixture
def bac_kan(make_locality, make_producer, make_product, make_group):
    """A small slice of the real Bắc Kạn catalogue."""
    thai_nguyen = make_locality("Thái Nguyên", "province", slug="thai-nguyen")
    province = make_locality("Bắc Kạn", "province", successor=thai_nguyen, slug="bac-kan")
    na_ri = make_locality("Na Rì", "district", parent=province, slug="na-ri")
    con_minh = make_locality("Côn Minh", "commune", parent=na_ri, slug="con-minh")
    ba_be = make_locality("Ba Bể", "district", parent=province, slug="ba-be")
    food = make_group("I", "Thực phẩm", "Food")
    herbal = make_group("III", "Dược liệu", "Herbal products")
    tai_hoan = make_producer("HTX Tài Hoan", locality=con_minh)
    yen_duong = make_producer("Hợp tác xã Yến Dương", locality=ba_be)
    bac_ha = make_producer("Công ty CP công nghệ dược liệu Bắc Hà", kind="company", locality=province)
    products = {
        "mien": make_product("Miến dong Tài Hoan", stars=5, price=110_000, producer=tai_hoan, group=food),
        "bun": make_product("Bún khô", stars=3, price=45_000, producer=tai_hoan, group=food),
        "nep": make_product("Gạo Nếp Tài", stars=4, price=200_000, producer=yen_duong, group=food),
        "vicumax": make_product("Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin", stars=4,
                                price=550_000, producer=bac_ha, group=herbal),
        "expired": make_product("Gạo nếp cũ", stars=3, producer=yen_duong, group=food,
                                issued_on=today_vn() - timedelta(days=1200),
                                expires_on=today_vn() - timedelta(days=5)),
        "revoked": make_product("Trà nếp hỏng", stars=4, producer=yen_duong, group=food, cert_status="revoked"),
    }
    db.session.commit()
    return products


def names(page):
    return [item.product.name for item in page.items]


@pytest.mark.parametrize("query, expected_first", [
    ("nep tai", "Gạo Nếp Tài"),
    ("NẾP TÀI", "Gạo Nếp Tài"),
    ("MIEN DONG", "Miến dong Tài Hoan"),
    ("mien dong na ri", "Miến dong Tài Hoan"),
    ("vicumax", "Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin"),
    ("suc khoe", "Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin"),
])
def test_search_ignores_diacritics_and_case(bac_kan, query, expected_first):
    page = browse(CatalogFilters(q=query, sort="relevance"))
    assert names(page)[0] == expected_first


def test_search_ranks_name_matches_before_producer_matches(bac_kan):
    page = browse(CatalogFilters(q="tai hoan", sort="relevance"))
    # "Bún khô" matches only through its producer, HTX Tài Hoan.
    assert names(page) == ["Miến dong Tài Hoan", "Bún khô"]


def test_search_finds_products_by_place_as_certified_and_by_todays_province(bac_kan):
    assert set(names(browse(CatalogFilters(q="con minh")))) == {"Miến dong Tài Hoan", "Bún khô"}
    # Bắc Kạn merged into Thái Nguyên on 1/7/2025: both names find its products.
    assert "Gạo Nếp Tài" in names(browse(CatalogFilters(q="thai nguyen")))
    assert "Gạo Nếp Tài" in names(browse(CatalogFilters(q="bac kan")))


def test_search_never_shows_products_without_a_valid_certificate(bac_kan):
    assert names(browse(CatalogFilters(q="nep"))) == ["Gạo Nếp Tài"]
    assert browse(CatalogFilters()).total == 4


def test_sql_wildcards_in_queries_are_literal(bac_kan):
    assert browse(CatalogFilters(q="%")).total == 0
    assert browse(CatalogFilters(q="_")).total == 0


def test_filters_by_stars_group_producer_locality_and_price(bac_kan):
    assert names(browse(CatalogFilters(stars=[5]))) == ["Miến dong Tài Hoan"]
    assert set(names(browse(CatalogFilters(stars=[3, 5])))) == {"Miến dong Tài Hoan", "Bún khô"}
    herbal = bac_kan["vicumax"].group.slug
    assert names(browse(CatalogFilters(group=herbal))) == ["Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin"]
    producer = bac_kan["nep"].producer.slug
    assert names(browse(CatalogFilters(producer=producer))) == ["Gạo Nếp Tài"]
    # A district includes the communes below it.
    assert set(names(browse(CatalogFilters(locality="na-ri")))) == {"Miến dong Tài Hoan", "Bún khô"}
    assert names(browse(CatalogFilters(min_price=100_000, max_price=250_000, sort="price_asc"))) == [
        "Miến dong Tài Hoan", "Gạo Nếp Tài"]


def test_in_stock_filter_and_availability(bac_kan, make_shop):
    shop = make_shop()
    inventory.receive(shop.id, bac_kan["nep"].id, 7)
    db.session.commit()
    page = browse(CatalogFilters(in_stock=True))
    assert [(i.product.name, i.available) for i in page.items] == [("Gạo Nếp Tài", 7)]


def test_sorting_and_pagination(bac_kan):
    first = browse(CatalogFilters(sort="price_desc", page=1), per_page=3)
    second = browse(CatalogFilters(sort="price_desc", page=2), per_page=3)
    assert first.total == 4 and first.pages == 2 and first.has_next and not second.has_next
    assert names(first) + names(second) == ["Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin",
                                            "Gạo Nếp Tài", "Miến dong Tài Hoan", "Bún khô"]
    # A page past the end shows the last page rather than nothing.
    assert names(browse(CatalogFilters(sort="price_desc", page=99), per_page=3)) == ["Bún khô"]


@pytest.mark.parametrize("args, expected, problems", [
    ({"page": "abc"}, CatalogFilters(page=1), ["page"]),
    ({"page": "-4"}, CatalogFilters(page=1), ["page"]),
    ({"page": "9" * 4301}, CatalogFilters(page=1), ["page"]),  # bounded before int(): no ValueError
    ({"stars": ["9", "4", "x", "4"]}, CatalogFilters(stars=[4]), ["stars"]),
    ({"min_price": "-5", "max_price": "1e9"}, CatalogFilters(), ["min_price", "max_price"]),
    ({"min_price": "300000", "max_price": "100000"}, CatalogFilters(min_price=300_000), ["max_price"]),
    ({"sort": "'; drop table product"}, CatalogFilters(), ["sort"]),
    ({"q": "a" * 10_000}, CatalogFilters(q="a" * 100, sort="relevance"), ["q"]),
    ({"in_stock": "maybe"}, CatalogFilters(), ["in_stock"]),
    ({"group": ["a", "b"]}, CatalogFilters(), ["group"]),
    ({"locality": "x\x00"}, CatalogFilters(), ["locality"]),
    ({"per_page": "1000"}, CatalogFilters(), ["per_page"]),
    # Empty form fields mean "no filter"; numbers name rows by id; ids past the integer range name nothing.
    ({"group": "", "min_price": "", "in_stock": "", "sort": ""}, CatalogFilters(), []),
    ({"producer": "7", "locality": " ba-be ", "in_stock": "on"},
     CatalogFilters(producer=7, locality="ba-be", in_stock=True), []),
    ({"group": "99999999999"}, CatalogFilters(group=0), []),
])
def test_bad_query_parameters_are_left_out_and_reported(args, expected, problems):
    expected.per_page = 24
    reading = read_filters(MultiDict(args))
    assert reading.filters == expected and parse_filters(MultiDict(args)) == expected
    assert [p.param for p in reading.problems] == problems and reading.unknown == []


def test_unknown_parameters_are_reported_but_lang_is_known():
    reading = read_filters(MultiDict({"in_stok": "1", "lang": "en", "utm_source": "zalo"}))
    assert reading.unknown == ["in_stok", "utm_source"] and reading.filters == CatalogFilters(per_page=24)
    assert reading.first_error.param == "in_stok"


def test_group_filter_includes_subgroups_at_any_depth(bac_kan, make_group, make_product):
    food = bac_kan["mien"].group
    processed = make_group("I.3", "Thực phẩm chế biến", "Processed food", parent=food)
    noodles = make_group("I.3.1", "Miến, bún", "Noodles", parent=processed)
    make_product("Miến dong Na Rì", stars=4, group=noodles)
    db.session.commit()
    assert "Miến dong Na Rì" in names(browse(CatalogFilters(group=food.slug)))
    assert names(browse(CatalogFilters(group=processed.id))) == ["Miến dong Na Rì"]
    assert names(browse(CatalogFilters(group=noodles.slug))) == ["Miến dong Na Rì"]


def test_locality_filter_follows_the_merger_like_search(bac_kan):
    everything = {"Miến dong Tài Hoan", "Bún khô", "Gạo Nếp Tài",
                  "Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin"}
    # Bắc Kạn merged into Thái Nguyên on 1/7/2025: today's province covers the old one and all below it,
    # exactly what a search for "thai nguyen" finds.
    assert set(names(browse(CatalogFilters(locality="thai-nguyen")))) == everything
    assert set(names(browse(CatalogFilters(q="thai nguyen")))) == everything
    assert set(names(browse(CatalogFilters(locality="bac-kan")))) == everything
    assert set(names(browse(CatalogFilters(locality="con-minh")))) == {"Miến dong Tài Hoan", "Bún khô"}
    assert browse(CatalogFilters(locality=0)).total == 0


def test_in_stock_means_available_after_holds_as_on_the_product_page(bac_kan, make_shop):
    """A shop whose holds exceed its count adds nothing; it does not hide another shop's units."""
    from shop.cart import services as carts
    from shop.orders import services as orders

    main, kiosk = make_shop(ships_online=True), make_shop(ships_online=False)
    nep, mien = bac_kan["nep"], bac_kan["mien"]
    inventory.receive(main.id, nep.id, 3)
    inventory.receive(kiosk.id, nep.id, 2)
    inventory.receive(main.id, mien.id, 4)
    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, mien.id, 4)
    carts.set_quantity(cart, nep.id, 3)
    orders.place_order(cart.token, orders.Customer(name="Nguyễn Thị Lan", phone="0912345678",
                                                   email="lan@example.vn"),
                       orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                                         province="Thái Nguyên"), "cod")  # holds 4 + 3 units at ``main``
    inventory.count(main.id, nep.id, 1)  # the count found 1; 3 stay held: that shop can sell nothing
    db.session.commit()
    page = browse(CatalogFilters(in_stock=True))
    assert [(i.product.name, i.available) for i in page.items] == [("Gạo Nếp Tài", 2)]
    assert product_detail(nep.slug).total_available == 2
    assert product_detail(mien.slug).total_available == 0  # every unit held: not "in stock"


def test_product_detail_shows_the_badge_only_with_a_valid_certificate(bac_kan):
    assert product_detail(bac_kan["nep"].slug).certificate.stars == 4
    expired = product_detail(bac_kan["expired"].slug)
    assert expired.certificate is None and not expired.sellable
    assert expired.product.latest_certificate.is_expired()
    assert product_detail(bac_kan["revoked"].slug).certificate is None


def test_certificate_valid_through_its_last_day(make_product):
    today = today_vn()
    product = make_product(issued_on=today - timedelta(days=30), expires_on=today)
    assert product.valid_certificate() is not None
    assert product.valid_certificate(on=today + timedelta(days=1)) is None


def test_unknown_product_is_not_found(bac_kan):
    with pytest.raises(NotFound):
        product_detail("no-such-product")


def test_search_text_follows_producer_renames(bac_kan):
    producer = bac_kan["nep"].producer
    producer.name = "HTX Nông nghiệp Đông Phương"
    db.session.commit()
    assert names(browse(CatalogFilters(q="dong phuong"))) == ["Gạo Nếp Tài"]


def test_search_text_follows_group_renames(bac_kan):
    group = bac_kan["vicumax"].group
    group.name, group.name_en = "Thảo dược quý", "Precious herbs"
    db.session.commit()
    assert names(browse(CatalogFilters(q="thao duoc quy"))) == [bac_kan["vicumax"].name]
    assert names(browse(CatalogFilters(q="precious herbs"))) == [bac_kan["vicumax"].name]
    assert names(browse(CatalogFilters(q="herbal products"))) == []  # the old name no longer finds it


def test_search_text_follows_place_renames_down_the_lineage(bac_kan):
    from shop.places.models import Locality

    na_ri = db.session.scalars(select(Locality).where(Locality.slug == "na-ri")).one()
    na_ri.name = "Na Rì Mới"
    db.session.commit()
    # Tài Hoan sits in Côn Minh, a commune of Na Rì: its products follow the district's new name.
    assert sorted(names(browse(CatalogFilters(q="na ri moi")))) == ["Bún khô", "Miến dong Tài Hoan"]
    thai_nguyen = db.session.scalars(select(Locality).where(Locality.slug == "thai-nguyen")).one()
    thai_nguyen.name = "Tỉnh Thái Nguyên mới"
    db.session.commit()
    # Bắc Kạn merged into Thái Nguyên: every producer under Bắc Kạn follows its successor's name.
    assert len(names(browse(CatalogFilters(q="thai nguyen moi")))) == 4


@pytest.mark.parametrize("status, issued_days_ago, valid_days, expected", [
    ("active", 10, 100, "active"),
    ("active", 200, 100, "expired"),
    ("active", -5, 100, "pending"),
    ("revoked", 10, 100, "revoked"),
    ("superseded", 10, 100, "superseded"),
])
def test_pages_and_api_describe_a_certificate_the_same_way(make_product, status, issued_days_ago, valid_days,
                                                           expected):
    issued = today_vn() - timedelta(days=issued_days_ago)
    product = make_product(cert_status=status, issued_on=issued, expires_on=issued + timedelta(days=valid_days))
    assert product.certificates[0].public_status() == expected
