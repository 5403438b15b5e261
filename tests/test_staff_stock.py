"""The staff workspace's stock pages (issue 13): receiving a delivery of several lots, adjusting
with a reason, what runs low, the ledger and its CSV — every change a ledger row naming the clerk,
bad input a form error that changes nothing, another shop's pages a 404."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Lot, LotStock, StockLevel, StockMovement
from shop.staff.stock import safe_cell
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
    a = make_shop("Cửa hàng OCOP A", slug="shop-a")
    b = make_shop("Cửa hàng OCOP B", slug="shop-b")
    mien = make_product("Miến dong Tài Hoan", slug="mien-dong")
    nep = make_product("Gạo Nếp Tài", slug="gao-nep")
    db.session.commit()
    clerk = make_user("staff", email="clerk.a@example.vn", shops=["shop-a"], shop_role="clerk")
    make_user("staff", email="clerk.b@example.vn", shops=["shop-b"], shop_role="clerk")
    return {"a": a, "b": b, "mien": mien, "nep": nep, "clerk": clerk}


def _rows() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def _on_hand(shop, product) -> int:
    db.session.expire_all()
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.shop_id == shop.id,
                                                              StockLevel.product_id == product.id)) or 0


def _line(i, product="", lot="", produced="", best="", qty=""):
    return {f"lines-{i}-product": product, f"lines-{i}-lot_code": lot, f"lines-{i}-produced_on": produced,
            f"lines-{i}-best_before": best, f"lines-{i}-quantity": qty}


def test_a_delivery_with_two_lots_is_received_in_one_go(client, world):
    sign_in(client, "clerk.a@example.vn")
    soon, later = today_vn() + timedelta(days=60), today_vn() + timedelta(days=200)
    data = {"reference": "PGH-0012", **_line(0, "mien-dong", "l-01/26", "2026-11-01", soon.isoformat(), "12"),
            **_line(1, "mien-dong", "L-02/26", "", later.isoformat(), "8"), **_line(2)}
    answer = client.post("/staff/shops/shop-a/stock/receive", data=data)
    assert answer.status_code == 302
    assert _on_hand(world["a"], world["mien"]) == 20
    lots = {lot.code: lot for lot in db.session.scalars(select(Lot))}
    assert set(lots) == {"L-01/26", "L-02/26"} and lots["L-01/26"].best_before == soon
    moves = db.session.scalars(select(StockMovement)).all()
    assert {(m.reason, m.reference, m.user_id) for m in moves} == {("receive", "PGH-0012", world["clerk"].id)}
    # Another delivery of a known lot adds to it.
    assert client.post("/staff/shops/shop-a/stock/receive", data=_line(0, "mien-dong", "L-01/26", "", "", "3")).status_code == 302
    assert db.session.scalar(select(LotStock.on_hand).where(LotStock.lot_id == lots["L-01/26"].id)) == 15


@pytest.mark.parametrize("line, field", [
    (dict(product="no-such", qty="1"), "product"),
    (dict(product="mien-dong", qty="-3"), "quantity"),
    (dict(product="mien-dong", qty="ba"), "quantity"),
    (dict(product="mien-dong", qty="0"), "quantity"),
    (dict(product="mien-dong", qty="100001"), "quantity"),
    (dict(product="mien-dong", qty="1", best="2020-01-01"), "best_before"),
    (dict(product="mien-dong", qty="1", best="31/12/2027"), "best_before"),
    (dict(product="mien-dong", qty="1", produced="2999-01-01"), "produced_on"),
    (dict(product="mien-dong", qty="1", lot="x" * 41), "lot_code"),
])
def test_a_bad_line_is_a_form_error_and_nothing_is_received(client, world, line, field):
    sign_in(client, "clerk.a@example.vn")
    data = {**_line(0, "gao-nep", "", "", "", "5"), **_line(1, **line)}
    answer = client.post("/staff/shops/shop-a/stock/receive", data=data, headers={"Accept-Language": "vi"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert f'href="#lines-1-{field}"' in page and "Vui lòng kiểm tra" in page
    assert _rows() == 0


def test_an_empty_delivery_and_a_lot_twice_are_refused(client, world):
    sign_in(client, "clerk.a@example.vn")
    assert client.post("/staff/shops/shop-a/stock/receive", data={}).status_code == 400
    twice = {**_line(0, "gao-nep", "A1", "", "", "1"), **_line(1, "gao-nep", "a1", "", "", "2")}
    assert client.post("/staff/shops/shop-a/stock/receive", data=twice).status_code == 400
    assert _rows() == 0


def test_adjust_with_a_reason_takes_first_expiring_units_and_names_the_clerk(client, world):
    a, mien = world["a"], world["mien"]
    inventory.receive(a.id, mien.id, 5, lot_code="OLD", best_before=today_vn() + timedelta(days=40))
    inventory.receive(a.id, mien.id, 5, lot_code="NEW", best_before=today_vn() + timedelta(days=300))
    db.session.commit()
    sign_in(client, "clerk.a@example.vn")
    assert client.post("/staff/shops/shop-a/stock/adjust", data={"product": "mien-dong", "reason": "broken",
                                                                  "quantity": "2", "note": "rơi vỡ"}).status_code == 302
    move = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
    assert (move.delta, move.reason, move.note, move.user_id, move.lot.code) == (-2, "adjust", "broken: rơi vỡ",
                                                                                  world["clerk"].id, "OLD")
    assert client.post("/staff/shops/shop-a/stock/adjust", data={"product": "mien-dong", "reason": "found",
                                                                  "quantity": "1", "lot_code": "new"}).status_code == 302
    assert _on_hand(a, mien) == 9
    before = _rows()
    for data in ({"product": "mien-dong", "reason": "gift", "quantity": "10"},       # more than on hand
                 {"product": "mien-dong", "reason": "", "quantity": "1"},
                 {"product": "mien-dong", "reason": "stolen", "quantity": "1"},
                 {"product": "mien-dong", "reason": "gift", "quantity": "1", "lot_code": "NOPE"},
                 {"product": "gao-nep", "reason": "sample", "quantity": "1"},         # never had it
                 {"product": "mien-dong", "reason": "gift", "quantity": "1.5"}):
        assert client.post("/staff/shops/shop-a/stock/adjust", data=data).status_code == 400, data
    assert _rows() == before and _on_hand(a, mien) == 9


def test_low_stock_list_and_the_ledger_with_filters_and_csv(client, world):
    a, b, mien, nep = world["a"], world["b"], world["mien"], world["nep"]
    inventory.receive(a.id, mien.id, 3, lot_code="=HYPERLINK(1)", reference="+PGH", note="@evil")
    inventory.receive(a.id, nep.id, 40, lot_code="N1")
    inventory.receive(b.id, nep.id, 7, lot_code="B-ONLY")
    db.session.commit()
    sign_in(client, "clerk.a@example.vn")
    page = client.get("/staff/shops/shop-a/stock").get_data(as_text=True)
    assert page.index("Miến dong") < page.index("Gạo Nếp")  # 3 ≤ 5: running low, listed first
    ledger = client.get("/staff/shops/shop-a/ledger").get_data(as_text=True)
    assert "N1" in ledger and "B-ONLY" not in ledger
    only = client.get("/staff/shops/shop-a/ledger?product=gao-nep").get_data(as_text=True)
    assert "N1" in only and "HYPERLINK" not in only
    odd = client.get("/staff/shops/shop-a/ledger?product=zzz&reason=nope&from=hôm-nay&lot=" + "x" * 50)
    assert odd.status_code == 200
    answer = client.get("/staff/shops/shop-a/ledger.csv")
    assert answer.mimetype == "text/csv" and answer.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["time", "shop", "product"] and len(rows) == 3
    mien_row = next(r for r in rows if r[3] == "mien-dong")
    assert mien_row[4] == "'=HYPERLINK(1)" and mien_row[8] == "'+PGH" and mien_row[10] == "'@evil"
    assert mien_row[1] == "Cửa hàng OCOP A" and mien_row[7] == "3"
    assert len(list(csv.reader(io.StringIO(client.get("/staff/shops/shop-a/ledger.csv?reason=sale")
                                           .data.decode("utf-8-sig"))))) == 1


def test_safe_cells():
    assert [safe_cell(v) for v in ("=1+1", "-2", "@a", "\tx", "ok", -3, None)] == ["'=1+1", "'-2", "'@a", "'\tx",
                                                                                 "ok", -3, ""]


def test_another_shops_stock_is_404(client, world):
    inventory.receive(world["a"].id, world["mien"].id, 3)
    db.session.commit()
    sign_in(client, "clerk.b@example.vn")
    for url in ("/staff/shops/shop-a/stock", "/staff/shops/shop-a/ledger", "/staff/shops/shop-a/ledger.csv",
                "/staff/shops/shop-a/stock/receive", "/staff/shops/shop-a/stock/adjust"):
        assert client.get(url).status_code == 404, url
    assert client.post("/staff/shops/shop-a/stock/adjust", data={"product": "mien-dong", "reason": "gift",
                                                                 "quantity": "1"}).status_code == 404
    assert _on_hand(world["a"], world["mien"]) == 3
