"""Photos from the producer portal: checked by content, re-encoded without metadata, ordered,
removed; hostile files refused with a clear message and nothing changed (issue 15)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from shop.admin.enums import AuditObject
from shop.admin.models import AuditEntry
from shop.extensions import db
from shop.portal.models import ProductPhoto

from accounts_helpers import make_user, sign_in


def jpeg(size=(800, 600), color=(200, 100, 50), exif=None, **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=80, exif=exif or b"", **save)
    return buffer.getvalue()


def png(size=(600, 600), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 0) if mode == "RGBA" else 0).save(buffer, "PNG")
    return buffer.getvalue()


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "Pixel 9 Pro"  # camera model
    exif[0x0132] = "2026:11:30 08:00:00"
    exif[0x8825] = {1: "N", 2: (22.0, 8.0, 30.0), 3: "E", 4: (105.0, 50.0, 10.0)}  # GPS position
    return exif.tobytes()


@pytest.fixture
def shelf(app, client, make_product, make_producer, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))  # files of this test only
    x, y = make_producer(name="HTX Tài Hoan"), make_producer(name="HTX Bản Cháo")
    mien = make_product("Miến dong Tài Hoan", producer=x)
    che = make_product("Chè Shan tuyết", producer=y)
    db.session.commit()
    user = make_user("producer", producer=x.slug, name="Anh Tài")
    other = make_user("producer", producer=y.slug)
    assert sign_in(client, user.email).status_code == 302
    root = Path(app.config["UPLOAD_FOLDER"])
    return {"x": x, "y": y, "mien": mien, "che": che, "user": user, "other": other, "root": root,
            "url": f"/portal/{x.slug}/products/{mien.slug}/photos"}


def upload(client, url, data: bytes, name="anh.jpg", lang=None):
    target = url + (f"?lang={lang}" if lang else "")
    return client.post(target, data={"photo": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def photo_rows(product):
    return list(db.session.scalars(select(ProductPhoto).where(ProductPhoto.product_id == product.id)
                                   .order_by(ProductPhoto.position)))


def test_a_photo_is_re_encoded_resized_and_stripped_of_its_gps_position(client, shelf):
    original = jpeg((3000, 2000), exif=gps_exif())
    assert b"Pixel 9 Pro" in original
    response = upload(client, shelf["url"], original, name="IMG_0001.JPG")
    assert response.status_code == 302
    (row,) = photo_rows(shelf["mien"])
    stored = (shelf["root"] / row.path).read_bytes()
    assert row.path.startswith("photos/") and row.path.endswith(".jpg")
    assert b"Pixel 9 Pro" not in stored and b"GPS" not in stored and b"Exif" not in stored
    with Image.open(shelf["root"] / row.path) as image:
        assert image.format == "JPEG" and max(image.size) == 1600 and image.size == (1600, 1067)
        assert len(image.getexif()) == 0
    db.session.refresh(shelf["mien"])
    assert shelf["mien"].image == row.path
    stem = row.path.rsplit(".", 1)[0]
    assert (shelf["root"] / f"_sized/{stem}-240w.webp").is_file()
    assert (shelf["root"] / f"_sized/{stem}-480w.webp").is_file()
    catalogue = client.get("/products").get_data(as_text=True)
    assert f"/media/{row.path}" in catalogue
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCT))
    assert audit.after == {"image": row.path} and audit.user_id == shelf["user"].id


def test_a_transparent_png_is_put_on_white(client, shelf):
    assert upload(client, shelf["url"], png(), name="logo.png").status_code == 302
    (row,) = photo_rows(shelf["mien"])
    with Image.open(shelf["root"] / row.path) as image:
        assert image.mode == "RGB" and image.getpixel((10, 10)) == (255, 255, 255)


def test_photos_are_reordered_and_removed_and_the_first_is_the_products_picture(client, shelf):
    for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        assert upload(client, shelf["url"], jpeg(color=color)).status_code == 302
    first, second, third = photo_rows(shelf["mien"])
    assert client.post(f"{shelf['url']}/{third.id}/first").status_code == 302
    assert [r.id for r in photo_rows(shelf["mien"])] == [third.id, first.id, second.id]
    db.session.refresh(shelf["mien"])
    assert shelf["mien"].image == third.path
    assert client.post(f"{shelf['url']}/{first.id}/down").status_code == 302
    assert [r.id for r in photo_rows(shelf["mien"])] == [third.id, second.id, first.id]
    path = third.path
    assert client.post(f"{shelf['url']}/{third.id}/remove").status_code == 302
    assert not (shelf["root"] / path).exists()
    assert not list((shelf["root"] / "_sized/photos").glob(Path(path).stem + "-*"))
    db.session.refresh(shelf["mien"])
    assert shelf["mien"].image == second.path
    for row in photo_rows(shelf["mien"]):
        client.post(f"{shelf['url']}/{row.id}/remove")
    db.session.refresh(shelf["mien"])
    assert shelf["mien"].image is None and photo_rows(shelf["mien"]) == []


def test_a_picture_from_the_catalogue_becomes_the_first_photo_when_one_is_added(app, client, shelf):
    seed = shelf["root"] / "products/mien.jpg"
    seed.parent.mkdir(parents=True, exist_ok=True)
    seed.write_bytes(jpeg())
    shelf["mien"].image = "products/mien.jpg"
    db.session.commit()
    assert upload(client, shelf["url"], jpeg(color=(1, 2, 3))).status_code == 302
    rows = photo_rows(shelf["mien"])
    assert [r.path for r in rows][0] == "products/mien.jpg" and len(rows) == 2
    client.post(f"{shelf['url']}/{rows[0].id}/remove")
    assert seed.exists()  # the portal never deletes pictures outside photos/ and covers/


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.jsp", "<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>")
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000), 0).save(buffer, "PNG")  # about 12 KB, 100 million pixels
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HOSTILE = {
    "wrong extension": (jpeg(), "photo.php", "Hãy chọn ảnh JPEG, PNG hoặc WebP", "Choose a photo in JPEG, PNG or WebP"),
    "text named .jpg": (b"just some text, not a photo" * 20, "photo.jpg", "không phải ảnh JPEG, PNG hay WebP",
                        "is not a photo in JPEG, PNG or WebP"),
    "svg with script named .jpg": (SVG, "photo.jpg", "Không nhận bản vẽ SVG", "SVG drawings are not accepted"),
    "svg with script named .svg": (SVG, "drawing.svg", "Hãy chọn ảnh JPEG, PNG hoặc WebP",
                                   "Choose a photo in JPEG, PNG or WebP"),
    "jpeg + zip polyglot": (jpeg() + _zip(), "photo.jpg", "chứa một tệp khác", "holds another file"),
    "jpeg with a script in a comment": (jpeg(comment=b"<script>alert(1)</script>"), "photo.jpg", "chứa mã",
                                        "holds code or markup"),
    "html after the picture": (jpeg() + b"<html><body onload=alert(1)>", "photo.jpg", "chứa mã",
                               "holds code or markup"),
    "decompression bomb": (_bomb(), "bomb.png", "quá nhiều điểm ảnh", "too many pixels"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200, "IMG_0002.HEIC",
             "Không đọc được ảnh HEIC", "HEIC photos cannot be read here"),
    "truncated jpeg": (jpeg()[:2000], "photo.jpg", "bị hỏng", "damaged or incomplete"),
    "too small": (jpeg((120, 120)), "photo.jpg", "quá nhỏ", "too small"),
    "over 5 MB": (jpeg() + b"\x00" * (5 * 1024 * 1024), "photo.jpg", "lớn hơn 5 MB", "larger than 5 MB"),
    "empty": (b"", "photo.jpg", "Hãy chọn một ảnh", "Choose a photo"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_are_refused_in_the_pages_language_and_change_nothing(client, shelf, case):
    data, name, vietnamese, english = HOSTILE[case]
    response = upload(client, shelf["url"], data, name=name)
    assert response.status_code == 400, case
    assert vietnamese in response.get_data(as_text=True), case
    response = upload(client, shelf["url"], data, name=name, lang="en")
    assert response.status_code == 400 and english in response.get_data(as_text=True), case
    assert photo_rows(shelf["mien"]) == []
    db.session.refresh(shelf["mien"])
    assert shelf["mien"].image is None
    assert not (shelf["root"] / "photos").exists() or not list((shelf["root"] / "photos").glob("*"))


def test_an_upload_over_the_sites_request_limit_gets_the_page_with_the_reason(client, shelf):
    response = upload(client, shelf["url"], b"\xff\xd8\xff" + b"\x00" * (9 * 1024 * 1024))
    assert response.status_code == 413 and "lớn hơn 5 MB" in response.get_data(as_text=True)
    assert photo_rows(shelf["mien"]) == []
    che_url = f"/portal/{shelf['y'].slug}/products/{shelf['che'].slug}/photos"
    assert upload(client, che_url, b"\xff\xd8\xff" + b"\x00" * (9 * 1024 * 1024)).status_code == 404


def test_the_cover_picture_is_replaced_and_the_old_file_deleted(client, shelf):
    url = f"/portal/{shelf['x'].slug}/cover"
    assert upload(client, url, jpeg((1200, 600), exif=gps_exif())).status_code == 302
    db.session.refresh(shelf["x"])
    first = shelf["x"].cover_image
    assert first.startswith("covers/") and b"Pixel 9 Pro" not in (shelf["root"] / first).read_bytes()
    assert upload(client, url, jpeg((1200, 600), color=(0, 0, 0))).status_code == 302
    db.session.refresh(shelf["x"])
    assert shelf["x"].cover_image != first and not (shelf["root"] / first).exists()
    response = upload(client, url, SVG, name="cover.jpg")
    assert response.status_code == 400 and "Không nhận bản vẽ SVG" in response.get_data(as_text=True)
    assert client.get(f"/producers/{shelf['x'].slug}").get_data(as_text=True).count(shelf["x"].cover_image) >= 1


def test_another_producers_photos_are_a_404_even_by_guessed_ids(client, shelf, app):
    from accounts_helpers import sign_in as again

    assert upload(client, shelf["url"], jpeg()).status_code == 302
    (row,) = photo_rows(shelf["mien"])
    che_url = f"/portal/{shelf['y'].slug}/products/{shelf['che'].slug}/photos"
    assert client.get(che_url).status_code == 404
    assert upload(client, che_url, jpeg()).status_code == 404
    # Y's product under X's slug, and X's photo id under Y's product.
    assert client.get(f"/portal/{shelf['x'].slug}/products/{shelf['che'].slug}/photos").status_code == 404
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    intruder = app.test_client()
    again(intruder, shelf["other"].email)
    for move in ("first", "up", "down", "remove"):
        assert intruder.post(f"{shelf['url']}/{row.id}/{move}").status_code == 404
        assert intruder.post(f"{che_url}/{row.id}/{move}").status_code == 404
    assert client.post(f"{shelf['url']}/2147483647/remove").status_code == 404
    assert (shelf["root"] / row.path).exists() and len(photo_rows(shelf["mien"])) == 1


def test_an_administrator_has_the_same_photo_page_for_any_product(app, shelf):
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    admin_client = app.test_client()
    admin = make_user("admin")
    sign_in(admin_client, admin.email)
    che_url = f"/portal/{shelf['y'].slug}/products/{shelf['che'].slug}/photos"
    assert admin_client.get(che_url).status_code == 200
    assert upload(admin_client, che_url, jpeg()).status_code == 302
    (row,) = photo_rows(shelf["che"])
    assert row.uploaded_by == admin.id
    assert admin_client.get(f"/admin/products/{shelf['che'].slug}/photos").headers["Location"].endswith(che_url)


def test_orphaned_files_are_listed_and_deleted_by_the_command(app, client, shelf):
    assert upload(client, shelf["url"], jpeg()).status_code == 302
    (row,) = photo_rows(shelf["mien"])
    stray = shelf["root"] / "photos/left-behind-0000.jpg"
    stray.write_bytes(jpeg())
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["portal", "orphans"])
    assert "photos/left-behind-0000.jpg" in listed.output and row.path not in listed.output
    assert stray.exists()
    deleted = runner.invoke(args=["portal", "orphans", "--delete"])
    assert "1 orphaned file(s) deleted" in deleted.output and not stray.exists()
    assert (shelf["root"] / row.path).exists()
    assert db.session.scalar(select(func.count(ProductPhoto.id))) == 1
