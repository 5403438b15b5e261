"""The Bắc Kạn demo catalogue: complete, true to its rules, and safe to load twice."""
from pathlib import Path

from sqlalchemy import func, select

from shop.catalog.models import Certificate, Product
from shop.catalog.services import CatalogFilters, browse
from shop.extensions import db
from shop.inventory.models import StockMovement
from shop.inventory.services import ledger_mismatches
from shop.producers.models import Producer
from shop.seed.demo import seed_demo
from shop.shops.models import Shop
from shop.timeutil import today_vn


def counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Product, Producer, Certificate, Shop, StockMovement)}


def test_demo_seed_is_complete_and_idempotent(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    first = counts()
    assert first["Product"] >= 45 and first["Producer"] >= 15
    assert db.session.scalar(select(func.count()).where(Shop.kind == "shop")) == 10

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and counts() == first
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0 and counts() == first
    assert ledger_mismatches() == []

    by_name = {p.name: p for p in db.session.scalars(select(Product))}
    assert by_name["Miến dong Tài Hoan"].stars == 5
    for name in ("Gạo Nếp Tài", "Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin",
                 "Thực phẩm bảo vệ sức khoẻ Vicumax plus Nano Curcumin",
                 "Thực phẩm bảo vệ sức khoẻ Vicumax plus tam thất tiêu đen Nano Curcumin"):
        assert by_name[name].stars == 4, name

    # A true mix of certificate states, relative to today.
    today = today_vn()
    lapsed = [p for p in by_name.values() if p.valid_certificate() is None]
    assert {p.latest_certificate.status for p in lapsed} == {"active", "revoked"}  # one expired, one revoked
    assert len(lapsed) == 2
    expiring = [p for p in by_name.values() if p.valid_certificate() and p.valid_certificate().days_to_expiry(today) <= 60]
    assert len(expiring) >= 2

    # Pictures are drawn locally for every product and producer.
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert all((uploads / p.image).is_file() for p in by_name.values())

    # An install seeded before pictures lost their text moves to the new pictures; a picture the
    # shop uploaded itself is kept.
    old, own = by_name["Gạo Nếp Tài"], by_name["Miến dong Tài Hoan"]
    new_name = old.image
    old.image, own.image = new_name.replace("-v2.jpg", ".jpg"), "products/our-own-photo.jpg"
    (uploads / new_name).unlink()
    db.session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert old.image == new_name and (uploads / new_name).is_file()
    assert own.image == "products/our-own-photo.jpg"

    # Search works on the real names.
    assert browse(CatalogFilters(q="nep tai", sort="relevance")).items[0].product.name == "Gạo Nếp Tài"
    assert browse(CatalogFilters(q="mien dong na ri", sort="relevance")).items[0].product.name == "Miến dong Tài Hoan"


def test_demo_pictures_carry_no_text(tmp_path, monkeypatch):
    """Text drawn into a picture can be neither translated nor resized: the page carries it."""
    from PIL import ImageDraw

    from shop.seed import images

    drawn = []
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, *a, **k: drawn.append(a))
    monkeypatch.setattr(ImageDraw.ImageDraw, "multiline_text", lambda self, *a, **k: drawn.append(a))
    images.product_picture(tmp_path / "p.jpg", unit="túi 1 kg", group_code="I.1", seed="mien")
    images.cover_picture(tmp_path / "c.jpg", scene="lake", seed="ba-be")
    assert drawn == [] and (tmp_path / "p.jpg").stat().st_size > 0 and (tmp_path / "c.jpg").is_file()
