"""Administrators' work on producers: list (search and filters), create, edit, retire and bring
back — each change kept in the audit history (``AuditEntry``, object type ``PRODUCER``).

Nothing that orders or the ledger refer to is deleted. **Retiring** a producer turns
``Producer.active`` off (it leaves the public directory and the home page) and *unlists* every
listed product of it in the same transaction — each product gets its own ``RETIRE`` entry — so
the products leave sale everywhere the shop sells (catalogue, search, cart, checkout, API) by
the one rule that already governs sale (``Product.listed``); their pages stay for QR stamps and
old links. While the producer is retired none of its products can be listed again
(``records.edit_product`` refuses). **Bringing it back** relists the products that the
retirement unlisted (the ids are kept in the retirement's audit entry) and that still have a
price; products unlisted before stay unlisted.

Every function takes plain values, checks every field (``InvalidFields``, field names as in
``shop.admin.forms.ProducerForm``), writes its audit entry and flushes; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.admin.records import changes, log
from shop.catalog.models import Product
from shop.errors import FieldErrors, InvalidInput, InvalidTransition, NotFound
from shop.extensions import db
from shop.inputs import column_text, whole_number
from shop.phone import normalize_phone
from shop.places.models import Locality
from shop.producers.enums import ProducerKind
from shop.producers.models import Producer
from shop.text import fold, slugify

PRODUCER_FIELDS = ("name", "kind", "locality", "address", "phone", "story", "story_en")
MAX_STORY = 20_000  # characters of Markdown
RESERVED_SLUGS = {"new"}  # vocabulary: path segments of /admin/producers/…
LIST_LIMIT = 300  # rows a list page shows
ACTIVE = Producer.active.key  # the field a retirement changes, as the history names it
UNLISTED_IDS = "unlisted_ids"  # the retirement entry's list of products it unlisted
UNLISTED_NAMES = "unlisted"  # vocabulary: an audit entry key
REJECTED_PROPOSALS = "proposals_rejected"  # the portal proposals a retirement rejected (ids)


class ProducerState:
    """The list's state filter (query values)."""

    CURRENT = "current"
    RETIRED = "retired"
    ALL = "all"


NO_LOCALITY = "none"  # the list's locality filter: producers without one


@dataclass
class ProducerFilters:
    """The list's filters: ``q`` (name, diacritics and case ignored), ``kind`` (a ProducerKind
    value or ""), ``locality`` ("" any, ``NO_LOCALITY``, or a locality id as text — the producer's
    place or any place under it), ``state`` (``ProducerState``)."""

    q: str = ""
    kind: str = ""
    locality: str = ""
    state: str = ProducerState.CURRENT


def get(slug: str) -> Producer:
    """The producer with this slug; ``NotFound``."""
    producer = db.session.scalar(select(Producer).where(Producer.slug == (slug or "")[:160]))
    if producer is None:
        raise NotFound(_("No such producer."))
    return producer


def _places_under(locality_id: int) -> set[int]:
    """The place and every place under it (children, grandchildren)."""
    ids, frontier = {locality_id}, {locality_id}
    for _level in range(4):
        frontier = set(db.session.scalars(select(Locality.id).where(Locality.parent_id.in_(frontier)))) - ids
        if not frontier:
            break
        ids |= frontier
    return ids


def search(filters: ProducerFilters) -> tuple[list[Producer], bool]:
    """(producers matching ``filters`` by name, at most ``LIST_LIMIT``; whether more matched).

    The name search folds both sides (``shop.text.fold``: "hop tac xa tai hoan" finds "Hợp tác xã
    Tài Hoan"); the other filters are SQL. Unknown filter values filter nothing out."""
    query = select(Producer).order_by(Producer.name, Producer.id)
    if filters.kind in ProducerKind.values():
        query = query.where(Producer.kind == ProducerKind(filters.kind))
    if filters.locality == NO_LOCALITY:
        query = query.where(Producer.locality_id.is_(None))
    else:
        place = whole_number(filters.locality, 1, 2**31 - 1) if filters.locality else None
        if place is not None:
            query = query.where(Producer.locality_id.in_(_places_under(place)))
    if filters.state == ProducerState.CURRENT:
        query = query.where(Producer.active.is_(True))
    elif filters.state == ProducerState.RETIRED:
        query = query.where(Producer.active.is_(False))
    words = fold(filters.q).split()
    found = []
    for producer in db.session.scalars(query):
        if all(word in fold(producer.name) for word in words):
            found.append(producer)
            if len(found) > LIST_LIMIT:
                return found[:LIST_LIMIT], True
    return found, False


def _locality(errors: FieldErrors, raw) -> Locality | None:
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return None
    place_id = whole_number(raw, 1, 2**31 - 1)
    place = db.session.get(Locality, place_id) if place_id is not None else None
    if place is None:
        errors.add("locality", _("Choose a locality from the list."))
    return place


def _values(errors: FieldErrors, *, name, kind, locality, address, phone, story, story_en) -> dict:
    values = {
        "name": errors.check(column_text, name, Producer.name, "name", min_length=1),
        "kind": None,
        "locality": _locality(errors, locality),
        "address": errors.check(column_text, address, Producer.address, "address"),
        "phone": errors.check(normalize_phone, phone) if (phone or "").strip() else "",
        "story": (story or "").strip(),
        "story_en": (story_en or "").strip(),
    }
    if (kind or "") in ProducerKind.values():
        values["kind"] = ProducerKind(kind)
    else:
        errors.add("kind", _("Choose the kind of producer."))
    for field in ("story", "story_en"):
        if len(values[field]) > MAX_STORY:
            errors.add(field, _("At most %(num)d characters.", num=MAX_STORY))
    return values


def _check_name_free(errors: FieldErrors, name: str | None, except_id: int | None = None) -> None:
    """Two producers may not have names the province import would take for the same producer
    (``shop.catalog.province_import.name_key``: accents, case, punctuation and legal-form words
    aside — "HTX Tài Hoan" / "Hợp tác xã Tài Hoan" / "Hop tac xa Tai-Hoan"). A name of legal-form
    words only is compared folded. Adds an error on ``name`` naming the existing producer."""
    from shop.catalog.province_import import name_key  # the import's rule, one definition

    if not name:
        return
    key = name_key(name)
    for other_id, other_name in db.session.execute(select(Producer.id, Producer.name)):
        if other_id == except_id:
            continue
        if (name_key(other_name) == key) if key else (fold(other_name) == fold(name)):
            errors.add("name", _("Another producer already has this name (accents, punctuation and legal form "
                                 "such as HTX aside): %(name)s.", name=other_name))
            return


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "producer")[:150]
    slug, n = base, 1
    if slug in RESERVED_SLUGS:  # "/admin/producers/new" is the form
        slug, n = f"{base}-2", 2
    while db.session.scalar(select(Producer.id).where(Producer.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _audit_values(values: dict) -> dict:
    """The values as the history shows them (a locality by its name)."""
    shown = dict(values)
    if "locality" in shown:
        shown["locality"] = shown["locality"].full_name if shown["locality"] is not None else None
    return shown


def create(*, name: str, kind: str, locality=None, address: str = "", phone: str = "", story: str = "",
           story_en: str = "", actor: str = "", user_id: int | None = None) -> Producer:
    """A new producer (active), its slug made from the name. Name required and not already used
    (diacritics and case ignored); ``kind`` a ``ProducerKind`` value; ``locality`` a locality id
    or empty; phone as ``shop.phone.normalize_phone`` takes it (empty allowed); stories Markdown,
    at most ``MAX_STORY`` characters. Raises ``InvalidFields``."""
    errors = FieldErrors()
    values = _values(errors, name=name, kind=kind, locality=locality, address=address, phone=phone, story=story,
                     story_en=story_en)
    _check_name_free(errors, values["name"])
    errors.raise_if_any()
    producer = Producer(slug=_unique_slug(values["name"]), active=True, **values)
    db.session.add(producer)
    db.session.flush()
    log(AuditObject.PRODUCER, producer.id, AuditAction.CREATE, {}, _audit_values(values), actor=actor,
        user_id=user_id)
    db.session.flush()
    return producer


def edit(producer_id: int, *, name: str, kind: str, locality=None, address: str = "", phone: str = "",
         story: str = "", story_en: str = "", actor: str = "", user_id: int | None = None) -> Producer:
    """Change a producer's names, kind, locality (imported producers come without one), address,
    phone and stories; the same rules as ``create``. Raises ``NotFound`` or ``InvalidFields``; no
    entry when nothing changed."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    errors = FieldErrors()
    values = _values(errors, name=name, kind=kind, locality=locality, address=address, phone=phone, story=story,
                     story_en=story_en)
    _check_name_free(errors, values["name"], except_id=producer.id)
    errors.raise_if_any()
    before, after = changes(producer, values)
    if after:
        log(AuditObject.PRODUCER, producer.id, AuditAction.EDIT, _audit_values(before), _audit_values(after),
            actor=actor, user_id=user_id)
    db.session.flush()
    return producer


def retire(producer_id: int, *, actor: str = "", user_id: int | None = None) -> list[Product]:
    """Retire a producer: ``active`` off, every listed product of it unlisted (each with its
    own audit entry), and its portal proposals still waiting rejected with the note "producer
    retired" (``shop.portal.proposals.reject_waiting``; their ids in the retirement's entry). Returns the products unlisted. ``InvalidTransition`` when retired already."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    if not producer.active:
        raise InvalidTransition(_("This producer is retired already."))
    unlisted = list(db.session.scalars(select(Product).where(Product.producer_id == producer.id,
                                                             Product.listed.is_(True)).order_by(Product.id)))
    for product in unlisted:
        product.listed = False
        log(AuditObject.PRODUCT, product.id, AuditAction.RETIRE, {"listed": True},
            {"listed": False, "producer": producer.name}, actor=actor, user_id=user_id)
    producer.active = False
    # Its waiting portal proposals end with it (rejected, note "producer retired"), in this transaction.
    from shop.portal.proposals import reject_waiting

    rejected = reject_waiting(producer.id, user_id=user_id)
    log(AuditObject.PRODUCER, producer.id, AuditAction.RETIRE, {ACTIVE: True},
        {ACTIVE: False, UNLISTED_NAMES: [p.name for p in unlisted], UNLISTED_IDS: [p.id for p in unlisted],
         **({REJECTED_PROPOSALS: [p.id for p in rejected]} if rejected else {})},
        actor=actor, user_id=user_id)
    db.session.flush()
    return unlisted


def reopen(producer_id: int, *, actor: str = "", user_id: int | None = None) -> list[Product]:
    """Bring a retired producer back, and relist the products its last retirement unlisted that
    are still unlisted and have a price. Returns the products relisted. ``InvalidTransition``
    when the producer is active."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    if producer.active:
        raise InvalidTransition(_("This producer is active."))
    last = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCER,
                                                      AuditEntry.object_id == producer.id,
                                                      AuditEntry.action == AuditAction.RETIRE)
                             .order_by(AuditEntry.id.desc()).limit(1))
    ids = [i for i in (last.after.get(UNLISTED_IDS) or []) if isinstance(i, int)] if last is not None else []
    relisted = list(db.session.scalars(select(Product).where(Product.id.in_(ids), Product.producer_id == producer.id,
                                                             Product.listed.is_(False), Product.price > 0)
                                       .order_by(Product.id))) if ids else []
    producer.active = True
    for product in relisted:
        product.listed = True
        log(AuditObject.PRODUCT, product.id, AuditAction.REOPEN, {"listed": False},
            {"listed": True, "producer": producer.name}, actor=actor, user_id=user_id)
    log(AuditObject.PRODUCER, producer.id, AuditAction.REOPEN, {ACTIVE: False},
        {ACTIVE: True, "relisted": [p.name for p in relisted]}, actor=actor, user_id=user_id)
    db.session.flush()
    return relisted


def check_may_list(product: Product) -> None:
    """``InvalidInput(field="listed")`` when the product's producer is retired (bring the producer
    back first)."""
    if product.producer is not None and not product.producer.active:
        raise InvalidInput(_("This product's producer is retired: bring the producer back first."), field="listed")
