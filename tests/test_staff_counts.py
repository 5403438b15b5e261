"""Shelf counts from the staff workspace (issue 13): the sheet (with the books' numbers, or blind),
counts entered per lot become ``count`` ledger rows for the differences only, a lot left empty is
not touched, and a count for a lot the shop never had or a bad number changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import LotStock, StockMovement
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []
    assert inventory.lot_ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    a, b = make_shop("Cửa hàng OCOP A", slug="shop-a"), make_shop("Cửa hàng OCOP B", slug="shop-b")
    mien, nep = make_product("Miến dong Tài Hoan"), make_product("Gạo Nếp Tài")
    lots = {
        "M1": inventory.receive(a.id, mien.id, 7, lot_code="M1", best_before=today_vn() + timedelta(days=90)).lot_id,
        "M2": inventory.receive(a.id, mien.id, 3, lot_code="M2", best_before=today_vn() + timedelta(days=200)).lot_id,
        "N1": inventory.receive(a.id, nep.id, 5, lot_code="N1").lot_id,
        "B1": inventory.receive(b.id, nep.id, 9, lot_code="B1").lot_id,
    }
    db.session.commit()
    clerk = make_user("staff", email="clerk.a@example.vn", shops=["shop-a"])
    return {"a": a, "lots": lots, "clerk": clerk}


def _lot_units(shop, lot_id) -> int:
    db.session.expire_all()
    return db.session.scalar(select(LotStock.on_hand).where(LotStock.shop_id == shop.id, LotStock.lot_id == lot_id))


def test_the_sheet_shows_the_books_or_hides_them(client, world):
    sign_in(client, "clerk.a@example.vn")
    page = client.get("/staff/shops/shop-a/count").get_data(as_text=True)
    assert "M1" in page and "N1" in page and "B1" not in page and 'class="num">7<' in page
    blind = client.get("/staff/shops/shop-a/count?blind=1").get_data(as_text=True)
    assert "M1" in blind and 'class="num">7<' not in blind


def test_counts_become_count_rows_for_the_differences_only(client, world):
    lots, a = world["lots"], world["a"]
    sign_in(client, "clerk.a@example.vn")
    answer = client.post("/staff/shops/shop-a/count", data={f"lot-{lots['M1']}": "6", f"lot-{lots['M2']}": "3",
                                                            f"lot-{lots['N1']}": ""})
    assert answer.status_code == 302
    moves = db.session.scalars(select(StockMovement).where(StockMovement.reason == "count")).all()
    assert [(m.lot_id, m.delta, m.user_id) for m in moves] == [(lots["M1"], -1, world["clerk"].id)]
    assert moves[0].reference.startswith("C-")
    assert (_lot_units(a, lots["M1"]), _lot_units(a, lots["M2"]), _lot_units(a, lots["N1"])) == (6, 3, 5)


@pytest.mark.parametrize("field, value", [("M1", "-1"), ("M1", "sáu"), ("M1", "2.5"), ("B1", "3"),
                                          ("none", "1"), ("M1", "100001")])
def test_bad_counts_change_nothing(client, world, field, value):
    lots = world["lots"]
    sign_in(client, "clerk.a@example.vn")
    key = f"lot-{lots[field]}" if field in lots else "lot-2147483647"
    answer = client.post("/staff/shops/shop-a/count", data={f"lot-{lots['M2']}": "1", key: value},
                         headers={"Accept-Language": "vi"})
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.reason == "count")) == 0


def test_an_empty_count_is_refused_and_other_shops_get_404(client, world):
    sign_in(client, "clerk.a@example.vn")
    assert client.post("/staff/shops/shop-a/count", data={}).status_code == 400
    assert client.get("/staff/shops/shop-b/count").status_code == 404
    assert client.post("/staff/shops/shop-b/count", data={f"lot-{world['lots']['B1']}": "1"}).status_code == 404
