"""QR traceability: stable trace URLs, QR codes that decode to them, the trace page, stamp sheets."""
import io
import re
from datetime import timedelta

import pytest

from shop.extensions import db
from shop.inventory import recalls
from shop.inventory import services as inventory
from shop.inventory import trace
from shop.timeutil import today_vn

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")


def decode_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


@pytest.fixture
def honey(make_product, make_shop, make_locality, make_producer):
    bac_kan = make_locality("Bắc Kạn", "province")
    na_ri = make_locality("Na Rì", "district", parent=bac_kan)
    producer = make_producer("HTX Thành Đạt", locality=na_ri)
    product = make_product("Mật ong rừng nguyên chất", stars=3, producer=producer, slug="mat-ong-rung")
    shop = make_shop("Cửa hàng OCOP trung tâm", slug="trung-tam")
    today = today_vn()
    lot = inventory.receive(shop.id, product.id, 12, lot_code="MO-2611", produced_on=today - timedelta(days=20),
                            best_before=today + timedelta(days=700)).lot
    db.session.commit()
    return {"product": product, "lot": lot, "shop": shop}


@pytest.mark.parametrize("with_lot", [False, True])
def test_the_qr_code_decodes_to_the_trace_page(client, honey, with_lot):
    product, lot = honey["product"], honey["lot"]
    path = f"/q/{product.id}/{lot.id}" if with_lot else f"/q/{product.id}"
    png = client.get(path + ".png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode_png(png.data) == [f"http://localhost{path}"]
    svg = client.get(path + ".svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")

    page = client.get(decode_png(png.data)[0].removeprefix("http://localhost"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mật ong rừng nguyên chất" in html and "HTX Thành Đạt" in html and "Na Rì" in html
    assert "star-badge--3" in html
    assert ("MO-2611" in html) == with_lot
    if with_lot:
        assert lot.best_before.strftime("%d/%m/%Y") in html


def test_stamps_carry_the_public_address_when_set(app, client, honey, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://ocop.example.vn/")
    product, lot = honey["product"], honey["lot"]
    assert decode_png(client.get(f"/q/{product.id}/{lot.id}.png").data) == [
        f"https://ocop.example.vn/q/{product.id}/{lot.id}"]


def test_a_recalled_lot_and_a_revoked_certificate_still_show(client, honey, make_certificate):
    product, lot = honey["product"], honey["lot"]
    recalls.recall_lot(lot.id, "Dư lượng kháng sinh vượt ngưỡng", reference="45/QĐ-ATTP")
    cert = product.certificates[0]
    cert.status, cert.revocation_decision, cert.revocation_reason = "revoked", "99/QĐ-UBND", "vi phạm ATTP"
    cert.revoked_on = today_vn()
    db.session.commit()

    html = client.get(f"/q/{product.id}/{lot.id}?lang=en").get_data(as_text=True)
    assert "This lot was recalled on" in html and "Dư lượng kháng sinh vượt ngưỡng" in html
    assert "45/QĐ-ATTP" in html and "99/QĐ-UBND" in html and "Revoked" in html
    assert "star-badge" not in html and "not on sale" in html
    vi = client.get(f"/q/{product.id}/{lot.id}?lang=vi").get_data(as_text=True)
    assert "thu hồi" in vi


def test_an_expired_lot_says_so(client, honey, make_product):
    from shop.inventory.models import Lot

    old = Lot(product_id=honey["product"].id, code="MO-2401", note="")
    old.set_dates(today_vn() - timedelta(days=800), today_vn() - timedelta(days=3))
    db.session.add(old)
    db.session.commit()
    html = client.get(f"/q/{honey['product'].id}/{old.id}?lang=en").get_data(as_text=True)
    assert "past its best-before date" in html


@pytest.mark.parametrize("path", ["/q/999999", "/q/0", "/q/99999999999999999999", "/q/1/999999",
                                  "/q/abc", "/q/999999.png", "/q/stamps/lot/999999", "/q/stamps/shop/nope"])
def test_unknown_codes_are_404(client, honey, path):
    assert client.get(path).status_code == 404


def test_a_lot_of_another_product_is_404(client, honey, make_product):
    other = make_product("Trà hoa vàng")
    assert client.get(f"/q/{other.id}/{honey['lot'].id}").status_code == 404
    assert client.get(f"/q/{other.id}/{honey['lot'].id}.svg").status_code == 404


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.S)


def test_a_lot_stamp_sheet_has_the_lot_qr_code_on_every_stamp(client, honey):
    product, lot = honey["product"], honey["lot"]
    page = client.get(f"/q/stamps/lot/{lot.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    svgs = _svgs(html)
    url = f"http://localhost/q/{product.id}/{lot.id}"
    assert len(svgs) == 24 and set(svgs) == {trace.qr_svg(url, scale=1, sized=False).strip()}
    assert html.count("<span>Lô MO-2611</span>") == 24
    assert len(_svgs(client.get(f"/q/stamps/lot/{lot.id}?copies=3").get_data(as_text=True))) == 3
    assert len(_svgs(client.get(f"/q/stamps/lot/{lot.id}?copies=99999").get_data(as_text=True))) == 24


def test_a_shop_stamp_sheet_has_one_stamp_per_lot_on_its_shelves(client, honey, make_product):
    shop = honey["shop"]
    tea = make_product("Trà hoa vàng", slug="tra-hoa-vang")
    inventory.receive(shop.id, tea.id, 5, lot_code="TV-1", produced_on=today_vn(),
                      best_before=today_vn() + timedelta(days=400))
    recalled = inventory.receive(shop.id, tea.id, 5, lot_code="TV-0").lot
    recalls.recall_lot(recalled.id, "test")
    db.session.commit()
    html = client.get(f"/q/stamps/shop/{shop.slug}").get_data(as_text=True)
    assert len(_svgs(html)) == 2 and "MO-2611" in html and "TV-1" in html and "TV-0" not in html
