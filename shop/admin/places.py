"""Administrators' work on localities (``Locality``): list, create, edit, set the successor —
each change kept in the audit history (object type ``LOCALITY``).

On 1/7/2025 Vietnam merged provinces (Bắc Kạn into Thái Nguyên), abolished districts and merged
communes (Resolution 202/2025/QH15 for the provinces; resolutions of the National Assembly Standing
Committee, province by province, for the communes). A place keeps its name as
certified; ``successor`` points at the unit it was merged into, and the new unit lists what merged
into it (``predecessors``). The rules checked here:

- **Levels** (``tier``): 1 — a province, or a city directly under the central government (a
  ``CITY`` without a parent); 2 — a district, or a provincial city (a ``CITY`` under a province);
  3 — a commune, ward or town. A parent is of a higher level (a province has none); a commune may
  sit directly under a province (the map since 1/7/2025).
- **Successor**: of the same level (a commune merges into a commune or ward, a province into a
  province), not the place itself, and never a cycle (A → B → A): the chain of successors from the
  proposed one must not come back to the place.

Places are never deleted (producers, shops and certificates' origins refer to them).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.records import changes, log
from shop.errors import FieldErrors, NotFound
from shop.extensions import db
from shop.inputs import column_text, whole_number
from shop.places.enums import PlaceKind
from shop.places.models import Locality
from shop.text import fold, slugify

LOCALITY_FIELDS = ("name", "kind", "parent", "successor")
RESERVED_SLUGS = {"new"}  # vocabulary: path segments of /admin/localities/…
LIST_LIMIT = 500
MAX_CHAIN = 50  # successors followed when looking for a cycle; a longer chain is refused too


def tier(kind: PlaceKind, has_parent: bool) -> int:
    """The administrative level of a place: 1 province (or centrally run city), 2 district (or
    provincial city), 3 commune, ward or town."""
    if kind is PlaceKind.PROVINCE:
        return 1
    if kind is PlaceKind.CITY:
        return 2 if has_parent else 1
    if kind is PlaceKind.DISTRICT:
        return 2
    return 3


def tier_of(place: Locality) -> int:
    return tier(place.kind, place.parent_id is not None or place.parent is not None)


def get(slug: str) -> Locality:
    place = db.session.scalar(select(Locality).where(Locality.slug == (slug or "")[:120]))
    if place is None:
        raise NotFound(_("No such locality."))
    return place


class MergeFilter:
    """The list's filter on mergers (query values)."""

    ANY = ""
    MERGED = "merged"      # places that have a successor (the old units)
    SUCCESSORS = "successors"  # places something merged into (the new units)


@dataclass
class PlaceFilters:
    q: str = ""
    kind: str = ""
    merge: str = MergeFilter.ANY


def search(filters: PlaceFilters) -> tuple[list[Locality], bool]:
    """(places matching ``filters``, sorted by their full name without diacritics, at most
    ``LIST_LIMIT``; whether more matched). ``q`` matches the name folded; unknown values filter
    nothing out."""
    query = select(Locality)
    if filters.kind in PlaceKind.values():
        query = query.where(Locality.kind == PlaceKind(filters.kind))
    if filters.merge == MergeFilter.MERGED:
        query = query.where(Locality.successor_id.is_not(None))
    elif filters.merge == MergeFilter.SUCCESSORS:
        query = query.where(Locality.id.in_(select(Locality.successor_id).where(Locality.successor_id.is_not(None))))
    words = fold(filters.q).split()
    found = [place for place in db.session.scalars(query) if all(word in fold(place.name) for word in words)]
    found.sort(key=lambda place: fold(place.full_name))
    return found[:LIST_LIMIT], len(found) > LIST_LIMIT


def predecessors(place: Locality) -> list[Locality]:
    """The places merged into this one (whose ``successor`` is it), by name."""
    return sorted(db.session.scalars(select(Locality).where(Locality.successor_id == place.id)),
                  key=lambda other: fold(other.full_name))


def _place(errors: FieldErrors, field: str, raw) -> Locality | None:
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return None
    place_id = whole_number(raw, 1)
    place = db.session.get(Locality, place_id) if place_id is not None else None
    if place is None:
        errors.add(field, _("Choose a locality from the list."))
    return place


def _check(errors: FieldErrors, place: Locality | None, *, name, kind, parent, successor) -> dict:
    """The checked values ({attribute: value}) for ``place`` (None: a new one)."""
    values = {"name": errors.check(column_text, name, Locality.name, "name", min_length=1), "kind": None,
              "parent": _place(errors, "parent", parent), "successor": _place(errors, "successor", successor)}
    if (kind or "") in PlaceKind.values():
        values["kind"] = PlaceKind(kind)
    else:
        errors.add("kind", _("Choose the kind of place."))
        return values
    level = tier(values["kind"], values["parent"] is not None)
    parent = values["parent"]
    if parent is not None:
        if place is not None and parent.id == place.id:
            errors.add("parent", _("A place cannot be inside itself."))
        elif tier_of(parent) >= level:
            errors.add("parent", _("%(parent)s cannot hold a %(kind)s: a parent is a higher level (a province holds "
                                   "districts and communes, a district holds communes).",
                                   parent=parent.name, kind=str(values["kind"].label).lower()))
    elif values["kind"] is PlaceKind.DISTRICT:
        errors.add("parent", _("A district belongs to a province: choose it."))
    elif level == 3:
        errors.add("parent", _("A commune, ward or town belongs to a province or a district: choose it."))
    successor = values["successor"]
    if successor is not None:
        if place is not None and successor.id == place.id:
            errors.add("successor", _("A place cannot be merged into itself."))
        elif tier_of(successor) != level:
            errors.add("successor", _("%(place)s is a %(kind)s: a place merges into one of the same level (a commune "
                                      "into a commune or ward, a district into a district, a province into a "
                                      "province).", place=successor.name, kind=str(successor.kind.label).lower()))
        elif place is not None:
            node, steps = successor, 0
            while node is not None and steps <= MAX_CHAIN:
                if node.id == place.id:
                    errors.add("successor", _("%(place)s was itself merged into this place: that would be a cycle.",
                                              place=successor.name))
                    break
                node, steps = node.successor, steps + 1
    return values


def _shown(values: dict) -> dict:
    shown = dict(values)
    for key in ("parent", "successor"):
        if shown.get(key) is not None:
            shown[key] = shown[key].full_name
    return shown


def create(*, name: str, kind: str, parent=None, successor=None, actor: str = "",
           user_id: int | None = None) -> Locality:
    """A new place: name, ``kind`` (a ``PlaceKind`` value), ``parent`` and ``successor`` ids
    (empty allowed) under the rules of the module docstring; the slug is made from the name and
    the parent's. Raises ``InvalidFields``; writes a ``CREATE`` entry."""
    errors = FieldErrors()
    values = _check(errors, None, name=name, kind=kind, parent=parent, successor=successor)
    errors.raise_if_any()
    base = (slugify(values["name"]) or "place")[:100]
    slug, n = base, 1
    if values["parent"] is not None and db.session.scalar(select(Locality.id).where(Locality.slug == slug)):
        slug = f"{base}-{slugify(values['parent'].name)}"[:115]
    while slug in RESERVED_SLUGS or db.session.scalar(select(Locality.id).where(Locality.slug == slug)) is not None:
        n += 1
        slug = f"{base[:110]}-{n}"
    place = Locality(slug=slug, **values)
    db.session.add(place)
    db.session.flush()
    log(AuditObject.LOCALITY, place.id, AuditAction.CREATE, {}, _shown(values), actor=actor, user_id=user_id)
    db.session.flush()
    return place


def edit(place_id: int, *, name: str, kind: str, parent=None, successor=None, actor: str = "",
         user_id: int | None = None) -> Locality:
    """Change a place's name, kind, parent or successor (the rules of ``create``; a cycle of
    successors is refused). Products under it are found by the new names at once (the search
    text is refolded in the same flush). Raises ``NotFound`` or ``InvalidFields``; no entry when
    nothing changed."""
    place = db.session.get(Locality, place_id)
    if place is None:
        raise NotFound(_("No such locality."))
    errors = FieldErrors()
    values = _check(errors, place, name=name, kind=kind, parent=parent, successor=successor)
    if values["kind"] is not None:
        level = tier(values["kind"], values["parent"] is not None)
        if any(tier_of(child) <= level for child in place.children):
            errors.add("kind", _("Places of this level lie inside this one: move them first."))
    errors.raise_if_any()
    before, after = changes(place, values)
    if after:
        log(AuditObject.LOCALITY, place.id, AuditAction.EDIT, _shown(before), _shown(after), actor=actor,
            user_id=user_id)
    db.session.flush()
    return place
