"""The producer portal's pages (``/portal``): profile, products and certificates, stock, sales.

Each page: signed in (guests are sent to sign in), the ``VIEW_PRODUCER`` action (a producer user
or an administrator; anyone else a 403), the producer in the user's scope (another producer's slug
is a 404, the same answer as a producer that does not exist). Pages are private: no-store, noindex.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date as babel_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop import headers
from shop.accounts import policy
from shop.accounts import services as accounts
from shop.accounts.enums import Role
from shop.accounts.policy import Action, authorize
from shop.extensions import db, limiter
from shop.portal import bp, queries
from shop.producers.models import Producer
from shop.timeutil import today_vn


@bp.before_request
@login_required
def _signed_in():
    """Guests are sent to sign in; an administrator who must set up two-step does that first."""
    if accounts.must_set_up_two_step(current_user):
        return redirect(url_for("accounts.two_step_setup"))
    return None


# POSTs that change nothing of the producer's and stay open to a retired producer's users.
READ_ONLY_POSTS = {"portal.withdraw"}


@bp.before_request
def _retired_read_only():
    """A retired producer (``Producer.active`` off) keeps read access to its portal, but its users
    change nothing: every POST on its pages except withdrawing a waiting proposal is a 409 with
    the reason, in the page's language. Administrators act as for any producer. Another
    producer's page stays a 404 (checked first)."""
    slug = (request.view_args or {}).get("slug")
    if request.method != "POST" or slug is None or request.endpoint in READ_ONLY_POSTS:
        return None
    producer = producer_or_404(slug)
    if may_change(producer):
        return None
    return render_template("portal/retired.html", producer=producer), 409


def may_change(producer: Producer) -> bool:
    """Whether the signed-in user may change ``producer``'s texts, photos and proposals: an active
    producer, or any producer for an administrator."""
    return producer.active or current_user.role is Role.ADMIN


@bp.after_request
def _private(response):
    response.headers["X-Robots-Tag"] = headers.NO_INDEX
    return headers.no_store(response)


def producer_or_404(slug: str) -> Producer:
    """The producer named by ``slug`` if the signed-in user may see it: 403 for a role without the
    action, 404 for another producer's slug or one that does not exist."""
    policy.require(current_user, Action.VIEW_PRODUCER)
    producer = db.session.scalar(select(Producer).where(Producer.slug == (slug or "")[:160]))
    if producer is None:
        raise NotFound()
    authorize(current_user, Action.VIEW_PRODUCER, producer)
    return producer


@bp.get("/")
def index():
    """A producer user goes to their own portal; an administrator chooses a producer."""
    policy.require(current_user, Action.VIEW_PRODUCER)
    if current_user.role is Role.PRODUCER:
        producer_id = policy.producer_id_of(current_user)
        producer = db.session.get(Producer, producer_id) if producer_id else None
        if producer is None:
            raise NotFound()
        return redirect(url_for("portal.producer", slug=producer.slug))
    producers = db.session.scalars(policy.producers_for(current_user).limit(500)).all()
    return render_template("portal/index.html", producers=producers)


@bp.get("/<slug>")
def producer(slug: str):
    """The producer's profile as the public sees it, its products and their certificates."""
    producer = producer_or_404(slug)
    return render_template("portal/producer.html", producer=producer, products=queries.products_of(producer.id),
                           today=today_vn(), tab="profile")


@bp.get("/<slug>/stock")
def stock(slug: str):
    """Units of each product at each shop, by lot, with best-before dates."""
    producer = producer_or_404(slug)
    return render_template("portal/stock.html", producer=producer, stock=queries.stock_of(producer.id),
                           tab="stock")


@bp.get("/<slug>/sales")
def sales(slug: str):
    """Units and revenue per month, the last twelve months, as a table and a bar chart."""
    producer = producer_or_404(slug)
    months = queries.sales_by_month(producer.id)
    chart = queries.bar_chart([(babel_date(m.month, "MM/yy"), m.revenue) for m in months])
    return render_template("portal/sales.html", producer=producer, months=months, chart=chart,
                           total_units=sum(m.units for m in months), total_revenue=sum(m.revenue for m in months),
                           tab="sales")


def _tabs() -> list[tuple[str, str]]:
    return [("portal.producer", _("Profile")), ("portal.story", _("Story")), ("portal.proposals", _("Proposals")),
            ("portal.stock", _("Stock")), ("portal.sales", _("Sales"))]


@bp.context_processor
def _portal_globals():
    from shop.portal.enums import ProposalState

    from shop.portal.proposals import note_label

    return {"portal_tabs": _tabs, "ProposalState": ProposalState, "portal_may_change": may_change,
            "proposal_note": note_label}


# ---- the story and the descriptions (Markdown, with a preview) --------------------------------

def _who() -> dict:
    """The audit's actor and account for a service call."""
    return {"actor": current_user.display_name, "user_id": current_user.id}


def product_or_404(producer: Producer, product_slug: str):
    """One of ``producer``'s products by slug; another producer's product (or none) is a 404."""
    from shop.catalog.models import Product

    product = db.session.scalar(select(Product).where(Product.slug == (product_slug or "")[:160],
                                                      Product.producer_id == producer.id))
    if product is None:
        raise NotFound()
    authorize(current_user, Action.PROPOSE_PRODUCT, product)
    return product


def _previews(form, fields) -> dict[str, str]:
    from shop.markup import render_markdown
    from shop.portal.services import clean_text

    return {name: render_markdown(clean_text(form[name].data)) for name in fields}


@bp.route("/<slug>/story", methods=["GET", "POST"])
def story(slug: str):
    """The story in Vietnamese and English (Markdown). "Preview" shows it as visitors will see it
    (the page works without JavaScript; with it, the preview follows the typing: static/js/
    markdown-preview.js); "Save" publishes it."""
    from shop.errors import DomainError
    from shop.forms import apply_errors
    from shop.portal import services
    from shop.portal.forms import StoryForm

    producer = producer_or_404(slug)
    fields = services.STORY_FIELDS
    if request.method == "GET":
        form = StoryForm(formdata=None, obj=producer)
        return _render_texts("portal/story.html", producer, form, fields)
    form = StoryForm()
    if not form.validate_on_submit():
        return _render_texts("portal/story.html", producer, form, fields,
                             general=[_("The form has expired. Please try again.")], status=400)
    if request.form.get("action") == "preview":
        return _render_texts("portal/story.html", producer, form, fields, preview=True)
    from shop.portal import proposals

    try:
        result = proposals.submit_story(producer.id, story=form.story.data, story_en=form.story_en.data, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, fields)
        return _render_texts("portal/story.html", producer, form, fields, errors=errors, general=general,
                             status=400)
    flash(_flash_for(result, _("Your story is published.")), "success")
    return redirect(url_for("portal.story", slug=producer.slug))


def _flash_for(result, published: str) -> str:
    """What a producer is told after saving a text: published, sent for review, or unchanged."""
    from shop.portal.models import Proposal

    if isinstance(result, Proposal):
        return _("Sent for review: an administrator will publish it. You can follow it under Proposals.")
    return published if result else _("Nothing has changed.")


@bp.route("/<slug>/products/<product>", methods=["GET", "POST"])
def product(slug: str, product: str):
    """A product's descriptions in Vietnamese and English (Markdown), as the story."""
    from shop.errors import DomainError
    from shop.forms import apply_errors
    from shop.portal import services
    from shop.portal.forms import DescriptionForm

    producer = producer_or_404(slug)
    item = product_or_404(producer, product)
    fields = services.DESCRIPTION_FIELDS
    if request.method == "GET":
        form = DescriptionForm(formdata=None, obj=item)
        return _render_texts("portal/product.html", producer, form, fields, product=item)
    form = DescriptionForm()
    if not form.validate_on_submit():
        return _render_texts("portal/product.html", producer, form, fields, product=item,
                             general=[_("The form has expired. Please try again.")], status=400)
    if request.form.get("action") == "preview":
        return _render_texts("portal/product.html", producer, form, fields, product=item, preview=True)
    from shop.portal import proposals

    try:
        result = proposals.submit_descriptions(item.id, description=form.description.data,
                                               description_en=form.description_en.data, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, fields)
        return _render_texts("portal/product.html", producer, form, fields, product=item, errors=errors,
                             general=general, status=400)
    flash(_flash_for(result, _("The description is published.")), "success")
    return redirect(url_for("portal.product", slug=producer.slug, product=item.slug))


def _render_texts(template: str, producer: Producer, form, fields, *, errors=None, general=(), status=200,
                  preview: bool = False, **context):
    from shop.portal.forms import ChangeForm

    if "product" in context and "change_form" not in context:
        change_form = ChangeForm(formdata=None, obj=context["product"], prefix="change")
        change_form.price.data = str(context["product"].price)
        context["change_form"] = change_form
    context.setdefault("change_errors", {})
    context.setdefault("change_general", [])
    submit = _("Publish") if producer.text_edits_publish else _("Send for review")
    return render_template(template, producer=producer, form=form, fields=fields, errors=errors or {},
                           general=list(general), previews=_previews(form, fields) if preview else {},
                           submit_label=submit, **context), status


def _preview_key() -> str:
    """The preview's rate-limit key: the signed-in account (the address for anyone else, who is
    refused anyway)."""
    from flask_limiter.util import get_remote_address

    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _preview_too_many(_limit):
    from flask import make_response

    return headers.no_store(make_response(
        (_("Too many previews in a short time: wait a minute, then type on; your text is not lost."), 429,
         {"Content-Type": "text/plain; charset=utf-8"})))


@bp.post("/preview")
@limiter.limit(lambda: current_app.config["PREVIEW_RATE_LIMIT"], key_func=_preview_key, methods=["POST"],
               scope="portal-preview", on_breach=_preview_too_many, override_defaults=False)
def preview():
    """The Markdown text posted (``text``) as visitors will see it: an HTML fragment made by the
    same sanitiser as the public pages. For the editors' live preview; 400 for a text too long or
    a form without its CSRF token; 429 (plain text, the reason) past ``PREVIEW_RATE_LIMIT`` per
    account."""
    from shop.markup import render_markdown
    from shop.portal.forms import PreviewForm
    from shop.portal.services import TEXT_LIMIT, clean_text

    policy.require(current_user, Action.VIEW_PRODUCER)
    form = PreviewForm()
    if not form.validate_on_submit():
        return _("The form has expired. Please try again."), 400, {"Content-Type": "text/plain; charset=utf-8"}
    text = clean_text(form.text.data)
    if len(text) > TEXT_LIMIT:
        return (_("At most %(num)d characters.", num=TEXT_LIMIT), 400,
                {"Content-Type": "text/plain; charset=utf-8"})
    return str(render_markdown(text)), 200, {"Content-Type": "text/html; charset=utf-8"}


# ---- photos -------------------------------------------------------------------------------------

def _upload() -> tuple[str, bytes]:
    """The uploaded file's name and bytes (at most one byte over the limit: enough to refuse it)."""
    from shop.portal.photos import FIELD, PHOTO_MAX_BYTES

    upload = request.files.get(FIELD)
    if upload is None:
        return "", b""
    return (upload.filename or "")[:200], upload.stream.read(PHOTO_MAX_BYTES + 1)


def _render_photos(producer: Producer, item, *, general=(), status=200):
    from shop.portal import photos

    return render_template("portal/photos.html", producer=producer, product=item, photos=photos.photos_of(item.id),
                           general=list(general), max_mb=photos.PHOTO_MAX_BYTES // (1024 * 1024),
                           max_photos=photos.MAX_PHOTOS, heif=photos.heif_readable()), status


def _checked_form() -> bool:
    from shop.accounts.forms import EmptyForm

    return EmptyForm().validate_on_submit()


@bp.route("/<slug>/products/<product>/photos", methods=["GET", "POST"])
def photos(slug: str, product: str):
    """A product's photos in order (the first is the product's picture); POST uploads one more."""
    from shop.errors import DomainError
    from shop.portal import photos as service

    producer = producer_or_404(slug)
    item = product_or_404(producer, product)
    if request.method == "GET":
        return _render_photos(producer, item)
    if not _checked_form():
        return _render_photos(producer, item, general=[_("The form has expired. Please try again.")], status=400)
    filename, data = _upload()
    row = None
    try:
        row = service.add_photo(item.id, filename, data, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_photos(producer, item, general=[exc.message], status=400)
    except Exception:
        db.session.rollback()
        if row is not None:
            service.delete_files([row.path])
        raise
    flash(_("The photo is added."), "success")
    return redirect(url_for("portal.photos", slug=producer.slug, product=item.slug))


@bp.post("/<slug>/products/<product>/photos/<id:photo_id>/<any(first, up, down):move>")
def move_photo(slug: str, product: str, photo_id: int, move: str):
    """Move a photo to the front, one place earlier or one later."""
    from shop.errors import NotFound as Missing
    from shop.portal import photos as service

    producer = producer_or_404(slug)
    item = product_or_404(producer, product)
    if not _checked_form():
        return _render_photos(producer, item, general=[_("The form has expired. Please try again.")], status=400)
    try:
        service.move_photo(item.id, photo_id, {"first": -service.MAX_PHOTOS, "up": -1, "down": 1}[move], **_who())
    except Missing:
        raise NotFound() from None
    db.session.commit()
    flash(_("The photos are in their new order."), "success")
    return redirect(url_for("portal.photos", slug=producer.slug, product=item.slug))


@bp.post("/<slug>/products/<product>/photos/<id:photo_id>/remove")
def remove_photo(slug: str, product: str, photo_id: int):
    """Remove a photo: its row now, its file once that is committed."""
    from shop.errors import NotFound as Missing
    from shop.portal import photos as service

    producer = producer_or_404(slug)
    item = product_or_404(producer, product)
    if not _checked_form():
        return _render_photos(producer, item, general=[_("The form has expired. Please try again.")], status=400)
    try:
        path = service.remove_photo(item.id, photo_id, **_who())
    except Missing:
        raise NotFound() from None
    db.session.commit()
    service.delete_files([path])
    flash(_("The photo is removed."), "success")
    return redirect(url_for("portal.photos", slug=producer.slug, product=item.slug))


@bp.post("/<slug>/cover")
def cover(slug: str):
    """Upload the producer's cover picture (the wide photo at the top of its public page)."""
    from shop.errors import DomainError
    from shop.portal import photos as service

    producer = producer_or_404(slug)
    if not _checked_form():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("portal.story", slug=producer.slug)), 303
    filename, data = _upload()
    try:
        path, old = service.set_cover(producer.id, filename, data, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        from shop.portal.forms import StoryForm

        return _render_texts("portal/story.html", producer, StoryForm(formdata=None, obj=producer),
                             _story_fields(), general=[exc.message], status=400)
    service.delete_files([old] if old and old != path else [])
    flash(_("The cover picture is changed."), "success")
    return redirect(url_for("portal.story", slug=producer.slug))


def _story_fields():
    from shop.portal.services import STORY_FIELDS

    return STORY_FIELDS


@bp.errorhandler(413)
def _too_large(_error):
    """An upload over the site's request limit (``MAX_CONTENT_LENGTH``): the page again, with the
    reason (the request was not read, nothing changed)."""
    from shop.portal.photos import PHOTO_MAX_BYTES

    from werkzeug.exceptions import HTTPException

    message = _("The photo is larger than %(mb)d MB.", mb=PHOTO_MAX_BYTES // (1024 * 1024))
    args = request.view_args or {}
    try:
        producer = producer_or_404(args.get("slug", ""))
        item = product_or_404(producer, args["product"]) if args.get("product") else None
    except HTTPException as refused:  # another producer's page, or a role without the action
        return refused
    if item is not None:
        return _render_photos(producer, item, general=[message], status=413)
    from shop.portal.forms import StoryForm

    return _render_texts("portal/story.html", producer, StoryForm(formdata=None, obj=producer), _story_fields(),
                         general=[message], status=413)


# ---- proposals ----------------------------------------------------------------------------------

@bp.post("/<slug>/products/<product>/propose")
def propose(slug: str, product: str):
    """Propose new names, unit or price for a product: an administrator decides."""
    from shop.errors import DomainError
    from shop.forms import apply_errors
    from shop.portal import proposals, services
    from shop.portal.forms import CHANGE_FIELDS, ChangeForm, DescriptionForm

    producer = producer_or_404(slug)
    item = product_or_404(producer, product)
    form = ChangeForm(prefix="change")

    def again(errors=None, general=()):
        return _render_texts("portal/product.html", producer, DescriptionForm(formdata=None, obj=item),
                             services.DESCRIPTION_FIELDS, product=item, change_form=form,
                             change_errors=errors or {}, change_general=list(general), status=400)

    if not form.validate_on_submit():
        return again(general=[_("The form has expired. Please try again.")])
    try:
        proposals.propose_change(item.id, {name: form[name].data for name in CHANGE_FIELDS},
                                 user_id=current_user.id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, CHANGE_FIELDS)
        return again(errors, general)
    flash(_("Sent for review: an administrator will publish it. You can follow it under Proposals."), "success")
    return redirect(url_for("portal.proposals", slug=producer.slug))


def _new_product_form(formdata=True):
    from shop.catalog.models import ProductGroup
    from shop.portal.forms import NewProductForm

    form = NewProductForm() if formdata else NewProductForm(formdata=None)
    groups = db.session.scalars(select(ProductGroup).order_by(ProductGroup.code)).all()
    form.group.choices = [("", "—")] + [(g.code, f"{g.code} {localized_name(g)}") for g in groups]
    return form


def localized_name(obj) -> str:
    from shop.i18n import localized

    return localized(obj, "name")


@bp.route("/<slug>/proposals", methods=["GET", "POST"])
def proposals(slug: str):
    """The producer's proposals and their decisions; POST proposes a new product."""
    from shop.errors import DomainError
    from shop.forms import apply_errors
    from shop.portal import proposals as service
    from shop.portal.forms import NEW_PRODUCT_FIELDS

    producer = producer_or_404(slug)
    errors, general, status = {}, [], 200
    if request.method == "GET":
        form = _new_product_form(formdata=False)
    else:
        policy.require(current_user, Action.PROPOSE_PRODUCT)
        form = _new_product_form()
        status = 400
        if not form.validate_on_submit():
            general = [_("The form has expired. Please try again.")]
        else:
            try:
                service.propose_new_product(producer.id, {name: form[name].data for name in NEW_PRODUCT_FIELDS},
                                            user_id=current_user.id)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                errors, general = apply_errors(form, exc, NEW_PRODUCT_FIELDS)
            else:
                flash(_("Sent for review: an administrator will publish it. You can follow it under Proposals."),
                      "success")
                return redirect(url_for("portal.proposals", slug=producer.slug))
    return render_template("portal/proposals.html", producer=producer, items=service.of_producer(producer.id),
                           form=form, errors=errors, general=general), status


@bp.post("/<slug>/proposals/<id:proposal_id>/withdraw")
def withdraw(slug: str, proposal_id: int):
    """Take back a proposal that waits; another producer's (or a guessed) id is a 404."""
    from shop.errors import DomainError
    from shop.errors import NotFound as Missing
    from shop.portal import proposals as service

    producer = producer_or_404(slug)
    try:
        service.get(proposal_id, producer.id)
    except Missing:
        raise NotFound() from None
    if not _checked_form():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("portal.proposals", slug=producer.slug))
    try:
        service.withdraw(proposal_id, producer.id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("portal.proposals", slug=producer.slug)), 303
    flash(_("The proposal is withdrawn."), "success")
    return redirect(url_for("portal.proposals", slug=producer.slug))
