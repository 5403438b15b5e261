"""Pictures in the upload folder, and the smaller WebP copies pages ask for with ``srcset``.

A stored picture (say ``products/gao-nep-tai-v2.jpg``, 800×800) gets WebP copies at the widths of
``WIDTHS`` narrower than itself, plus one at its own width:
``_sized/products/gao-nep-tai-v2-480w.webp``. ``flask --app wsgi media-variants`` makes every
missing copy (run it after loading pictures, e.g. after ``seed-demo``, or in a deploy); a copy still
missing is made the first time a browser asks for it (``/media/_sized/…``, see ``serve``), once:
the file stays. (The demo seed does not make them itself: encoding ~300 copies would add minutes
to the first ``make run`` on a small machine, while a page needs only the few it shows.) Pages read each picture's
size (``image_info``, from the file's header, cached per file version) to write ``width``/``height``
that match its ratio and the ``srcset`` of its copies (templates/macros/_picture.html); the
original JPEG stays the ``src`` for browsers without WebP.

Files are written to a temporary name and renamed, so two requests for a missing copy never serve
half a file.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import abort, current_app, send_from_directory, url_for
from PIL import Image, UnidentifiedImageError
from werkzeug.security import safe_join

#: Widths (CSS pixels × device pixel ratio) of the WebP copies: a card on a phone at DPR 3 wants
#: about 520 px, the product page's main photo on a phone about 1100.
WIDTHS = (240, 480, 640, 800, 1200)
WEBP_QUALITY = 74
SIZED = "_sized"
_VARIANT = re.compile(r"(?P<stem>.+)-(?P<width>[0-9]{2,4})w\.webp")
CACHE_SECONDS = 30 * 24 * 3600  # pictures never change under one name: a new picture gets a new name


@dataclass(frozen=True)
class ImageInfo:
    """A stored picture's pixel size and the WebP copies available for it."""

    path: str
    width: int
    height: int

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(w for w in WIDTHS if w < self.width) + (self.width,)

    def webp_srcset(self) -> str:
        """``"…-240w.webp 240w, …-480w.webp 480w, …"`` (URLs under /media/_sized/)."""
        return ", ".join(f"{url_for('media', filename=variant_path(self.path, w))} {w}w" for w in self.widths)


def variant_path(path: str, width: int) -> str:
    """``products/x.jpg`` at 480 px → ``_sized/products/x-480w.webp`` (relative to the upload folder)."""
    stem = path.rsplit(".", 1)[0]
    return f"{SIZED}/{stem}-{width}w.webp"


def _root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


@lru_cache(maxsize=4096)
def _read_size(full: str, version: int) -> tuple[int, int] | None:
    try:
        with Image.open(full) as img:
            return img.size
    except (OSError, UnidentifiedImageError):
        return None


def image_info(path: str | None) -> ImageInfo | None:
    """Size of the stored picture ``path`` (relative to the upload folder); None if it is missing
    or not a picture. Reads only the file's header, once per file version (mtime)."""
    if not path:
        return None
    full = _root() / path
    try:
        version = full.stat().st_mtime_ns
    except OSError:
        return None
    size = _read_size(str(full), version)
    return ImageInfo(path, *size) if size else None


def _write_variant(source: Image.Image, target: Path, width: int) -> None:
    height = max(1, round(source.height * width / source.width))
    copy = source if width == source.width else source.resize((width, height), Image.Resampling.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(handle)
    try:
        copy.save(temporary, "WEBP", quality=WEBP_QUALITY, method=5)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def make_variants(root: Path, path: str, widths: tuple[int, ...] | None = None) -> list[str]:
    """Write the missing WebP copies of ``root / path`` (all of ``ImageInfo.widths``, or only
    ``widths``); returns the paths written. A missing or unreadable picture writes nothing."""
    written = []
    try:
        with Image.open(root / path) as img:
            img.load()
            source = img.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return written
    wanted = ImageInfo(path, *source.size).widths
    for width in widths or wanted:
        if width not in wanted:
            continue
        relative = variant_path(path, width)
        if not (root / relative).is_file():
            _write_variant(source, root / relative, width)
            written.append(relative)
    return written


def make_all_variants(root: Path) -> int:
    """Make every missing WebP copy of the pictures under ``root``; returns how many were written."""
    written = 0
    for full in sorted(root.rglob("*")):
        relative = full.relative_to(root).as_posix()
        if full.suffix.lower() in (".jpg", ".jpeg", ".png") and not relative.startswith(SIZED + "/"):
            written += len(make_variants(root, relative))
    return written


def serve(filename: str):
    """``/media/<filename>``: a stored picture, or a WebP copy made now if it is missing.

    A copy is made only for a width a page can ask for (``ImageInfo.widths``) of a picture that
    exists; anything else is a 404.
    """
    root = _root()
    if filename.startswith(SIZED + "/") and not (root / filename).is_file():
        match = _VARIANT.fullmatch(filename[len(SIZED) + 1:])
        if match is None:
            abort(404)
        width = int(match["width"])
        for suffix in (".jpg", ".jpeg", ".png", ".webp"):
            original = match["stem"] + suffix
            full = safe_join(str(root), original)  # None for "..", absolute paths and the like
            if full is not None and os.path.isfile(full):
                make_variants(root, original, (width,))
                break
    return send_from_directory(root, filename, max_age=CACHE_SECONDS)
