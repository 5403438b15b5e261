"""Administration pages for localities (``/admin/localities``): the list with the 1/7/2025
mergers (each old unit shows its successor, each new one what merged into it), create, edit and
set the successor, with the audit history. Rules: ``shop.admin.places``."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from shop.admin import bp, records
from shop.admin import places as service
from shop.admin.enums import AuditObject
from shop.admin.forms import LOCALITY_FIELDS, LocalityForm
from shop.admin.producer_views import locality_choices
from shop.admin.views import _who
from shop.errors import DomainError, InvalidInput
from shop.extensions import db
from shop.forms import apply_errors
from shop.places.enums import PlaceKind
from shop.places.models import Locality
from shop.producers.models import Producer


def _place_or_404(slug: str) -> Locality:
    try:
        return service.get(slug)
    except DomainError:
        raise NotFound() from None


def _form(place: Locality | None = None, formdata: bool = True) -> LocalityForm:
    form = LocalityForm() if formdata else LocalityForm(formdata=None)
    form.parent.choices = locality_choices(_("None (a province)"))
    form.successor.choices = locality_choices(_("Not merged"))
    if not formdata and place is not None:
        form.name.data = place.name
        form.kind.data = place.kind.value
        form.parent.data = str(place.parent_id or "")
        form.successor.data = str(place.successor_id or "")
    return form


def _values(form: LocalityForm) -> dict:
    return {name: form[name].data for name in LOCALITY_FIELDS}


@bp.get("/localities")
def localities():
    """Places by full name, filtered by name (diacritics ignored), kind and merger."""
    args = request.args
    filters = service.PlaceFilters(q=(args.get("q") or "").strip()[:100], kind=(args.get("kind") or "")[:20],
                                   merge=(args.get("merge") or "")[:20])
    found, more = service.search(filters)
    merged_into = {}
    ids = [place.id for place in found]
    if ids:
        for successor_id, count in db.session.execute(
                select(Locality.successor_id, func.count(Locality.id)).where(Locality.successor_id.in_(ids))
                .group_by(Locality.successor_id)):
            merged_into[successor_id] = count
    return render_template("admin/localities.html", places=found, more=more, filters=filters, kinds=list(PlaceKind),
                           Merge=service.MergeFilter, merged_into=merged_into, limit=service.LIST_LIMIT)


@bp.route("/localities/new", methods=["GET", "POST"])
def new_locality():
    """The form for a new place (POST creates it)."""
    if request.method == "GET":
        return render_template("admin/locality.html", place=None, form=_form(formdata=False), errors={}, general=[])
    form = _form()
    try:
        if not form.validate_on_submit():
            raise InvalidInput(_("The form has expired. Please try again."))
        place = service.create(**_values(form), **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, LOCALITY_FIELDS)
        return render_template("admin/locality.html", place=None, form=form, errors=errors, general=general), 400
    flash(_("The locality is saved."), "success")
    return redirect(url_for("admin.locality", slug=place.slug))


def _render_place(place: Locality, form=None, errors=None, general=(), status=200):
    producers = db.session.scalars(select(Producer).where(Producer.locality_id == place.id)
                                   .order_by(Producer.name).limit(200)).all()
    return render_template("admin/locality.html", place=place, form=form or _form(place, formdata=False),
                           errors=errors or {}, general=list(general), predecessors=service.predecessors(place),
                           today=place.current_unit(), producers=producers,
                           history=records.history(AuditObject.LOCALITY, place.id)), status


@bp.route("/localities/<slug>", methods=["GET", "POST"])
def locality(slug: str):
    """A place: its details and successor (POST saves them), what merged into it, its history."""
    place = _place_or_404(slug)
    if request.method == "GET":
        return _render_place(place)
    form = _form()
    if not form.validate_on_submit():
        return _render_place(place, form, general=[_("The form has expired. Please try again.")], status=400)
    try:
        service.edit(place.id, **_values(form), **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, LOCALITY_FIELDS)
        return _render_place(place, form, errors, general, status=400)
    flash(_("The locality is saved."), "success")
    return redirect(url_for("admin.locality", slug=place.slug))
