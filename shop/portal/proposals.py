"""Producers' proposals and their review by an administrator.

A producer proposes a price change, a change to a listed product's other fields (names, unit,
descriptions), a new story, or a new product. Only these fields can be proposed (``PRODUCT_FIELDS``,
``NEW_PRODUCT_FIELDS``, the story): stars, certificates and whether a product is listed are the OCOP
office's, never a producer's — a form field of that name is not read, and approval never writes one.

Small text edits (the story and product descriptions) are published at once when an administrator
has allowed it for that producer (``Producer.text_edits_publish``); otherwise they become proposals
like everything else (``submit_story``, ``submit_descriptions``).

How a proposal ends (``TRANSITIONS``: only ``pending`` moves, once):
- **approved** by an administrator, with an optional note: the change is applied through the
  catalogue's services (``shop.admin.records.edit_product`` for names, unit and price;
  ``shop.portal.services`` for descriptions and the story; a new product through
  ``records.create_product``, unlisted,
  without a certificate), each writing its audit entry whose actor names the administrator and
  the proposal's author (``"<admin> (proposal #12 by <producer user>)"``, account: the
  administrator); the proposal keeps both accounts (``proposed_by``, ``decided_by``);
- **rejected** by an administrator, with a note saying why (required): nothing changes;
- **withdrawn** by the producer while it waits;
- **superseded** when the producer proposes a newer value for one of its fields (same product, or
  the story): the newer proposal replaces it (``superseded_by``);
- **rejected** with the note ``RETIRED_NOTE`` ("producer retired") when an administrator retires
  the producer: ``shop.admin.producers.retire`` calls ``reject_waiting`` in its own transaction.
The producer's active users are e-mailed each administrator's decision (``shop/portal/mails.py``,
queued in the outbox in the decision's transaction); automatic rejections at retirement are not
e-mailed (the retirement is the news, and it is the office's to tell).
A retired producer (``Producer.active`` off) proposes nothing: its users' portal is read only
(``shop/portal/views.py``), only withdrawing a waiting proposal is still allowed.
Approval and rejection are for administrators only: shop managers run their shops' stock and
orders; prices, names and the catalogue are the provincial OCOP office's (README, "Producer portal").
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from shop.admin import records
from shop.admin.enums import AuditAction, AuditObject
from shop.catalog.models import Product, ProductGroup
from shop.errors import FieldErrors, InvalidInput, InvalidTransition, NotFound
from shop.extensions import db
from shop.inputs import column_text
from shop.money import parse_vnd
from shop.portal import services
from shop.portal.enums import ProposalKind, ProposalState
from shop.portal.models import Proposal
from shop.producers.models import Producer
from shop.timeutil import utcnow

NAME_FIELDS = ("name", "name_en", "unit", "unit_en")
# A product always has a name and a unit (the product page shows its price "per unit"): a new
# product needs both, a change can never empty them.
REQUIRED_FIELDS = ("name", "unit")
# In a change, these left empty mean "no change" (not proposed): an erase is not offered.
KEEP_WHEN_EMPTY = ("name_en", "unit_en")
PRODUCT_FIELDS = NAME_FIELDS + ("price",) + services.DESCRIPTION_FIELDS
NEW_PRODUCT_FIELDS = ("name", "name_en", "group", "unit", "unit_en", "price") + services.DESCRIPTION_FIELDS
TRANSITIONS = {
    ProposalState.PENDING: {ProposalState.APPROVED, ProposalState.REJECTED, ProposalState.WITHDRAWN,
                            ProposalState.SUPERSEDED},
}
NOTE_LIMIT = 2000
# The note of proposals rejected because their producer was retired (stored as written, in English,
# like the services' other notes; pages show it in their language: ``note_label``).
RETIRED_NOTE = "producer retired"


def note_label(note: str | None) -> str:
    """A decision's note for the page: the automatic ones in the page's language, others as typed."""
    if note == RETIRED_NOTE:
        return _("producer retired")
    return note or ""


def _move(proposal: Proposal, to: ProposalState) -> None:
    if to not in TRANSITIONS.get(proposal.state, set()):
        raise InvalidTransition(_("This proposal was decided already: %(state)s.", state=proposal.state.label),
                                state=proposal.state.value)
    proposal.state = to


def _price(errors: FieldErrors, raw) -> int | None:
    amount = errors.check(parse_vnd, str(raw) if raw is not None else None, field="price")
    if amount is not None and amount > records.MAX_PRICE:
        errors.add("price", _("Give the price in whole đồng, from 0 to 100,000,000."))
        return None
    return amount


def _check_fields(values: dict, fields: tuple[str, ...], errors: FieldErrors) -> dict:
    """The proposed values of ``fields`` present in ``values``, checked as the catalogue stores them."""
    checked = {}
    for field in fields:
        if field not in values:
            continue
        raw = values[field]
        if field == "price":
            checked[field] = _price(errors, raw)
        elif field in services.DESCRIPTION_FIELDS:
            checked.update(errors.check(services.check_texts, {field: raw}) or {})
        elif field == "group":
            checked[field] = (raw or "").strip()[:20]
        else:
            checked[field] = errors.check(column_text, raw, getattr(Product, field), field,
                                          min_length=1 if field in REQUIRED_FIELDS else 0)
    return checked


def _supersede(new: Proposal, where) -> None:
    for old in db.session.scalars(select(Proposal).where(Proposal.state == ProposalState.PENDING,
                                                         Proposal.id != new.id, *where)):
        if set(old.changes) & set(new.changes):
            _move(old, ProposalState.SUPERSEDED)
            old.superseded_by = new.id


def _kind(changes: dict) -> ProposalKind:
    if set(changes) == {"price"}:
        return ProposalKind.PRICE
    if set(changes) <= set(services.DESCRIPTION_FIELDS):
        return ProposalKind.DESCRIPTION
    return ProposalKind.PRODUCT


def propose_change(product_id: int, values: dict, *, user_id: int | None = None) -> Proposal:
    """Propose new values for some of ``PRODUCT_FIELDS`` of a product (other keys are ignored:
    stars, certificates, listed). Only the fields that differ from today's are kept; an empty
    English name or English unit (``KEEP_WHEN_EMPTY``) means "no change"; a pending
    proposal of the same product with one of those fields is superseded. Raises ``NotFound``,
    ``InvalidFields`` (price not whole đồng 0–100,000,000, an empty name or unit, a text too long) or
    ``InvalidInput`` when nothing differs. Flushes; the caller commits."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    values = {field: value for field, value in values.items()
              if not (field in KEEP_WHEN_EMPTY and not (value or "").strip())}
    errors = FieldErrors()
    checked = _check_fields(values, PRODUCT_FIELDS, errors)
    errors.raise_if_any()
    changes = {field: value for field, value in checked.items() if getattr(product, field) != value}
    if not changes:
        raise InvalidInput(_("Nothing to propose: the values are those of today."))
    proposal = Proposal(producer_id=product.producer_id, product_id=product.id, kind=_kind(changes), changes=changes,
                        before={field: getattr(product, field) for field in changes}, proposed_by=user_id)
    db.session.add(proposal)
    db.session.flush()
    _supersede(proposal, [Proposal.product_id == product.id])
    db.session.flush()
    return proposal


def propose_story(producer_id: int, *, story: str | None, story_en: str | None,
                  user_id: int | None = None) -> Proposal:
    """Propose a new story (as ``propose_change``; a pending story proposal is superseded)."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    texts = services.check_texts({"story": story, "story_en": story_en})
    changes = {field: value for field, value in texts.items() if getattr(producer, field) != value}
    if not changes:
        raise InvalidInput(_("Nothing to propose: the values are those of today."))
    proposal = Proposal(producer_id=producer.id, kind=ProposalKind.STORY, changes=changes,
                        before={field: getattr(producer, field) for field in changes}, proposed_by=user_id)
    db.session.add(proposal)
    db.session.flush()
    _supersede(proposal, [Proposal.producer_id == producer.id, Proposal.kind == ProposalKind.STORY])
    db.session.flush()
    return proposal


def propose_new_product(producer_id: int, values: dict, *, user_id: int | None = None) -> Proposal:
    """Propose a new product: name (required), English name, OCOP group (its code, required), unit
    (required), English unit, price (whole đồng), descriptions. ``InvalidFields`` names each problem."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    errors = FieldErrors()
    checked = _check_fields({field: values.get(field) for field in NEW_PRODUCT_FIELDS}, NEW_PRODUCT_FIELDS, errors)
    if not checked.get("group") or db.session.scalar(
            select(ProductGroup.id).where(ProductGroup.code == checked["group"])) is None:
        errors.add("group", _("Choose the product's OCOP group."))
    errors.raise_if_any()
    proposal = Proposal(producer_id=producer.id, kind=ProposalKind.NEW_PRODUCT, changes=checked, before={},
                        proposed_by=user_id)
    db.session.add(proposal)
    db.session.flush()
    return proposal


def submit_story(producer_id: int, *, story, story_en, actor: str = "", user_id: int | None = None):
    """The story as the producer saved it: published at once when the producer may publish text
    edits (returns {field: text} changed), otherwise proposed (returns the ``Proposal``)."""
    producer = db.session.get(Producer, producer_id)
    if producer is not None and producer.text_edits_publish:
        return services.publish_story(producer_id, story=story, story_en=story_en, actor=actor, user_id=user_id)
    return propose_story(producer_id, story=story, story_en=story_en, user_id=user_id)


def submit_descriptions(product_id: int, *, description, description_en, actor: str = "",
                        user_id: int | None = None):
    """A product's descriptions as saved: published at once or proposed, as ``submit_story``."""
    product = db.session.get(Product, product_id)
    if product is not None and product.producer.text_edits_publish:
        return services.publish_descriptions(product_id, description=description, description_en=description_en,
                                             actor=actor, user_id=user_id)
    return propose_change(product_id, {"description": description, "description_en": description_en},
                          user_id=user_id)


def get(proposal_id: int, producer_id: int | None = None) -> Proposal:
    """A proposal by id (and of this producer, when given); ``NotFound`` otherwise."""
    query = select(Proposal).where(Proposal.id == proposal_id)
    if producer_id is not None:
        query = query.where(Proposal.producer_id == producer_id)
    proposal = db.session.scalar(query)
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def withdraw(proposal_id: int, producer_id: int) -> Proposal:
    """The producer takes back a waiting proposal. ``InvalidTransition`` once it is decided."""
    proposal = get(proposal_id, producer_id)
    _move(proposal, ProposalState.WITHDRAWN)
    proposal.decided_at = utcnow()
    db.session.flush()
    return proposal


def _note(raw: str | None, required: bool) -> str:
    note = (raw or "").strip()
    if required and not note:
        raise InvalidInput(_("Say why, for the producer."), field="note")
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(_("At most %(num)d characters.", num=NOTE_LIMIT), field="note")
    return note


def _apply(proposal: Proposal, actor: str, user_id: int | None) -> None:
    who = {"actor": actor, "user_id": user_id}
    changes = proposal.changes
    if proposal.kind is ProposalKind.STORY:
        producer = proposal.producer
        services.publish_story(producer.id, story=changes.get("story", producer.story),
                               story_en=changes.get("story_en", producer.story_en), **who)
        return
    if proposal.kind is ProposalKind.NEW_PRODUCT:
        group_id = db.session.scalar(select(ProductGroup.id).where(ProductGroup.code == changes.get("group")))
        if group_id is None:
            raise InvalidInput(_("Choose the product's OCOP group."), field="group")
        product = records.create_product(
            name=changes.get("name") or "", name_en=changes.get("name_en") or "", group=group_id,
            unit=changes.get("unit") or "", unit_en=changes.get("unit_en") or "", price=int(changes.get("price") or 0),
            listed=False, producer=proposal.producer.slug, **who)
        texts = {field: changes.get(field) or "" for field in services.DESCRIPTION_FIELDS}
        if any(texts.values()):
            services.publish_descriptions(product.id, **texts, **who)
        proposal.product_id = product.id
        return
    product = proposal.product
    named = {field: changes[field] for field in NAME_FIELDS + ("price",) if field in changes}
    for field in REQUIRED_FIELDS:  # a proposal made before the unit was required
        if field in named and not (named[field] or "").strip():
            raise InvalidInput(_("This proposal would remove the product's name or unit: reject it."), field=field)
    if named:
        current = {field: getattr(product, field) for field in NAME_FIELDS + ("price",)}
        # Everything else as it is: the catalogue's own edit, with its rules and its audit entry.
        records.edit_product(product.id, **{**current, **named}, listed=product.listed, group=product.group_id,
                             producer=product.producer.slug, weight_grams=product.weight_grams,
                             barcode=product.barcode, **who)
    texts = {field: changes[field] for field in services.DESCRIPTION_FIELDS if field in changes}
    if texts:
        services.publish_descriptions(product.id, **{**{f: getattr(product, f) for f in services.DESCRIPTION_FIELDS},
                                                     **texts}, **who)


def decide(proposal_id: int, *, approve: bool, note: str | None, decider, ) -> Proposal:
    """An administrator's decision. Approval applies the change (see the module's notes; a change
    the catalogue refuses — a listed product's price set to 0 — raises its ``InvalidFields`` and
    nothing is written); rejection needs a note. ``InvalidTransition`` once decided."""
    proposal = get(proposal_id)
    note = _note(note, required=not approve)
    _move(proposal, ProposalState.APPROVED if approve else ProposalState.REJECTED)
    if approve:
        author = proposal.proposer.display_name if proposal.proposer else "?"
        _apply(proposal, f"{decider.display_name} (proposal #{proposal.id} by {author})", decider.id)
    proposal.note = note
    proposal.decided_by = decider.id
    proposal.decided_at = utcnow()
    db.session.flush()
    from shop.portal import mails

    mails.send_decision(proposal)
    return proposal


def reject_waiting(producer_id: int, *, note: str = RETIRED_NOTE, user_id: int | None = None) -> list[Proposal]:
    """Reject every proposal of the producer that still waits, with ``note`` (the retirement's:
    ``shop.admin.producers.retire``), decided by ``user_id``. Flushes, the caller commits; no
    e-mail. Returns the proposals rejected, oldest first."""
    waiting = list(db.session.scalars(select(Proposal).where(Proposal.producer_id == producer_id,
                                                             Proposal.state == ProposalState.PENDING)
                                      .order_by(Proposal.id)))
    now = utcnow()
    for proposal in waiting:
        _move(proposal, ProposalState.REJECTED)
        proposal.note = note
        proposal.decided_by = user_id
        proposal.decided_at = now
    db.session.flush()
    return waiting


def pending(limit: int = 200) -> list[Proposal]:
    """Proposals waiting for a decision, oldest first (the approval queue)."""
    return list(db.session.scalars(select(Proposal).where(Proposal.state == ProposalState.PENDING)
                                   .order_by(Proposal.id).limit(limit)))


def decided(limit: int = 50) -> list[Proposal]:
    """The latest decisions (approved, rejected, withdrawn, superseded), newest first."""
    return list(db.session.scalars(select(Proposal).where(Proposal.state != ProposalState.PENDING)
                                   .order_by(Proposal.id.desc()).limit(limit)))


def of_producer(producer_id: int, limit: int = 200) -> list[Proposal]:
    """A producer's proposals, newest first."""
    return list(db.session.scalars(select(Proposal).where(Proposal.producer_id == producer_id)
                                   .order_by(Proposal.id.desc()).limit(limit)))


def set_text_edits_publish(producer_id: int, allowed: bool, *, actor: str = "", user_id: int | None = None) -> Producer:
    """An administrator lets a producer's story and description edits publish at once (or not)."""
    producer = db.session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(_("No such producer."))
    if producer.text_edits_publish != allowed:
        records.log(AuditObject.PRODUCER, producer.id, AuditAction.EDIT, {"text_edits_publish": producer.text_edits_publish},
                    {"text_edits_publish": allowed}, actor=actor, user_id=user_id)
        producer.text_edits_publish = allowed
    db.session.flush()
    return producer
