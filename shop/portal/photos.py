"""Product photos and producers' cover pictures uploaded from the portal.

An upload is judged by its content, never by its name alone:

1. its name must end in ``.jpg``, ``.jpeg``, ``.png``, ``.webp`` (or ``.heic``/``.heif`` when
   Pillow can read HEIF here — it cannot without the ``pillow-heif`` plug-in, so HEIC is refused
   with a message saying so), and it must be at most ``PHOTO_MAX_BYTES`` (5 MB; the site refuses
   any request over ``MAX_CONTENT_LENGTH``, 8 MB, before reading it: a 413 with the same form);
2. its first bytes must be those of a JPEG, PNG or WebP (an SVG drawing, a PDF, a text or a
   program renamed ``.jpg`` is refused), and Pillow must read it as that format;
3. polyglots are refused: a file with markup or script anywhere (``<script``, ``<svg``, ``<html``,
   ``<?php``, ``javascript:``…), or with another format's data after the picture ends (a ZIP or
   JAR, a PDF, a program, markup); other trailing data (a phone's motion-photo clip) is dropped;
4. decompression bombs are refused before decoding: more than ``PHOTO_MAX_PIXELS`` (40 million)
   pixels from the header, and Pillow's own ``DecompressionBombWarning``/``Error`` are errors too;
   fewer than ``PHOTO_MIN_SIDE`` (300) pixels on a side is too small to show.

What is kept is not the upload: the pixels are decoded, turned upright (EXIF orientation), put on
white if transparent, resized to at most ``PHOTO_MAX_SIDE`` (1600) pixels and re-encoded as a new
JPEG with no metadata at all — EXIF (GPS position, camera, time), XMP, ICC and comments are gone.
The file gets a random name under ``photos/`` (``covers/`` for producers) in the upload folder
(never committed: ``instance/uploads`` is outside git), and the catalogue's WebP copies for cards
(240 and 480 px, ``shop.media``) are made at once; the larger ones on first request, as for every
picture.

How a file ends: a photo removed from the portal loses its row in the same transaction, and its
file and WebP copies are deleted once that transaction has committed (``delete_files``). A file
whose deletion did not happen (the process stopped in between) or whose row was never committed
(an upload that failed after writing) is an orphan: ``.venv/bin/flask --app wsgi portal orphans`` lists the
files under ``photos/`` and ``covers/`` that nothing refers to, ``--delete`` removes them. Pictures
outside those folders (the demo's ``products/``) are never deleted by the portal.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from shop import media
from shop.admin import records
from shop.admin.enums import AuditAction, AuditObject
from shop.catalog.models import Product
from shop.errors import InvalidInput, NotFound
from shop.extensions import db
from shop.portal.models import ProductPhoto
from shop.producers.models import Producer

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_MIN_SIDE = 300
PHOTO_MAX_SIDE = 1600
PHOTO_QUALITY = 85
MAX_PHOTOS = 12  # per product
CARD_WIDTHS = (240, 480)  # the catalogue's card sizes, made at upload
PHOTOS_DIR = "photos"
COVERS_DIR = "covers"
FIELD = "photo"

EXTENSIONS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF", "heif": "HEIF"}
_MARKUP = re.compile(rb"<(?:script|svg|html|iframe|object|embed|body|\?php|!doctype)[\s>/]|javascript:", re.I)
_FOREIGN = (b"PK\x03\x04", b"%PDF-", b"MZ", b"<", b"#!", b"\x7fELF", b"Rar!", b"7z\xbc\xaf")


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field=FIELD)


def heif_readable() -> bool:
    """Whether Pillow can read HEIC/HEIF here (a plug-in such as pillow-heif registered)."""
    return ".heic" in Image.registered_extensions()


def sniff(data: bytes) -> str | None:
    """The format the first bytes announce: ``JPEG``, ``PNG``, ``WEBP``, ``HEIF``, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
        return "HEIF"
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Offset just past a JPEG's end-of-image marker, walking its segments (an EXIF thumbnail's own
    end marker is inside a segment and skipped); None when the file has no end."""
    i, n = 2, len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        i += 2 + length
        if marker == 0xDA:  # entropy-coded data: up to the next marker that is not a stuffed byte or a restart
            while i + 1 < n:
                if data[i] == 0xFF and data[i + 1] != 0x00 and not 0xD0 <= data[i + 1] <= 0xD7:
                    break
                i += 1
    return None


def _png_end(data: bytes) -> int | None:
    i, n = 8, len(data)
    while i + 8 <= n:
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i
    return None


def _end_of_picture(fmt: str, data: bytes) -> int | None:
    if fmt == "JPEG":
        return _jpeg_end(data)
    if fmt == "PNG":
        return _png_end(data)
    if fmt == "WEBP":
        return 8 + int.from_bytes(data[4:8], "little")
    return len(data)


def check_polyglot(fmt: str, data: bytes) -> None:
    """Refuse a file that is also something else (``InvalidInput``): markup or script anywhere, or
    another format's data after the picture ends."""
    if _MARKUP.search(data):
        raise _refuse(_("This file holds code or markup besides a picture: it is refused. Export the photo again "
                        "as a plain JPEG or PNG."))
    end = _end_of_picture(fmt, data)
    if end is None:
        raise _refuse(_("This photo is damaged or incomplete: it cannot be read."))
    trailer = data[end:].lstrip(b"\x00 \r\n\t")
    if trailer and trailer.startswith(_FOREIGN):
        raise _refuse(_("This file holds another file after the picture: it is refused. Export the photo again "
                        "as a plain JPEG or PNG."))


def read_upload(filename: str | None, data: bytes) -> Image.Image:
    """The upload checked (see the module's notes) and decoded: an upright RGB picture of at most
    ``PHOTO_MAX_SIDE`` pixels. Raises ``InvalidInput`` (field ``photo``) with the reason, in the
    page's language."""
    name = (filename or "").strip()
    if not name or not data:
        raise _refuse(_("Choose a photo."))
    max_bytes = current_app.config.get("PHOTO_MAX_BYTES", PHOTO_MAX_BYTES)
    if len(data) > max_bytes:
        raise _refuse(_("The photo is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024)))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise _refuse(_("Choose a photo in JPEG, PNG or WebP (a name ending in .jpg, .png or .webp)."))
    fmt = sniff(data)
    if fmt == "HEIF" and not heif_readable():
        raise _refuse(_("HEIC photos cannot be read here: set the phone to take JPEG photos, or export the "
                        "photo as JPEG."))
    if fmt is None:
        head = data[:512].lstrip().lower()
        if head.startswith((b"<?xml", b"<svg")) or b"<svg" in head:
            raise _refuse(_("SVG drawings are not accepted: upload a photo in JPEG, PNG or WebP."))
        raise _refuse(_("This file is not a photo in JPEG, PNG or WebP, whatever its name says."))
    check_polyglot(fmt, data)
    max_pixels = current_app.config.get("PHOTO_MAX_PIXELS", PHOTO_MAX_PIXELS)
    too_many = _("The photo has too many pixels (at most %(mp)d million): make it smaller first.",
                 mp=max_pixels // 1_000_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            if image.width * image.height > max_pixels:
                raise _refuse(too_many)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(too_many) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _refuse(_("This photo is damaged or incomplete: it cannot be read.")) from None
    if min(image.size) < PHOTO_MIN_SIDE:
        raise _refuse(_("The photo is too small: at least %(px)d pixels on each side.", px=PHOTO_MIN_SIDE))
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    image = image.convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def _root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _write(image: Image.Image, folder: str, stem: str) -> str:
    """Save ``image`` as a new JPEG (no metadata) under ``folder`` with a random name; returns the
    path relative to the upload folder. Written to a temporary name and renamed."""
    slug = re.sub(r"[^a-z0-9-]", "", stem.lower())[:60] or "photo"
    relative = f"{folder}/{slug}-{secrets.token_hex(6)}.jpg"
    target = _root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(handle)
    try:
        image.save(temporary, "JPEG", quality=PHOTO_QUALITY, optimize=True, progressive=True)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    media.make_variants(_root(), relative, CARD_WIDTHS)
    return relative


def _ours(path: str | None) -> bool:
    return bool(path) and path.startswith((PHOTOS_DIR + "/", COVERS_DIR + "/"))


def delete_files(paths) -> int:
    """Delete the portal's files (under ``photos/`` or ``covers/``) and their WebP copies, after the
    transaction that dropped them has committed; other paths are left alone. Returns files deleted."""
    root, deleted = _root(), 0
    for path in paths:
        if not _ours(path):
            continue
        stem = path.rsplit(".", 1)[0]
        for full in [root / path, *(root / media.SIZED).glob(f"{stem}-*w.webp")]:
            try:
                full.unlink()
                deleted += 1
            except FileNotFoundError:
                pass
    return deleted


def photos_of(product_id: int) -> list[ProductPhoto]:
    """A product's photos in their order (the first is the product's picture)."""
    return list(db.session.scalars(select(ProductPhoto).where(ProductPhoto.product_id == product_id)
                                   .order_by(ProductPhoto.position, ProductPhoto.id)))


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def _adopt_current_picture(product: Product, rows: list[ProductPhoto]) -> list[ProductPhoto]:
    """A product pictured before it had photo rows (the demo's, an import's): its picture becomes
    the first row, so that it can be reordered or removed like the others."""
    if rows or not product.image:
        return rows
    info = media.image_info(product.image)
    row = ProductPhoto(product_id=product.id, path=product.image, position=0,
                       width=info.width if info else 0, height=info.height if info else 0)
    db.session.add(row)
    return [row]


def _renumber_and_sync(product: Product, rows: list[ProductPhoto], *, actor: str, user_id: int | None) -> None:
    for position, row in enumerate(rows):
        row.position = position
    first = rows[0].path if rows else None
    if product.image != first:
        records.log(AuditObject.PRODUCT, product.id, AuditAction.EDIT, {"image": product.image}, {"image": first},
                    actor=actor, user_id=user_id)
        product.image = first
    db.session.flush()


def add_photo(product_id: int, filename: str | None, data: bytes, *, actor: str = "",
              user_id: int | None = None) -> ProductPhoto:
    """Check, re-encode and store an uploaded photo as the product's last one (the first photo
    is the product's picture). Raises ``InvalidInput`` (the reason) or ``NotFound``; the caller
    commits (and on failure calls ``delete_files`` with the photo's path)."""
    product = _product(product_id)
    rows = _adopt_current_picture(product, photos_of(product.id))
    if len(rows) >= MAX_PHOTOS:
        raise _refuse(_("A product has at most %(num)d photos: remove one first.", num=MAX_PHOTOS))
    image = read_upload(filename, data)
    path = _write(image, PHOTOS_DIR, product.slug)
    row = ProductPhoto(product_id=product.id, path=path, position=len(rows), width=image.width,
                       height=image.height, uploaded_by=user_id)
    db.session.add(row)
    _renumber_and_sync(product, rows + [row], actor=actor, user_id=user_id)
    return row


def _photo_of(product_id: int, photo_id: int) -> ProductPhoto:
    row = db.session.scalar(select(ProductPhoto).where(ProductPhoto.id == photo_id,
                                                       ProductPhoto.product_id == product_id))
    if row is None:
        raise NotFound(_("No such photo."))
    return row


def move_photo(product_id: int, photo_id: int, offset: int, *, actor: str = "", user_id: int | None = None) -> None:
    """Move a photo ``offset`` places (-1 earlier, +1 later; to the front with a large negative);
    moving the first one changes the product's picture. ``NotFound`` for another product's photo."""
    product = _product(product_id)
    target = _photo_of(product.id, photo_id)
    rows = photos_of(product.id)
    index = rows.index(target)
    rows.pop(index)
    rows.insert(max(0, min(len(rows), index + offset)), target)
    _renumber_and_sync(product, rows, actor=actor, user_id=user_id)


def remove_photo(product_id: int, photo_id: int, *, actor: str = "", user_id: int | None = None) -> str:
    """Remove a photo's row (the next one becomes the product's picture; none left: no picture).
    Returns its path: the caller deletes the file with ``delete_files`` after committing."""
    product = _product(product_id)
    target = _photo_of(product.id, photo_id)
    rows = [row for row in photos_of(product.id) if row.id != target.id]
    db.session.delete(target)
    _renumber_and_sync(product, rows, actor=actor, user_id=user_id)
    return target.path


def set_cover(producer_id: int, filename: str | None, data: bytes, *, actor: str = "",
              user_id: int | None = None) -> tuple[str, str | None]:
    """Check and store a producer's cover picture (the wide photo on its public page). Returns
    (new path, old path): the caller deletes the old file with ``delete_files`` after committing."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    image = read_upload(filename, data)
    path = _write(image, COVERS_DIR, producer.slug)
    old = producer.cover_image
    records.log(AuditObject.PRODUCER, producer.id, AuditAction.EDIT, {"cover_image": old}, {"cover_image": path},
                actor=actor, user_id=user_id)
    producer.cover_image = path
    db.session.flush()
    return path, old


def orphans() -> list[str]:
    """Files under ``photos/`` and ``covers/`` (and their WebP copies) that no photo row, product
    or producer refers to, relative to the upload folder."""
    root = _root()
    used = set(db.session.scalars(select(ProductPhoto.path)))
    used |= {p for p in db.session.scalars(select(Product.image).where(Product.image.is_not(None)))}
    used |= {p for p in db.session.scalars(select(Producer.cover_image).where(Producer.cover_image.is_not(None)))}
    used_stems = {p.rsplit(".", 1)[0] for p in used}
    found = []
    for folder in (PHOTOS_DIR, COVERS_DIR):
        for full in sorted((root / folder).glob("*")):
            relative = full.relative_to(root).as_posix()
            if full.is_file() and relative not in used:
                found.append(relative)
        for full in sorted((root / media.SIZED / folder).glob("*.webp")):
            relative = full.relative_to(root / media.SIZED).as_posix()
            stem = re.sub(r"-[0-9]{2,4}w\.webp$", "", relative)
            if stem not in used_stems:
                found.append(f"{media.SIZED}/{relative}")
    return found


def photo_count(product_id: int) -> int:
    return db.session.scalar(select(func.count(ProductPhoto.id)).where(ProductPhoto.product_id == product_id)) or 0
