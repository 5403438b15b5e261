"""Administration pages (``/admin``): the certificates of each product, and those expiring soon.

Every page: signed in (guests are sent to sign in), the ``ADMINISTER`` action (403 otherwise),
no-store and noindex. POST + CSRF for every change; a refused change renders the page again with
each field's error (status 400) and changes nothing.
"""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from werkzeug.exceptions import NotFound

from shop import headers
from shop.accounts import policy
from shop.accounts import services as accounts
from shop.accounts.policy import Action
from shop.admin import bp
from shop.admin.forms import CERTIFICATE_FIELDS, REVOKE_FIELDS, CertificateForm, RevokeForm
from shop.catalog import certificates
from shop.catalog.enums import CertificateKind, CertificateStatus
from shop.catalog.models import Product
from shop.errors import DomainError, FieldErrors
from shop.extensions import db
from shop.forms import apply_errors
from shop.inputs import whole_number
from shop.text import fold
from shop.timeutil import today_vn

NEW_KINDS = (CertificateKind.NEW,)
RENEW_KINDS = (CertificateKind.RE_RECOGNITION, CertificateKind.UPGRADE)


@bp.before_request
@login_required
def _administrators_only():
    """Guests are sent to sign in; other roles get a 403; an administrator who must set up
    two-step sign-in does that first."""
    policy.require(current_user, Action.ADMINISTER)
    if accounts.must_set_up_two_step(current_user):
        return redirect(url_for("accounts.two_step_setup"))
    return None


@bp.after_request
def _private(response):
    response.headers["X-Robots-Tag"] = headers.NO_INDEX
    return headers.no_store(response)


def _date(errors: FieldErrors, field: str, raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10]) if len(raw) == 10 else _bad_date(errors, field)
    except ValueError:
        return _bad_date(errors, field)


def _bad_date(errors: FieldErrors, field: str) -> None:
    errors.add(field, _("Give a date as YYYY-MM-DD."))
    return None


def _number(errors: FieldErrors, field: str, raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    value = whole_number(raw, low=-10**6, high=10**6) if raw.lstrip("-").isdigit() and len(raw) < 8 else None
    if value is None:
        errors.add(field, _("Give a whole number."))
    return value


def _certificate_input(form: CertificateForm) -> certificates.CertificateInput:
    """The typed values as the service takes them; a value that is not a number or a date raises
    ``InvalidFields`` here, with the service's own checks of the other fields."""
    errors = FieldErrors()
    data = certificates.CertificateInput(
        stars=_number(errors, "stars", form.stars.data), score=_number(errors, "score", form.score.data),
        kind=form.kind.data or "", decision_number=form.decision_number.data,
        issuing_body=form.issuing_body.data, level=form.level.data or "", legal_basis=form.legal_basis.data,
        product_name_certified=form.product_name_certified.data,
        producer_name_certified=form.producer_name_certified.data,
        issued_on=_date(errors, "issued_on", form.issued_on.data),
        expires_on=_date(errors, "expires_on", form.expires_on.data))
    if errors.errors:
        # Report the service's findings about the other fields too (all errors in one answer).
        others = FieldErrors()
        others.check(certificates.check_input, data, kinds=NEW_KINDS + RENEW_KINDS)
        for field, messages in others.errors.items():
            if field not in errors.errors:
                errors.errors[field] = messages
        errors.raise_if_any()
    return data


def _product_or_404(slug: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.slug == slug[:160]))
    if product is None:
        raise NotFound()
    return product


def _open_orders(product: Product):
    from shop.orders.models import Order, OrderLine
    from shop.orders.services import OPEN_STATUSES

    return db.session.scalars(select(Order).where(Order.status.in_(OPEN_STATUSES),
                                                  Order.lines.any(OrderLine.product_id == product.id))
                              .order_by(Order.id).limit(200)).all()


def _render_product(product: Product, *, form=None, revoke_form=None, errors=None, general=(), status=200,
                    which: str = ""):
    active = next((c for c in product.certificates if c.status is CertificateStatus.ACTIVE), None)
    if form is None:
        form = CertificateForm(formdata=None)
        form.product_name_certified.data = product.name
        form.producer_name_certified.data = product.producer.name
        if active is not None:
            form.stars.data = str(active.stars)
            form.issuing_body.data = active.issuing_body
            form.level.data = active.level.value
    form.set_kinds(RENEW_KINDS if active is not None else NEW_KINDS)
    revoke_form = revoke_form or RevokeForm(formdata=None, prefix="revoke")
    return render_template("admin/product.html", product=product, active=active, form=form,
                           revoke_form=revoke_form, errors=errors or {}, general=list(general), which=which,
                           open_orders=_open_orders(product), today=today_vn()), status


@bp.get("/")
def index():
    """The administration's front page: what to look at first and where to go."""
    return render_template("admin/index.html", expiring=certificates.expiring())


@bp.get("/products")
def products():
    """Products by name (diacritics and case ignored), with their certificate state; 100 at most."""
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Product).order_by(Product.name).limit(100)
    if q:
        like = f"%{fold(q)}%"
        query = query.where(or_(Product.search_text.like(like), Product.slug.like(like)))
    return render_template("admin/products.html", products=db.session.scalars(query).all(), q=q)


@bp.route("/products/<slug>/certificates", methods=["GET", "POST"])
def product(slug: str):
    """A product's certificates: the history, and the form to record a first one (POST)."""
    product = _product_or_404(slug)
    if request.method == "GET":
        return _render_product(product)
    form = CertificateForm()
    if not form.validate_on_submit():
        return _render_product(product, form=form, general=[_("The form has expired. Please try again.")],
                               status=400, which="certificate")
    try:
        cert = certificates.record(product.id, _certificate_input(form))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, CERTIFICATE_FIELDS)
        return _render_product(product, form=form, errors=errors, general=general, status=400, which="certificate")
    flash(_("Certificate %(number)s recorded: %(stars)d★ until %(until)s.", number=cert.decision_number,
            stars=cert.stars, until=cert.expires_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.product", slug=product.slug))


def _certificate_or_404(certificate_id: int):
    try:
        return certificates.get(certificate_id)
    except DomainError:
        raise NotFound() from None


@bp.post("/certificates/<int:certificate_id>/renew")
def renew(certificate_id: int):
    """Re-recognition or upgrade of an active certificate: the old one becomes superseded."""
    old = _certificate_or_404(certificate_id)
    product = old.product
    form = CertificateForm()
    if not form.validate_on_submit():
        return _render_product(product, form=form, general=[_("The form has expired. Please try again.")],
                               status=400, which="certificate")
    try:
        cert = certificates.renew(old.id, _certificate_input(form))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, CERTIFICATE_FIELDS)
        return _render_product(product, form=form, errors=errors, general=general, status=400, which="certificate")
    flash(_("Certificate %(number)s recorded: %(stars)d★ until %(until)s. The previous one is superseded.",
            number=cert.decision_number, stars=cert.stars, until=cert.expires_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.product", slug=product.slug))


@bp.post("/certificates/<int:certificate_id>/revoke")
def revoke(certificate_id: int):
    """Revoke by decision: the product leaves sale at once and its open orders are flagged."""
    cert = _certificate_or_404(certificate_id)
    product = cert.product
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _render_product(product, revoke_form=form, general=[_("The form has expired. Please try again.")],
                               status=400, which="revoke")
    errors = FieldErrors()
    revoked_on = _date(errors, "revoked_on", form.revoked_on.data)
    try:
        errors.raise_if_any()
        _cert, flagged = certificates.revoke(cert.id, decision=form.revocation_decision.data, revoked_on=revoked_on,
                                             reason=form.revocation_reason.data, actor=current_user.display_name)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        field_errors, general = apply_errors(form, exc, REVOKE_FIELDS)
        return _render_product(product, revoke_form=form, errors=field_errors, general=general, status=400,
                               which="revoke")
    flash(_("Certificate %(number)s revoked: the product is off sale.", number=cert.decision_number), "success")
    if flagged:
        flash(_("Open orders flagged for staff: %(numbers)s.", numbers=", ".join(flagged)), "info")
    return redirect(url_for("admin.product", slug=product.slug))


@bp.get("/certificates/expiring")
def expiring():
    """Active certificates ending within 60 days, soonest first."""
    return render_template("admin/expiring.html", certs=certificates.expiring(), days=certificates.EXPIRY_WARNING_DAYS)
