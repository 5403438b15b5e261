"""Administrators' changes to shops and products, each kept in the audit history (``AuditEntry``).

Nothing that orders or the ledger refer to is deleted: a shop is *retired* (``Shop.active`` off —
it leaves pick-up, online sourcing, availability and the shop list at once, its ledger and orders
stay) and can be brought back; a product is retired by unlisting it (its page stays for QR stamps
and old links, ``Product.not_on_sale_reason`` says why it is not on sale).

Every function takes plain values, checks every field (``InvalidFields``, field names as in the
admin forms), writes one audit entry with the changed fields before and after, and flushes; the
caller commits. ``actor`` is the readable name kept with the entry, ``user_id`` the account.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.catalog.models import Product
from shop.errors import FieldErrors, InvalidInput, InvalidTransition, NotFound
from shop.extensions import db
from shop.inputs import column_text, whole_number
from shop.money import parse_vnd
from shop.phone import normalize_phone
from shop.shops.models import Shop

SHOP_FIELDS = ("name", "address", "phone", "opening_hours", "opening_hours_en", "offers_pickup", "ships_online")
PRODUCT_FIELDS = ("name", "name_en", "group", "unit", "unit_en", "weight_grams", "barcode", "price", "listed",
                  "producer")
MAX_PRICE = 100_000_000  # đồng; a price above it is a typing mistake
MAX_HOURS_TEXT = 1000
ACTIVE = Shop.active.key  # the field a retirement changes, as the history names it


def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def log(object_type: AuditObject, object_id: int, action: AuditAction, before: dict | None = None,
        after: dict | None = None, *, actor: str = "", user_id: int | None = None) -> AuditEntry:
    """Add one audit entry (not committed). ``before``/``after``: {field: value}, made JSON-ready."""
    entry = AuditEntry(object_type=object_type, object_id=object_id, action=action, actor=(actor or "")[:200],
                       user_id=user_id, before={k: _json(v) for k, v in (before or {}).items()},
                       after={k: _json(v) for k, v in (after or {}).items()})
    db.session.add(entry)
    return entry


def history(object_type: AuditObject, object_id: int, limit: int = 200) -> list[AuditEntry]:
    """The object's audit entries, newest first."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                            AuditEntry.object_id == object_id)
                                   .order_by(AuditEntry.id.desc()).limit(limit)))


def changes(obj, values: dict) -> tuple[dict, dict]:
    """Set ``values`` ({attribute: value}) on ``obj``; returns (before, after) of those that changed."""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = old, value
            setattr(obj, name, value)
    return before, after


def get_shop(slug: str) -> Shop:
    shop = db.session.scalar(select(Shop).where(Shop.slug == (slug or "")[:120]))
    if shop is None:
        raise NotFound(_("No such shop."))
    return shop


def _long_text(errors: FieldErrors, field: str, raw: str | None) -> str:
    text = (raw or "").strip()
    if len(text) > MAX_HOURS_TEXT:
        errors.add(field, _("At most %(num)d characters.", num=MAX_HOURS_TEXT))
    return text


def edit_shop(shop_id: int, *, name: str, address: str, phone: str, opening_hours: str, opening_hours_en: str,
              offers_pickup: bool, ships_online: bool, actor: str = "", user_id: int | None = None) -> Shop:
    """Change a shop's public details. Name required; phone as ``shop.phone.normalize_phone`` takes
    it (empty allowed). Raises ``NotFound`` or ``InvalidFields``; no entry when nothing changed."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    errors = FieldErrors()
    values = {
        "name": errors.check(column_text, name, Shop.name, "name", min_length=1),
        "address": errors.check(column_text, address, Shop.address, "address"),
        "phone": errors.check(normalize_phone, phone) if (phone or "").strip() else "",
        "opening_hours": _long_text(errors, "opening_hours", opening_hours),
        "opening_hours_en": _long_text(errors, "opening_hours_en", opening_hours_en),
        "offers_pickup": bool(offers_pickup), "ships_online": bool(ships_online),
    }
    errors.raise_if_any()
    before, after = changes(shop, values)
    if after:
        log(AuditObject.SHOP, shop.id, AuditAction.EDIT, before, after, actor=actor, user_id=user_id)
    db.session.flush()
    return shop


def open_shipments(shop_id: int) -> int:
    """How many of the shop's shipments are still in progress."""
    from sqlalchemy import func

    from shop.orders.enums import ShipmentState
    from shop.orders.models import Shipment

    done = (ShipmentState.DELIVERED, ShipmentState.COLLECTED, ShipmentState.CANCELLED)
    return db.session.scalar(select(func.count(Shipment.id)).where(Shipment.shop_id == shop_id,
                                                                   Shipment.state.not_in(done))) or 0


def retire_shop(shop_id: int, *, actor: str = "", user_id: int | None = None) -> Shop:
    """Retire a shop: it stops taking pick-ups and supplying online orders and leaves the public
    list at once; its stock, ledger and orders stay. Refused (``InvalidTransition``) while it is
    retired already or has shipments in progress (staff finish or cancel them first)."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    if not shop.active:
        raise InvalidTransition(_("This shop is retired already."))
    pending = open_shipments(shop.id)
    if pending:
        raise InvalidTransition(_("%(num)d shipments of this shop are still in progress: finish or cancel them first.",
                                  num=pending), shipments=pending)
    shop.active = False
    log(AuditObject.SHOP, shop.id, AuditAction.RETIRE, {ACTIVE: True}, {ACTIVE: False}, actor=actor,
        user_id=user_id)
    db.session.flush()
    return shop


def reopen_shop(shop_id: int, *, actor: str = "", user_id: int | None = None) -> Shop:
    """Bring a retired shop back. ``InvalidTransition`` when it is open."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    if shop.active:
        raise InvalidTransition(_("This shop is open."))
    shop.active = True
    log(AuditObject.SHOP, shop.id, AuditAction.REOPEN, {ACTIVE: False}, {ACTIVE: True}, actor=actor,
        user_id=user_id)
    db.session.flush()
    return shop


EAN13_LENGTH = 13
MAX_WEIGHT_GRAMS = 1_000_000  # a tonne: anything heavier is a typing mistake


def ean13_check_digit(first12: str) -> int:
    """The GS1 check digit of the first 12 digits of an EAN-13: weights 1, 3, 1, 3… from the
    left, the digit that brings the sum to a multiple of 10 (GS1 General Specifications 7.9)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def clean_barcode(raw: str | None, field: str = "barcode") -> str | None:
    """A barcode as stored: None when empty, else 13 ASCII digits whose last is the EAN-13 check
    digit (spaces and hyphens typed between groups are dropped). Raises ``InvalidInput(field)``
    naming the expected check digit when only that is wrong."""
    text = "".join((raw or "").split()).replace("-", "")
    if not text:
        return None
    if not (len(text) == EAN13_LENGTH and text.isascii() and text.isdigit()):
        raise InvalidInput(_("An EAN-13 barcode has 13 digits."), field=field)
    expected = ean13_check_digit(text[:12])
    if int(text[12]) != expected:
        raise InvalidInput(_("The check digit is wrong: a barcode starting %(start)s ends in %(digit)d. "
                             "Check the number on the label.", start=text[:12], digit=expected), field=field)
    return text


def _weight(errors: FieldErrors, raw) -> int | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    grams = whole_number(text, 1, MAX_WEIGHT_GRAMS)
    if grams is None:
        errors.add("weight_grams", _("Give the weight in whole grams, from 1 to 1,000,000."))
    return grams


def _product_values(errors: FieldErrors, *, name, name_en, unit, unit_en, price, listed, group, producer,
                    weight_grams, barcode, except_id: int | None = None) -> dict:
    """The checked values of a product form ({attribute: value}); problems go into ``errors``."""
    from shop.catalog.models import ProductGroup
    from shop.producers.models import Producer

    if isinstance(price, int):  # from code (an approved proposal)
        amount = price if price >= 0 else None
    else:
        try:  # as typed: "150000", "150.000", "150.000 ₫" (shop.money.parse_vnd)
            amount = parse_vnd(price, field="price") if price not in (None, "") else None
        except InvalidInput:
            amount = None
    if amount is not None and amount > MAX_PRICE:
        amount = None
    if amount is None:
        errors.add("price", _("Give the price in whole đồng, from 0 to 100,000,000."))
    elif listed and amount == 0:
        errors.add("listed", _("A product is listed only with a price."))
    group_id = whole_number(group, 1) if group not in (None, "") else None
    group_row = db.session.get(ProductGroup, group_id) if group_id is not None else None
    if group_row is None:
        errors.add("group", _("Choose the product group."))
    producer_row = None
    if producer not in (None, ""):
        producer_row = db.session.scalar(select(Producer).where(Producer.slug == str(producer)[:160]))
    if producer_row is None:
        errors.add("producer", _("Choose the producer."))
    code = errors.check(clean_barcode, barcode)
    if code is not None:
        other = db.session.scalar(select(Product).where(Product.barcode == code, Product.id != (except_id or 0)))
        if other is not None:
            errors.add("barcode", _("Another product already has this barcode: %(name)s.", name=other.name))
    return {
        "name": errors.check(column_text, name, Product.name, "name", min_length=1),
        "name_en": errors.check(column_text, name_en, Product.name_en, "name_en"),
        "group": group_row, "unit": errors.check(column_text, unit, Product.unit, "unit"),
        "unit_en": errors.check(column_text, unit_en, Product.unit_en, "unit_en"),
        "weight_grams": _weight(errors, weight_grams), "barcode": code, "price": amount, "listed": bool(listed),
        "producer": producer_row,
    }


def _shown(values: dict) -> dict:
    """Values as the history shows them: a group by its code, a producer by its name."""
    shown = dict(values)
    if shown.get("group") is not None:
        shown["group"] = shown["group"].code
    if shown.get("producer") is not None:
        shown["producer"] = shown["producer"].name
    return shown


def create_product(*, name: str, name_en: str = "", group, unit: str = "", unit_en: str = "", weight_grams=None,
                   barcode: str | None = None, price: str | int, listed: bool = False, producer,
                   actor: str = "", user_id: int | None = None) -> Product:
    """A new product: names (Vietnamese required), ``group`` a ProductGroup id, unit, weight in
    whole grams (1–1,000,000, empty allowed), barcode (empty, or an EAN-13 with a right check
    digit, not another product's), price in whole đồng (0–100,000,000), listed (needs a price
    and an active producer), ``producer`` a producer's slug. It is sold only once it also holds a
    valid certificate. Raises ``InvalidFields``; writes a ``CREATE`` entry."""
    from shop.text import slugify

    errors = FieldErrors()
    values = _product_values(errors, name=name, name_en=name_en, unit=unit, unit_en=unit_en, price=price,
                             listed=listed, group=group, producer=producer, weight_grams=weight_grams,
                             barcode=barcode)
    if values["listed"] and values["producer"] is not None and not values["producer"].active:
        errors.add("listed", _("This product's producer is retired: bring the producer back first."))
    errors.raise_if_any()
    base = (slugify(values["name"]) or "product")[:150]
    slug, n = base, 1
    while db.session.scalar(select(Product.id).where(Product.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    product = Product(slug=slug, **values)
    db.session.add(product)
    db.session.flush()
    log(AuditObject.PRODUCT, product.id, AuditAction.CREATE, {}, _shown(values), actor=actor, user_id=user_id)
    db.session.flush()
    return product


def edit_product(product_id: int, *, name: str, name_en: str, unit: str, unit_en: str, price: str | int,
                 listed: bool, group, producer, weight_grams=None, barcode: str | None = None, actor: str = "",
                 user_id: int | None = None) -> Product:
    """Change a product's names, group, unit, weight, barcode, price (whole đồng,
    0–100,000,000), producer and whether it is listed — the rules of ``create_product``.
    Unlisting retires it from sale (its QR page stays); listing needs a price above 0 and an
    active producer. Raises ``NotFound`` or ``InvalidFields``; no entry when nothing changed."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    errors = FieldErrors()
    values = _product_values(errors, name=name, name_en=name_en, unit=unit, unit_en=unit_en, price=price,
                             listed=listed, group=group, producer=producer, weight_grams=weight_grams,
                             barcode=barcode, except_id=product.id)
    new_producer = values["producer"] or product.producer
    if values["listed"] and not new_producer.active and (not product.listed or new_producer is not product.producer):
        errors.add("listed", _("This product's producer is retired: bring the producer back first."))
    errors.raise_if_any()
    before, after = changes(product, values)
    if after:
        action = AuditAction.RETIRE if after.get("listed") is False else AuditAction.EDIT
        log(AuditObject.PRODUCT, product.id, action, _shown(before), _shown(after), actor=actor, user_id=user_id)
    db.session.flush()
    return product
