"""Administration pages for producers (``/admin/producers``): the list with search and filters,
create, edit, retire and bring back, with the audit history on the producer's page.

The blueprint's guard (``shop.admin.views``) lets only administrators in; every change is a POST
with the CSRF token; a refused change renders the page again with each field's error (400) and
changes nothing. Views parse the form and call ``shop.admin.producers``.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop.admin import bp, records
from shop.admin import producers as service
from shop.admin.enums import AuditObject
from shop.admin.forms import PRODUCER_FIELDS, ProducerForm
from shop.admin.views import _who
from shop.catalog.models import Product
from shop.errors import DomainError
from shop.extensions import db
from shop.forms import apply_errors
from shop.orders.forms import choice
from shop.places.models import Locality
from shop.places.services import place_label
from shop.producers.enums import ProducerKind
from shop.text import fold


def locality_options() -> list[tuple[str, str]]:
    """Every place as (id as text, label): its full name, and today's unit when merged since;
    sorted without diacritics."""
    places = db.session.scalars(select(Locality)).all()
    return sorted(((str(place.id), place_label(place)) for place in places), key=lambda item: fold(item[1]))


def locality_choices(empty_label: str) -> list:
    """``locality_options`` as form choices, after "" with ``empty_label``."""
    return [choice("", empty_label)] + [choice(value, label) for value, label in locality_options()]


def _producer_or_404(slug: str):
    try:
        return service.get(slug)
    except DomainError:
        raise NotFound() from None


def _form(producer=None, formdata=True) -> ProducerForm:
    form = ProducerForm() if formdata else ProducerForm(formdata=None, obj=producer)
    form.locality.choices = locality_choices(_("No locality yet"))
    if not formdata and producer is not None:
        form.kind.data = producer.kind.value
        form.locality.data = str(producer.locality_id) if producer.locality_id else ""
    return form


def _values(form: ProducerForm) -> dict:
    return {name: form[name].data for name in PRODUCER_FIELDS}


@bp.get("/producers")
def producers():
    """Producers by name (diacritics and case ignored), filtered by kind, locality (or none yet)
    and state (current, retired, all)."""
    args = request.args
    filters = service.ProducerFilters(q=(args.get("q") or "").strip()[:100], kind=(args.get("kind") or "")[:30],
                                      locality=(args.get("locality") or "")[:12],
                                      state=(args.get("state") or service.ProducerState.CURRENT)[:10])
    found, more = service.search(filters)
    return render_template("admin/producers.html", producers=found, more=more, filters=filters,
                           kinds=list(ProducerKind), places=locality_options(),
                           NO_LOCALITY=service.NO_LOCALITY, State=service.ProducerState,
                           limit=service.LIST_LIMIT)


@bp.route("/producers/new", methods=["GET", "POST"])
def new_producer():
    """The form for a new producer (POST creates it)."""
    if request.method == "GET":
        return render_template("admin/producer.html", producer=None, form=_form(formdata=False), errors={},
                               general=[])
    form = _form()
    try:
        if not form.validate_on_submit():
            from shop.errors import InvalidInput

            raise InvalidInput(_("The form has expired. Please try again."))
        producer = service.create(**_values(form), **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, PRODUCER_FIELDS)
        return render_template("admin/producer.html", producer=None, form=form, errors=errors,
                               general=general), 400
    flash(_("The producer is saved."), "success")
    return redirect(url_for("admin.producer", slug=producer.slug))


def _render_producer(producer, form=None, errors=None, general=(), status=200):
    products = db.session.scalars(select(Product).where(Product.producer_id == producer.id)
                                  .order_by(Product.name, Product.id).limit(500)).all()
    return render_template("admin/producer.html", producer=producer, form=form or _form(producer, formdata=False),
                           errors=errors or {}, general=list(general), products=products,
                           history=records.history(AuditObject.PRODUCER, producer.id)), status


@bp.route("/producers/<slug>", methods=["GET", "POST"])
def producer(slug: str):
    """A producer's details (POST saves them), products and history."""
    producer = _producer_or_404(slug)
    if request.method == "GET":
        return _render_producer(producer)
    form = _form()
    if not form.validate_on_submit():
        return _render_producer(producer, form, general=[_("The form has expired. Please try again.")], status=400)
    try:
        service.edit(producer.id, **_values(form), **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, PRODUCER_FIELDS)
        return _render_producer(producer, form, errors, general, status=400)
    flash(_("The producer is saved."), "success")
    return redirect(url_for("admin.producer", slug=producer.slug))


@bp.post("/producers/<slug>/<any(retire, reopen):change>")
def producer_state(slug: str, change: str):
    """Retire a producer (its products leave sale at once; nothing is deleted) or bring it back."""
    from shop.accounts.forms import EmptyForm

    producer = _producer_or_404(slug)
    if not EmptyForm().validate_on_submit():
        return _render_producer(producer, general=[_("The form has expired. Please try again.")], status=400)
    try:
        products = (service.retire if change == "retire" else service.reopen)(producer.id, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_producer(producer, general=[exc.message], status=409)
    if change == "retire":
        flash(_("The producer is retired: %(num)d products left sale.", num=len(products)), "success")
    else:
        flash(_("The producer is back: %(num)d products are listed again.", num=len(products)), "success")
    return redirect(url_for("admin.producer", slug=producer.slug))
