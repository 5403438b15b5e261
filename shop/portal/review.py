"""The administrators' side of the portal, on the administration's blueprint (``/admin``, whose
``before_request`` admits administrators only): a product's photo page, and the approval queue of
producers' proposals. Kept here so that the administration's own modules stay as they are."""
from __future__ import annotations

from flask import redirect, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop.admin import bp
from shop.catalog.models import Product
from shop.extensions import db


@bp.get("/products/<slug>/photos")
def product_photos(slug: str):
    """Any product's photos: the portal's photo page, which administrators may use for every product."""
    product = db.session.scalar(select(Product).where(Product.slug == slug[:160]))
    if product is None:
        raise NotFound()
    return redirect(url_for("portal.photos", slug=product.producer.slug, product=product.slug))


@bp.get("/proposals")
def proposals():
    """The approval queue: producers' proposals waiting, oldest first, then the latest decisions."""
    from flask import render_template

    from shop.portal import proposals as service
    from shop.portal.forms import DecisionForm

    return render_template("admin/proposals.html", waiting=service.pending(), decided=service.decided(),
                           form=DecisionForm(formdata=None), errors={})


@bp.post("/proposals/<id:proposal_id>/<any(approve, reject):decision>")
def decide(proposal_id: int, decision: str):
    """Approve (the change is applied, with its audit entry naming both people) or reject (a note
    says why) one proposal."""
    from flask import flash, render_template
    from flask_babel import gettext as _
    from flask_login import current_user

    from shop.errors import DomainError, InvalidTransition
    from shop.errors import NotFound as Missing
    from shop.portal import proposals as service
    from shop.portal.forms import DecisionForm

    try:
        service.get(proposal_id)
    except Missing:
        raise NotFound() from None
    form = DecisionForm()
    try:
        if not form.validate_on_submit():
            from shop.errors import InvalidInput

            raise InvalidInput(_("The form has expired. Please try again."))
        proposal = service.decide(proposal_id, approve=decision == "approve", note=form.note.data,
                                  decider=current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        messages = [m for ms in getattr(exc, "errors", {}).values() for m in ms] or [exc.message]
        return render_template("admin/proposals.html", waiting=service.pending(), decided=service.decided(),
                               form=form, errors={proposal_id: messages}), \
            409 if isinstance(exc, InvalidTransition) else 400
    flash(_("Proposal #%(id)d approved: the change is published.", id=proposal.id) if decision == "approve"
          else _("Proposal #%(id)d rejected.", id=proposal.id), "success")
    return redirect(url_for("admin.proposals"))


@bp.post("/producers/<slug>/text-edits")
def producer_text_edits(slug: str):
    """Let a producer's story and description edits publish at once (``allowed=1``), or send them
    for review (``allowed=0``)."""
    from flask import flash
    from flask_babel import gettext as _
    from flask_login import current_user

    from shop.accounts.forms import EmptyForm
    from shop.portal import proposals as service
    from shop.producers.models import Producer

    producer = db.session.scalar(select(Producer).where(Producer.slug == slug[:160]))
    if producer is None:
        raise NotFound()
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("portal.producer", slug=producer.slug)), 303
    allowed = request.form.get("allowed") == "1"
    service.set_text_edits_publish(producer.id, allowed, actor=current_user.display_name, user_id=current_user.id)
    db.session.commit()
    flash(_("Text edits of this producer are published at once.") if allowed
          else _("Text edits of this producer wait for review."), "success")
    return redirect(url_for("portal.producer", slug=producer.slug))
