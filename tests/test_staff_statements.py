"""Bank transfers in the staff workspace (issue 13): the statement import with its preview, the
credits left for a person to decide, importing the same statement twice, bad files, the transfer
confirmed by hand on the shipment page, and who may do any of it."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, PaymentStatus
from shop.orders.models import Order, OrderEvent
from shop.payments import statements
from shop.payments.enums import StatementLineState, StatementMatch
from shop.payments.models import StatementLine
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in
from test_orders import DELIVERY, cart_with


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def world(make_product, make_shop):
    """Shops A and B; four bank-transfer orders supplied by A (one to match, one to be paid short,
    one cancelled, one already paid) and one by B; a COD order of A; a manager and a clerk of A,
    a manager of B."""
    a = make_shop("Cửa hàng OCOP A", slug="shop-a")
    b = make_shop("Cửa hàng OCOP B", slug="shop-b")
    mien = make_product("Miến dong Tài Hoan", price=110_000)
    nep = make_product("Gạo Nếp Tài", price=200_000)
    inventory.receive(a.id, mien.id, 30, lot_code="L-1")
    inventory.receive(b.id, nep.id, 10, lot_code="N-1")
    db.session.commit()

    seq = iter(range(10, 99))

    def place(product, qty, method="bank_transfer"):
        n = next(seq)
        customer = orders.Customer(name=f"Khách {n}", phone=f"09123450{n}", email=f"khach{n}@example.vn")
        order = orders.place_order(cart_with((product, qty)), customer, DELIVERY, method)
        db.session.commit()
        return order

    match, short, cancelled, paid = (place(mien, 1), place(mien, 2), place(mien, 1), place(mien, 3))
    orders.cancel_by_customer(cancelled)
    orders.confirm_bank_transfer(paid, actor="test")
    other = place(nep, 1)
    cod = place(mien, 1, "cod")
    db.session.commit()
    make_user("staff", email="manager.a@example.vn", name="Mai", shops=["shop-a"], shop_role="manager")
    make_user("staff", email="clerk.a@example.vn", shops=["shop-a"], shop_role="clerk")
    make_user("staff", email="manager.b@example.vn", shops=["shop-b"], shop_role="manager")
    return {"a": a, "b": b, "match": match, "short": short, "cancelled": cancelled, "paid": paid, "other": other,
            "cod": cod}


def _as(client, email):
    assert sign_in(client, email).status_code == 302
    return client


def _order(number) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number))


def _compact(number: str) -> str:
    return number.replace("-", "").lower()


def _statement(w) -> bytes:
    """The simple format: one credit per kind, a debit and a repeated transfer."""
    day = today_vn().strftime("%d/%m/%Y")
    rows = [
        "ngay,so_tien,noi_dung,ma_giao_dich",
        f"{day},{w['match'].total},{_compact(w['match'].number)} Nguyen Thi Lan chuyen tien,FT001",
        f"{day},{w['short'].total - 20_000},thanh toan don {w['short'].number},FT002",
        f"{day},{w['cancelled'].total},OC {w['cancelled'].number[3:7]} {w['cancelled'].number[8:]},FT003",
        f"{day},{w['paid'].total},{w['paid'].number},FT004",
        f"{day},500000,tien hang khong ghi ma,FT005",
        f"{day},{w['other'].total},{w['other'].number.replace('-', ' ')},FT006",
        f"{day},-300000,phi dich vu,FT007",
    ]
    return ("\n".join(rows) + "\n").encode()


def _upload(client, data: bytes, name="saoke.csv", slug="shop-a", lang=""):
    query = f"?lang={lang}" if lang else ""
    return client.post(f"/staff/shops/{slug}/statements{query}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _payload(page: str) -> str:
    import re

    return re.search(r'name="payload" type="hidden" value="([^"]+)"', page).group(1)


def _lines() -> int:
    return db.session.scalar(select(func.count()).select_from(StatementLine))


def _received_notes(order) -> int:
    return db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.note.like("bank transfer%received%")))


def test_a_statement_is_previewed_then_confirms_the_match_and_lists_the_rest(client, world):
    w = world
    _as(client, "manager.a@example.vn")
    assert client.get("/staff/shops/shop-a/statements").status_code == 200
    preview = _upload(client, _statement(w))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert _lines() == 0 and _order(w["match"].number).status == OrderStatus.PENDING_PAYMENT  # nothing written yet
    for kind in (StatementMatch.MATCH, StatementMatch.WRONG_AMOUNT, StatementMatch.LATE, StatementMatch.ALREADY_PAID,
                 StatementMatch.UNKNOWN):
        assert str(kind.label) in page, kind
    assert w["other"].number not in page  # another shop's order is not shown
    assert "300.000" not in page  # the debit is not a credit

    done = client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(page)})
    assert done.status_code == 302
    assert _order(w["match"].number).status == OrderStatus.PAID
    assert _order(w["match"].number).payment_status == PaymentStatus.PAID
    assert _order(w["short"].number).status == OrderStatus.PENDING_PAYMENT
    assert _lines() == 6
    states = {line.bank_reference: (line.kind, line.state) for line in db.session.scalars(select(StatementLine))}
    assert states["FT001"] == (StatementMatch.MATCH, StatementLineState.CONFIRMED)
    assert states["FT002"] == (StatementMatch.WRONG_AMOUNT, StatementLineState.TO_DECIDE)
    assert states["FT003"] == (StatementMatch.LATE, StatementLineState.TO_DECIDE)
    assert states["FT004"] == (StatementMatch.ALREADY_PAID, StatementLineState.TO_DECIDE)
    assert states["FT005"] == (StatementMatch.UNKNOWN, StatementLineState.TO_DECIDE)
    assert states["FT006"] == (StatementMatch.MATCH, StatementLineState.TO_DECIDE)  # shop B decides
    listing = client.get("/staff/shops/shop-a/statements").get_data(as_text=True)
    for ref in ("FT002", "FT003", "FT004", "FT005"):
        assert ref in listing
    assert "FT006" not in listing
    history = _order(w["match"].number).events[-1]
    assert history.actor == "Mai <manager.a@example.vn>" and "FT001" in history.note

    # The same statement again: recorded once, confirmed once.
    again = _upload(client, _statement(w)).get_data(as_text=True)
    assert again.count("Đã nhập trước đó") + again.count("Already imported") == 6
    client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(again)})
    assert _lines() == 6 and _received_notes(w["match"]) == 1


def test_the_other_shops_manager_confirms_its_own_credit(client, world):
    w = world
    _as(client, "manager.a@example.vn")
    page = _upload(client, _statement(w)).get_data(as_text=True)
    client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(page)})
    line = db.session.scalar(select(StatementLine).where(StatementLine.bank_reference == "FT006"))
    assert client.post(f"/staff/shops/shop-a/statements/lines/{line.id}/confirm").status_code == 404
    client.post("/account/sign-out")
    _as(client, "manager.b@example.vn")
    listing = client.get("/staff/shops/shop-b/statements").get_data(as_text=True)
    assert "FT006" in listing and "FT002" not in listing and "FT005" not in listing
    assert client.post(f"/staff/shops/shop-b/statements/lines/{line.id}/confirm").status_code == 302
    assert _order(w["other"].number).status == OrderStatus.PAID
    assert client.post(f"/staff/shops/shop-b/statements/lines/{line.id}/confirm").status_code == 409  # decided


def test_decisions_on_the_mismatches(client, world):
    w = world
    _as(client, "manager.a@example.vn")
    page = _upload(client, _statement(w)).get_data(as_text=True)
    client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(page)})
    by_ref = {line.bank_reference: line.id for line in db.session.scalars(select(StatementLine))}
    url = "/staff/shops/shop-a/statements/lines/{}/{}"
    # Short by 20.000 ₫: the manager accepts it; the history says how much came.
    assert client.post(url.format(by_ref["FT002"], "confirm")).status_code == 302
    short = _order(w["short"].number)
    assert short.status == OrderStatus.PAID and "the order total is" in short.events[-1].note
    # Money for a cancelled order: recorded and flagged for a refund, not revived.
    assert client.post(url.format(by_ref["FT003"], "confirm")).status_code == 302
    cancelled = _order(w["cancelled"].number)
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.needs_review
    # Paid twice: it cannot be confirmed; set aside, a note required.
    refused = client.post(url.format(by_ref["FT004"], "confirm"))
    assert refused.status_code == 409 and w["paid"].number in refused.get_data(as_text=True)
    assert client.post(url.format(by_ref["FT004"], "set-aside"), data={"note": "  "}).status_code == 400
    assert client.post(url.format(by_ref["FT004"], "set-aside"), data={"note": "x" * 501}).status_code == 400
    assert db.session.get(StatementLine, by_ref["FT004"]).state == StatementLineState.TO_DECIDE
    assert client.post(url.format(by_ref["FT004"], "set-aside"),
                       data={"note": "hoàn lại cho khách, FT999"}).status_code == 302
    assert "set aside: hoàn lại cho khách" in _order(w["paid"].number).events[-1].note
    # No order: only set aside.
    assert client.post(url.format(by_ref["FT005"], "confirm")).status_code == 409
    assert client.post(url.format(by_ref["FT005"], "set-aside"), data={"note": "not ours"}).status_code == 302
    db.session.expire_all()
    assert {db.session.get(StatementLine, i).state for i in by_ref.values() if i != by_ref["FT006"]} == {
        StatementLineState.CONFIRMED, StatementLineState.SET_ASIDE}
    assert "Nothing to decide" in client.get("/staff/shops/shop-a/statements?lang=en").get_data(as_text=True) or \
        "Không có gì" in client.get("/staff/shops/shop-a/statements").get_data(as_text=True)


def test_a_late_transfer_to_an_expired_order(client, world):
    w = world
    order = _order(w["match"].number)
    late_day = (order.hold_expires_at + timedelta(days=2)).strftime("%d/%m/%Y")
    data = f"Ngày,Số tiền,Nội dung\n{late_day},{order.total},{order.number}\n".encode()
    _as(client, "manager.a@example.vn")
    page = _upload(client, data).get_data(as_text=True)
    client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(page)})
    line = db.session.scalar(select(StatementLine))
    assert line.kind == StatementMatch.LATE and line.state == StatementLineState.TO_DECIDE
    assert _order(order.number).status == OrderStatus.PENDING_PAYMENT


VCB = """\ufeffNGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM
Sao kê tài khoản;;;;;
Số tài khoản: 0123456789;;;;;
STT;Ngày giao dịch;Số tham chiếu;Số tiền ghi nợ;Số tiền ghi có;Mô tả
;;;;;Số dư đầu kỳ 10.000.000
1;{day} 09:15:02;5213 IBFT;;{amount};MBVCB.123.{ref}.CT tu 0912345678 NGUYEN THI LAN toi 0123456789
2;{day} 10:00:00;5214;150.000;;Phi SMS
;;;Tổng cộng;{amount};
"""

VIETINBANK = """STT,Ngày giao dịch,Mô tả giao dịch,Nợ,Có,Số dư,Số giao dịch
1,{day},"CK {ref} thanh toan",0,"{amount},00","12,345,000",FT26335777
"""


@pytest.mark.parametrize("layout", [VCB, VIETINBANK], ids=["vietcombank", "vietinbank"])
def test_vietnamese_bank_exports_are_read(client, world, layout):
    w = world
    order = w["match"]
    amount = f"{order.total:,}".replace(",", ".")
    data = layout.format(day=today_vn().strftime("%d/%m/%Y"), amount=amount, ref=_compact(order.number).upper())
    credits = statements.read_statement("saoke.csv", data.encode())
    assert [(c.amount, c.booked_on) for c in credits] == [(order.total, today_vn())]
    _as(client, "manager.a@example.vn")
    page = _upload(client, data.encode()).get_data(as_text=True)
    client.post("/staff/shops/shop-a/statements/import", data={"payload": _payload(page)})
    assert _order(order.number).status == OrderStatus.PAID


@pytest.mark.parametrize("name,data,message", [
    ("saoke.xlsx", b"PK\x03\x04 not really", "CSV"),
    ("saoke.csv", b"PK\x03\x04\x14\x00", "CSV"),
    ("saoke.csv", b"%PDF-1.4 ...", "CSV"),
    ("saoke.csv", b"", "file"),
    ("saoke.csv", "ngay,so_tien,noi_dung\n01/12/2026,250000,OC-2026-000001\n".encode("utf-16"), "CSV"),
    ("saoke.csv", "ngày,so_tien,noi_dung\n01/12/2026,250000,Đà tháng\n".encode("cp1258"), "UTF-8"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n01/12/2026,250000,=HYPERLINK(\"x\")\n", "formula"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n01/12/2026,250000,@SUM(A1)\n", "formula"),
    ("saoke.csv", b"a,b,c\n1,2,3\n", "header"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n31/02/2026,250000,x\n", "31/02/2026"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n01/12/2026,25abc,x\n", "25abc"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n01/12/2026,250000.5,x\n", "250000.5"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n01/12/2026,-250000,x\n", "credit"),
    ("saoke.csv", b"ngay,so_tien,noi_dung\n" + b"01/12/2026,250000,x\n" * 60_000, "MB"),
])
def test_bad_files_are_refused_with_nothing_written(client, world, name, data, message):
    _as(client, "manager.a@example.vn")
    answer = _upload(client, data, name=name, lang="en")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400, page[:500]
    assert 'role="alert"' in page and message.lower() in page.lower(), message
    assert _lines() == 0
    assert _order(world["match"].number).status == OrderStatus.PENDING_PAYMENT


def test_the_form_error_is_in_the_pages_language(client, world):
    _as(client, "manager.a@example.vn")
    page = _upload(client, b"ngay,so_tien,noi_dung\n01/12/2026,250000,=1+1\n").get_data(as_text=True)
    assert "chứa công thức" in page and 'aria-invalid="true"' in page
    page = _upload(client, b"ngay,so_tien,noi_dung\n01/12/2026,250000,=1+1\n", lang="en").get_data(as_text=True)
    assert "holds a formula" in page


def test_a_tampered_or_foreign_preview_is_refused(client, world):
    _as(client, "manager.a@example.vn")
    page = _upload(client, _statement(world)).get_data(as_text=True)
    payload = _payload(page)
    assert client.post("/staff/shops/shop-a/statements/import", data={"payload": payload[:-3] + "abc"}).status_code == 400
    assert client.post("/staff/shops/shop-a/statements/import", data={}).status_code == 400
    assert _lines() == 0
    client.post("/account/sign-out")
    _as(client, "manager.b@example.vn")  # shop A's preview replayed on shop B's page
    assert client.post("/staff/shops/shop-b/statements/import", data={"payload": payload}).status_code == 400
    assert _lines() == 0


def test_who_may_import(client, world):
    _as(client, "clerk.a@example.vn")
    assert client.get("/staff/shops/shop-a/statements").status_code == 403
    assert _upload(client, _statement(world)).status_code == 403
    assert "statements" not in client.get("/staff/shops/shop-a/orders").get_data(as_text=True)
    client.post("/account/sign-out")
    _as(client, "manager.b@example.vn")
    assert client.get("/staff/shops/shop-a/statements").status_code == 404
    assert _upload(client, _statement(world)).status_code == 404
    assert _lines() == 0


def test_a_transfer_confirmed_by_hand_on_the_shipment_page(client, world):
    number = world["match"].number
    url = f"/staff/shops/shop-a/orders/{number}/transfer-received"
    _as(client, "clerk.a@example.vn")
    assert "transfer-received" not in client.get(f"/staff/shops/shop-a/orders/{number}").get_data(as_text=True)
    assert client.post(url, data={"seen": "y"}).status_code == 403
    client.post("/account/sign-out")
    _as(client, "manager.a@example.vn")
    assert "transfer-received" in client.get(f"/staff/shops/shop-a/orders/{number}").get_data(as_text=True)
    assert client.post(url, data={}).status_code == 400
    assert client.post(url, data={"seen": "y", "reference": "x" * 101}).status_code == 400
    assert _order(number).status == OrderStatus.PENDING_PAYMENT
    assert client.post(url, data={"seen": "y", "reference": "FT26335123"}).status_code == 302
    order = _order(number)
    assert order.status == OrderStatus.PAID and "FT26335123" in order.events[-1].note
    assert client.post(url, data={"seen": "y"}).status_code == 409  # paid already
    cod = world["cod"].number
    assert client.post(f"/staff/shops/shop-a/orders/{cod}/transfer-received", data={"seen": "y"}).status_code == 409


@pytest.mark.parametrize("text,numbers", [
    ("OC-2026-000123", {"OC-2026-000123"}),
    ("oc2026000123 nguyen thi lan", {"OC-2026-000123"}),
    ("MBVCB.1234.OC 2026 000123.CT tu", {"OC-2026-000123"}),
    ("Oc_2026.000123", {"OC-2026-000123"}),
    ("OC-2026-0001234", set()),
    ("OC-2026-000123 va OC-2026-000124", {"OC-2026-000123", "OC-2026-000124"}),
    ("chuyen tien", set()),
])
def test_order_numbers_as_people_type_them(text, numbers):
    assert statements.order_numbers_in(text) == numbers


@pytest.mark.parametrize("raw,amount", [
    ("1.250.000", 1_250_000), ("1,250,000", 1_250_000), ("1250000", 1_250_000), ("+1,250,000", 1_250_000),
    ("1.250.000,00", 1_250_000), ("1,250,000.00", 1_250_000), ("1250000.00", 1_250_000), ("-150.000", -150_000),
    ("250.000 VND", 250_000), ("", None),
])
def test_statement_amounts(app, raw, amount):
    assert statements._money(raw) == amount
