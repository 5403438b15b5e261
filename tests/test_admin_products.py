"""Administration (issue 14): products created and edited by an administrator — both names, group,
unit, weight, barcode (EAN-13 with its check digit), price, listed, producer — each change in the
product's history; bad input gets the form back in the page's language and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.admin.records import clean_barcode, ean13_check_digit
from shop.catalog.models import Product
from shop.errors import InvalidInput
from shop.extensions import db

from accounts_helpers import make_user, sign_in

GOOD_EAN = "8931234567897"  # 893123456789 + its check digit 7


@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn", name="Quản trị Lan")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def world(make_producer, make_group):
    producer = make_producer("HTX Tài Hoan")
    group = make_group()
    db.session.commit()
    return producer, group


def form(producer_row, group_row, **over) -> dict:
    data = {"name": "Miến dong Tài Hoan", "name_en": "Tai Hoan arrowroot noodles", "group": str(group_row.id),
            "unit": "gói 500 g", "unit_en": "500 g pack", "weight_grams": "520", "barcode": GOOD_EAN,
            "price": "65000", "listed": "y", "producer": producer_row.slug}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def entries(product_id) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCT,
                                                            AuditEntry.object_id == product_id)
                                   .order_by(AuditEntry.id)))


@pytest.mark.parametrize("first12, digit", [("893123456789", 7), ("400638133393", 1), ("590123412345", 7),
                                            ("000000000000", 0)])
def test_the_ean13_check_digit(first12, digit):
    assert ean13_check_digit(first12) == digit
    assert clean_barcode(f"{first12}{digit}") == f"{first12}{digit}"
    with pytest.raises(InvalidInput):
        clean_barcode(f"{first12}{(digit + 1) % 10}")


def test_a_barcode_may_be_empty_or_typed_with_spaces():
    assert clean_barcode("") is None and clean_barcode("   ") is None and clean_barcode(None) is None
    assert clean_barcode("893 1234 56789 7") == GOOD_EAN
    for bad in ("12345", "89312345678971", "893123456789x", "８９３１２３４５６７８９７"):
        with pytest.raises(InvalidInput):
            clean_barcode(bad)


def test_admin_creates_a_product_and_it_is_in_its_history(admin_client, world):
    producer, group = world
    response = admin_client.post("/admin/products/new", data=form(producer, group))
    assert response.status_code == 302
    product = db.session.scalar(select(Product).where(Product.name == "Miến dong Tài Hoan"))
    assert response.headers["Location"].endswith(f"/admin/products/{product.slug}/certificates")
    assert (product.name_en, product.group_id, product.unit, product.weight_grams, product.barcode, product.price,
            product.listed, product.producer_id) == ("Tai Hoan arrowroot noodles", group.id, "gói 500 g", 520,
                                                     GOOD_EAN, 65_000, True, producer.id)
    assert not product.sellable  # no certificate yet
    assert "mien dong tai hoan" in product.search_text  # found by search like any other
    [entry] = entries(product.id)
    assert entry.action is AuditAction.CREATE and entry.actor == "Quản trị Lan"
    assert entry.after["producer"] == "HTX Tài Hoan" and entry.after["barcode"] == GOOD_EAN
    page = admin_client.get(f"/admin/products/{product.slug}/certificates").get_data(as_text=True)
    assert "Created" in page and GOOD_EAN in page


def test_an_empty_barcode_and_weight_are_accepted(admin_client, world):
    producer, group = world
    assert admin_client.post("/admin/products/new", data=form(producer, group, barcode="", weight_grams="",
                                                              listed=None)).status_code == 302
    product = db.session.scalar(select(Product))
    assert product.barcode is None and product.weight_grams is None and not product.listed


@pytest.mark.parametrize("over, message", [
    ({"barcode": "8931234567890"}, "The check digit is wrong: a barcode starting 893123456789 ends in 7"),
    ({"barcode": "12345"}, "13 digits"),
    ({"weight_grams": "0"}, "whole grams"),
    ({"weight_grams": "1.5"}, "whole grams"),
    ({"price": "12,5"}, "whole đồng"),
    ({"price": "0"}, "only with a price"),
    ({"group": ""}, "Choose the product group"),
    ({"group": "999999"}, "Choose the product group"),
    ({"producer": "nobody"}, "Choose the producer"),
    ({"name": "  "}, "Please fill in this field"),
])
def test_bad_input_creates_nothing(admin_client, world, over, message):
    producer, group = world
    response = admin_client.post("/admin/products/new", data=form(producer, group, **over))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and message in page
    assert db.session.scalar(select(func.count(Product.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_the_wrong_check_digit_is_explained_in_vietnamese(client, world):
    producer, group = world
    make_user("admin", email="admin@example.vn")
    assert sign_in(client, "admin@example.vn").status_code == 302
    page = client.post("/admin/products/new", data=form(producer, group, barcode="8931234567890")).get_data(
        as_text=True)
    assert "Số kiểm tra sai" in page


def test_two_products_cannot_share_a_barcode(admin_client, world, make_product):
    producer, group = world
    make_product("Miến cũ", barcode=GOOD_EAN)
    db.session.commit()
    response = admin_client.post("/admin/products/new", data=form(producer, group))
    assert response.status_code == 400 and "already has this barcode" in response.get_data(as_text=True)


def test_a_retired_producers_new_product_is_not_listed(admin_client, world):
    producer, group = world
    producer.active = False
    db.session.commit()
    response = admin_client.post("/admin/products/new", data=form(producer, group))
    assert response.status_code == 400 and "producer is retired" in response.get_data(as_text=True)


def test_admin_edits_group_weight_barcode_and_producer(admin_client, world, make_product, make_producer,
                                                       make_group):
    producer, group = world
    product = make_product("Miến dong", producer=producer, group=group)
    other_producer, other_group = make_producer("HTX Yến Dương"), make_group()
    db.session.commit()
    data = {f"edit-{k}": v for k, v in form(other_producer, other_group, name="Miến dong").items()}
    assert admin_client.post(f"/admin/products/{product.slug}/edit", data=data).status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.producer_id, product.group_id, product.weight_grams, product.barcode) == (
        other_producer.id, other_group.id, 520, GOOD_EAN)
    [entry] = entries(product.id)
    assert entry.action is AuditAction.EDIT
    assert entry.before["producer"] == "HTX Tài Hoan" and entry.after["producer"] == "HTX Yến Dương"
    assert entry.before["barcode"] is None and entry.after["group"] == other_group.code
    # A wrong check digit on the edit form changes nothing either.
    data["edit-barcode"] = "8931234567890"
    response = admin_client.post(f"/admin/products/{product.slug}/edit", data=data)
    assert response.status_code == 400 and "check digit" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Product, product.id).barcode == GOOD_EAN and len(entries(product.id)) == 1


def test_the_new_product_form_and_the_product_page_show_the_fields(admin_client, world, make_product):
    producer, group = world
    page = admin_client.get(f"/admin/products/new?producer={producer.slug}").get_data(as_text=True)
    assert "Barcode (EAN-13)" in page and "Weight (grams)" in page
    assert f'<option selected value="{producer.slug}">' in page or f'value="{producer.slug}" selected' in page
    product = make_product("Miến dong", producer=producer, group=group, barcode=GOOD_EAN, weight_grams=500)
    db.session.commit()
    page = admin_client.get(f"/admin/products/{product.slug}/certificates").get_data(as_text=True)
    assert GOOD_EAN in page and 'value="500"' in page


def test_a_price_may_be_typed_with_dots_as_people_write_it(admin_client, world, make_product):
    """The price field reads đồng as people type them (shop.money.parse_vnd): 150.000 and 150.000 ₫."""
    producer, group = world
    product = make_product("Miến dong", producer=producer, group=group)
    db.session.commit()
    for typed, expected in (("150.000", 150_000), ("160.000 ₫", 160_000), ("170000", 170_000)):
        data = {f"edit-{k}": v for k, v in form(producer, group, name="Miến dong", price=typed).items()}
        response = admin_client.post(f"/admin/products/{product.slug}/edit", data=data)
        assert response.status_code == 302, typed
        db.session.expire_all()
        assert db.session.get(Product, product.id).price == expected
    for typed in ("150.00", "-5000", "100.000.001", "abc"):
        data = {f"edit-{k}": v for k, v in form(producer, group, name="Miến dong", price=typed).items()}
        assert admin_client.post(f"/admin/products/{product.slug}/edit", data=data).status_code == 400, typed
