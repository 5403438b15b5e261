"""Changes to a producer's story and its products' descriptions, in Markdown.

Texts are stored as typed (Markdown) and sanitised when rendered (``shop.markup.render_markdown``:
Markdown → HTML → nh3 with a short list of tags, ``href`` only with http(s)/mailto, no event
handler, no raw HTML that is not on the list), so the preview and the public page go through the
same function and no script or hostile markup reaches a visitor, whatever was saved.

Each function checks every field (``InvalidFields``, field names as in the portal's forms), writes
one audit entry (``shop.admin.records.log``) with the changed fields before and after, and flushes;
the caller commits. ``actor`` is the readable name kept with the entry, ``user_id`` the account.
"""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from shop.admin import records
from shop.admin.enums import AuditAction, AuditObject
from shop.catalog.models import Product
from shop.errors import FieldErrors, NotFound
from shop.extensions import db
from shop.producers.models import Producer

#: Characters a story or a description may hold (a long story is about 5,000).
TEXT_LIMIT = 20_000
STORY_FIELDS = ("story", "story_en")
DESCRIPTION_FIELDS = ("description", "description_en")


def clean_text(raw: str | None) -> str:
    """A Markdown text as stored: NFC, line ends ``\\n``, no trailing spaces at the end."""
    text = unicodedata.normalize("NFC", raw or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def check_texts(values: dict[str, str | None]) -> dict[str, str]:
    """{field: cleaned text}; ``InvalidFields`` names each text longer than ``TEXT_LIMIT``."""
    errors = FieldErrors()
    cleaned = {}
    for field, raw in values.items():
        text = clean_text(raw)
        if len(text) > TEXT_LIMIT:
            errors.add(field, _("At most %(num)d characters.", num=TEXT_LIMIT))
        cleaned[field] = text
    errors.raise_if_any()
    return cleaned


def _apply(obj, values: dict[str, str]) -> tuple[dict, dict]:
    before, after = {}, {}
    for field, value in values.items():
        if getattr(obj, field) != value:
            before[field], after[field] = getattr(obj, field), value
            setattr(obj, field, value)
    return before, after


def publish_story(producer_id: int, *, story: str | None, story_en: str | None, actor: str = "",
                  user_id: int | None = None) -> dict:
    """Publish a producer's story (Vietnamese and English Markdown). Returns {field: new text} of
    what changed (empty when nothing did: no audit entry then). Raises ``NotFound``, ``InvalidFields``."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    before, after = _apply(producer, check_texts({"story": story, "story_en": story_en}))
    if after:
        records.log(AuditObject.PRODUCER, producer.id, AuditAction.EDIT, before, after, actor=actor, user_id=user_id)
    db.session.flush()
    return after


def publish_descriptions(product_id: int, *, description: str | None, description_en: str | None,
                         actor: str = "", user_id: int | None = None) -> dict:
    """Publish a product's descriptions (Vietnamese and English Markdown); as ``publish_story``."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    before, after = _apply(product, check_texts({"description": description, "description_en": description_en}))
    if after:
        records.log(AuditObject.PRODUCT, product.id, AuditAction.EDIT, before, after, actor=actor, user_id=user_id)
    db.session.flush()
    return after
