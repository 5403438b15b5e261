"""The province's OCOP list in one import (issue 14): read, map, preview, confirm; idempotent;
refuses what is not a spreadsheet, too large a file, formulas. The sample in docs/ against the demo."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from shop.catalog import province_import as imp
from shop.catalog.enums import CertificateKind, CertificateStatus
from shop.catalog.models import Certificate, Product
from shop.errors import InvalidInput
from shop.extensions import db
from shop.producers.enums import ProducerKind
from shop.producers.models import Producer
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in

DOCS = Path(__file__).resolve().parent.parent / "docs"
DECISION = imp.Decision("1500/QĐ-UBND", today_vn() - timedelta(days=2), "UBND tỉnh Thái Nguyên", "province",
                        "148/QĐ-TTg")
HEADER = ["STT", "Tên sản phẩm", "Chủ thể OCOP", "Địa chỉ", "Phân nhóm", "Hạng sao", "Điểm"]


def csv_bytes(*rows) -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(*rows) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Producer, Product, Certificate))


@pytest.fixture
def catalogue(make_product, make_producer, make_group):
    make_group(code="I.3", name="Thực phẩm chế biến", name_en="Processed food")
    producer = make_producer(name="Hợp tác xã Tài Hoan")
    product = make_product("Miến dong Tài Hoan", producer=producer, stars=3)
    db.session.commit()
    return product


def _plan(*rows):
    table = imp.read_table("list.csv", csv_bytes(*rows))
    with force_locale("en"):  # reasons asserted in English
        return imp.plan(table, imp.guess_mapping(table[0]), DECISION)


# ---- matching and planning ---------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [("HTX Tài Hoan", "Hợp tác xã Tài Hoan"), ("Công ty CP Nông sản Bắc Kạn",
                                  "CÔNG TY CỔ PHẦN NÔNG SẢN BẮC KẠN"), ("Cty TNHH Hà Diệp", "Công ty TNHH Hà Diệp"),
                                  ("Hộ kinh doanh Tám Cương", "HKD Tám Cương")])
def test_names_match_without_diacritics_case_or_legal_form(a, b):
    assert imp.name_key(a) == imp.name_key(b) != ""


def test_a_new_producers_kind_comes_from_its_legal_form():
    assert imp.producer_kind("Hộ kinh doanh Lò Thị Mai") is ProducerKind.HOUSEHOLD
    assert imp.producer_kind("HTX Yến Dương") is ProducerKind.COOPERATIVE
    assert imp.producer_kind("Quỳnh Mai Homestay") is ProducerKind.OTHER


def test_the_columns_are_guessed_from_the_usual_headers():
    assert imp.guess_mapping(HEADER) == {"product": 1, "producer": 2, "address": 3, "group": 4, "stars": 5, "score": 6}


def test_each_row_is_planned_with_its_reasons(catalogue):
    plans = _plan(
        (1, "Miến dong Tài Hoan", "HTX Tài Hoan", "Côn Minh", "I.3", 4, 75),     # upgrade
        (2, "Bánh đa Tài Hoan", "HTX Tài Hoan", "Côn Minh", "I.3", 3, 60),      # new product
        (3, "Tương ớt", "Hộ kinh doanh Lò Thị Mai", "Ba Bể", "I.3", 3, 58),      # new producer
        (4, "Chè dây", "HTX Tài Hoan", "", "VII.1", 3, 60),                     # unknown group
        (5, "Miến khô", "HTX Tài Hoàng", "", "I.3", 3, 60),                      # close producer
        (6, "Miến dong Tài Hoan", "Hợp tác xã Tài Hoan", "", "I.3", 4, 75),    # same product twice
        (7, "Bánh dày", "HTX Tài Hoan", "", "I.3", 6, 95),                      # stars out of range
        (8, "Bánh tẻ", "HTX Tài Hoan", "", "I.3", 4, 60),                       # score outside the band
    )
    outcome = {p.row: p.outcome for p in plans}
    assert outcome == {2: "update", 3: "create", 4: "create", 5: "refused", 6: "refused", 7: "refused",
                       8: "refused", 9: "refused"}
    reasons = {p.row: " ".join(p.reasons) for p in plans}
    assert "VII.1" in reasons[5] and "Hợp tác xã Tài Hoan" in reasons[6] and "row 2" in reasons[7]
    assert "6" in reasons[8] and "70–89" in reasons[9]
    assert plans[0].kind is CertificateKind.UPGRADE


def test_confirming_writes_and_the_same_file_twice_changes_nothing(catalogue):
    rows = [(1, "Miến dong Tài Hoan", "HTX Tài Hoan", "Côn Minh", "I.3", 4, 75),
            (2, "Tương ớt", "Hộ kinh doanh Lò Thị Mai", "Ba Bể", "Thực phẩm chế biến", 3, 58)]
    table = imp.read_table("list.xlsx", xlsx_bytes(*rows))
    mapping = imp.guess_mapping(table[0])
    before = counts()
    imp.apply(table, mapping, DECISION)
    db.session.commit()
    after = counts()
    assert after == (before[0] + 1, before[1] + 1, before[2] + 2)
    product = db.session.get(Product, catalogue.id)
    assert product.current_stars == 4 and product.certificates[0].kind is CertificateKind.UPGRADE
    assert [c.status for c in product.certificates] == [CertificateStatus.ACTIVE, CertificateStatus.SUPERSEDED]
    new = db.session.scalar(select(Product).where(Product.name == "Tương ớt"))
    assert not new.listed and new.price == 0 and new.producer.kind is ProducerKind.HOUSEHOLD
    again = imp.apply(table, mapping, DECISION)
    db.session.commit()
    assert {p.outcome for p in again} == {"unchanged"} and counts() == after


# ---- refused files -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, data", [
    ("list.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
    ("list.xlsx", b"PK\x03\x04 not really a zip file at all"),
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)),
    ("list.csv", "just one line without columns".encode()),
    ("list.csv", "Tên,Chủ thể\n".encode("utf-16")),
])
def test_what_is_not_a_spreadsheet_is_refused(name, data):
    with pytest.raises(InvalidInput) as exc:
        imp.read_table(name, data)
    assert exc.value.details["field"] == "file"


@force_locale("en")
def test_formulas_are_refused_in_xlsx_and_csv():
    with pytest.raises(InvalidInput, match="formula"):
        imp.read_table("list.xlsx", xlsx_bytes((1, "Miến", "HTX A", "", "I.3", "=2+2", 70)))
    with pytest.raises(InvalidInput, match="formula"):
        imp.read_table("list.csv", csv_bytes((1, '=HYPERLINK("http://x")', "HTX A", "", "I.3", 4, 70)))
    with pytest.raises(InvalidInput, match="formula"):
        imp.read_table("list.csv", csv_bytes((1, "+cmd", "HTX A", "", "I.3", 4, 70)))


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(InvalidInput, match="MB"):
        imp.read_table("list.csv", b"a,b\n" * (imp.MAX_BYTES // 4 + 1))


# ---- the screens -------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")
    return client


def _upload(client, name: str, data: bytes, **over):
    form = {"decision_number": DECISION.number, "issued_on": DECISION.issued_on.isoformat(),
            "issuing_body": DECISION.issuing_body, "level": "province", "legal_basis": "148/QĐ-TTg",
            "file": (io.BytesIO(data), name)}
    form.update(over)
    return client.post("/admin/import", data=form, content_type="multipart/form-data")


def _payload(page: str) -> str:
    import re

    return re.search(r'name="payload" type="hidden" value="([^"]+)"', page).group(1)


def test_admin_previews_and_confirms_a_list(admin_client, catalogue):
    response = _upload(admin_client, "list.csv", csv_bytes(
        (1, "Miến dong Tài Hoan", "HTX Tài Hoan", "Côn Minh", "I.3", 4, 75),
        (2, "Chè dây", "HTX Tài Hoan", "", "VII.1", 3, 60)))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Unknown group: VII.1" in page and "To update" in page
    before = counts()
    assert counts() == before  # the preview wrote nothing
    mapping = {f"col_{name}": str(i) for name, i in imp.guess_mapping(HEADER).items()}
    done = admin_client.post("/admin/import/confirm", data={"payload": _payload(page), **mapping})
    assert done.status_code == 200 and "List imported" in done.get_data(as_text=True)
    assert counts() == (before[0], before[1], before[2] + 1)
    again = admin_client.post("/admin/import/confirm", data={"payload": _payload(page), **mapping})
    assert again.status_code == 200 and counts() == (before[0], before[1], before[2] + 1)


def test_a_missing_column_is_a_form_error(admin_client, catalogue):
    page = _upload(admin_client, "list.csv", csv_bytes((1, "Miến dong Tài Hoan", "HTX Tài Hoan", "", "I.3", 4, 75)))
    response = admin_client.post("/admin/import/preview", data={"payload": _payload(page.get_data(as_text=True)),
                                                                "col_product": "1", "col_producer": "2"})
    assert response.status_code == 400 and "Choose the column" in response.get_data(as_text=True)


def test_an_altered_payload_is_refused(admin_client, catalogue):
    before = counts()
    response = admin_client.post("/admin/import/confirm", data={"payload": "forged", "col_product": "1"})
    assert response.status_code == 400 and "upload the file again" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("name, data, status, message", [
    ("list.pdf", b"%PDF-1.7\n" + bytes(100), 400, "not a spreadsheet"),
    ("list.xlsx", xlsx_bytes((1, "Miến", "HTX A", "", "I.3", "=2+2", 70)), 400, "formula"),
    ("big.csv", b"0" * (50 * 1024 * 1024), 413, "larger than"),
])
def test_bad_files_get_a_clear_error_and_change_nothing(admin_client, catalogue, name, data, status, message):
    before = counts()
    response = _upload(admin_client, name, data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert counts() == before


def test_an_expiry_decision_in_the_future_is_refused(admin_client, catalogue):
    response = _upload(admin_client, "list.csv", csv_bytes((1, "Miến", "HTX Tài Hoan", "", "I.3", 3, 60)),
                       issued_on=(today_vn() + timedelta(days=5)).isoformat())
    assert response.status_code == 400 and "in the future" in response.get_data(as_text=True)


def test_the_sample_is_served(admin_client):
    assert admin_client.get("/admin/import/sample.csv").data == (DOCS / "ocop-import-sample.csv").read_bytes()


# ---- the sample in docs/ against the demo --------------------------------------------------------

def test_the_sample_list_against_the_demo_data(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for name in ("ocop-import-sample.csv", "ocop-import-sample.xlsx"):
        table = imp.read_table(name, (DOCS / name).read_bytes())
        with force_locale("en"):
            plans = imp.plan(table, imp.guess_mapping(table[0]), DECISION)
        assert imp.summary(plans) == {"create": 2, "update": 8, "unchanged": 0, "refused": 2}, name
        refused = [p.reasons[0] for p in plans if p.outcome == "refused"]
        assert "Unknown group" in refused[0] and "close to" in refused[1]
    imp.apply(table, imp.guess_mapping(table[0]), DECISION)
    db.session.commit()
    again = imp.plan(table, imp.guess_mapping(table[0]), DECISION)
    assert imp.summary(again) == {"create": 0, "update": 0, "unchanged": 10, "refused": 2}
