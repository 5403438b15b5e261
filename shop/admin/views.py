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
from shop.admin import bp, records
from shop.admin.enums import AuditObject
from shop.admin.forms import (CERTIFICATE_FIELDS, IMPORT_COLUMNS, IMPORT_DECISION_FIELDS, PRODUCT_FIELDS, REVOKE_FIELDS,
                              SHOP_FIELDS, CertificateForm, ImportMappingForm, ImportUploadForm, ProductForm,
                              RevokeForm, ShopForm)
from shop.catalog import certificates, province_import
from shop.catalog.enums import CertificateKind, CertificateStatus
from shop.catalog.models import Product
from shop.errors import DomainError, FieldErrors, InvalidFields, InvalidInput
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


def _who() -> dict:
    """The audit's actor and account for a service call."""
    return {"actor": current_user.display_name, "user_id": current_user.id}


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


def _product_choices(form: ProductForm) -> ProductForm:
    """Every group (by code) and every producer (current ones; a retired one only if it is the
    form's own) as the form's choices."""
    from shop.catalog.models import ProductGroup
    from shop.producers.models import Producer

    groups = db.session.scalars(select(ProductGroup).order_by(ProductGroup.code)).all()
    producers = db.session.scalars(select(Producer).where(or_(Producer.active.is_(True),
                                                              Producer.slug == (form.producer.data or "")))
                                   .order_by(Producer.name)).all()
    return form.set_choices(groups, producers, _("Choose…"))


def _render_product(product: Product, *, form=None, revoke_form=None, edit_form=None, errors=None, general=(),
                    status=200, which: str = ""):
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
    if edit_form is None:
        edit_form = ProductForm(formdata=None, prefix="edit", obj=product)
        edit_form.price.data = str(product.price)
        edit_form.group.data = str(product.group_id)
        edit_form.producer.data = product.producer.slug
        edit_form.weight_grams.data = "" if product.weight_grams is None else str(product.weight_grams)
        edit_form.barcode.data = product.barcode or ""
    _product_choices(edit_form)
    history = records.history(AuditObject.PRODUCT, product.id)
    history += [entry for cert in product.certificates for entry in records.history(AuditObject.CERTIFICATE, cert.id)]
    history.sort(key=lambda entry: entry.id, reverse=True)
    return render_template("admin/product.html", product=product, active=active, form=form,
                           revoke_form=revoke_form, edit_form=edit_form, errors=errors or {}, general=list(general),
                           which=which, open_orders=_open_orders(product), today=today_vn(),
                           history=history), status


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
        cert = certificates.record(product.id, _certificate_input(form), **_who())
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


@bp.post("/certificates/<id:certificate_id>/renew")
def renew(certificate_id: int):
    """Re-recognition or upgrade of an active certificate: the old one becomes superseded."""
    old = _certificate_or_404(certificate_id)
    product = old.product
    form = CertificateForm()
    if not form.validate_on_submit():
        return _render_product(product, form=form, general=[_("The form has expired. Please try again.")],
                               status=400, which="certificate")
    try:
        cert = certificates.renew(old.id, _certificate_input(form), **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, CERTIFICATE_FIELDS)
        return _render_product(product, form=form, errors=errors, general=general, status=400, which="certificate")
    flash(_("Certificate %(number)s recorded: %(stars)d★ until %(until)s. The previous one is superseded.",
            number=cert.decision_number, stars=cert.stars, until=cert.expires_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.product", slug=product.slug))


@bp.post("/certificates/<id:certificate_id>/revoke")
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
                                             reason=form.revocation_reason.data, **_who())
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


# ---- the province's OCOP list ---------------------------------------------------------------

IMPORT_SALT = "admin-province-import"
IMPORT_MAX_AGE = 24 * 3600  # seconds a preview can be confirmed


def _serializer():
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.secret_key, salt=IMPORT_SALT)


def _load_payload(raw: str | None) -> tuple[list[list[str]], province_import.Decision, str]:
    """(rows, decision, file name) from the signed payload; ``InvalidInput`` when it was altered or
    is older than a day (upload the file again)."""
    from itsdangerous import BadSignature

    try:
        data = _serializer().loads(raw or "", max_age=IMPORT_MAX_AGE)
        decision = data["decision"]
        return data["rows"], province_import.Decision(
            decision["number"], date.fromisoformat(decision["issued_on"]), decision["issuing_body"],
            decision["level"], decision["legal_basis"]), data["file"]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput(_("This preview has expired: upload the file again.")) from None


def _mapping_from(form: ImportMappingForm) -> dict[str, int | None]:
    mapping: dict[str, int | None] = {}
    for name in province_import.FIELDS:
        raw = form[f"col_{name}"].data or ""
        mapping[name] = int(raw) if raw.isdigit() and len(raw) < 5 else None
    return mapping


def _render_upload(form: ImportUploadForm, exc: DomainError | None = None, status: int = 200):
    errors, general = apply_errors(form, exc, IMPORT_DECISION_FIELDS) if exc else ({}, [])
    return render_template("admin/import.html", form=form, errors=errors, general=general,
                           max_mb=province_import.MAX_BYTES // (1024 * 1024)), status


def _render_preview(rows, decision, filename, mapping, *, payload: str, done: bool = False, exc=None,
                    status: int = 200):
    form = ImportMappingForm(formdata=None)
    form.set_columns(rows[0])
    form.payload.data = payload
    for name in province_import.FIELDS:
        form[f"col_{name}"].data = "" if mapping.get(name) is None else str(mapping[name])
    plans, errors, general = [], {}, []
    if exc is not None:
        errors, general = apply_errors(form, exc, IMPORT_COLUMNS)
    else:
        try:
            plans = (province_import.apply(rows, mapping, decision, **_who()) if done
                     else province_import.plan(rows, mapping, decision))
        except DomainError as error:
            if done:
                raise
            errors, general = apply_errors(form, error, IMPORT_COLUMNS)
            status = 400
    return render_template("admin/import_preview.html", form=form, plans=plans, done=done, decision=decision,
                           filename=filename, errors=errors, general=general, Outcome=province_import.Outcome,
                           counts=province_import.summary(plans)), status


@bp.route("/import", methods=["GET", "POST"])
def import_list():
    """Upload the annex table and say which decision it belongs to; answers with the preview."""
    form = ImportUploadForm()
    if request.method == "GET":
        return _render_upload(form)
    if not form.validate_on_submit():
        return _render_upload(form, InvalidInput(_("The form has expired. Please try again.")), 400)
    errors = FieldErrors()
    decision = province_import.Decision(form.decision_number.data or "", _date(errors, "issued_on", form.issued_on.data),
                                        form.issuing_body.data or "", form.level.data or "", form.legal_basis.data or "")
    upload = request.files.get(form.file.name)
    filename = (upload.filename or "")[:200] if upload else ""
    rows = None
    if upload is None or not filename:
        errors.add("file", _("Choose a file."))
    else:
        data = upload.stream.read(province_import.MAX_BYTES + 1)
        rows = errors.check(province_import.read_table, filename, data)
    decision = errors.check(province_import.check_decision, decision) if not errors.errors.get("issued_on") else None
    if errors.errors:
        return _render_upload(form, InvalidFields(errors.errors), 400)
    payload = _serializer().dumps({"rows": rows, "file": filename, "decision": {
        "number": decision.number, "issued_on": decision.issued_on.isoformat(), "issuing_body": decision.issuing_body,
        "level": decision.level, "legal_basis": decision.legal_basis}})
    return _render_preview(rows, decision, filename, province_import.guess_mapping(rows[0]), payload=payload)


@bp.get("/import/sample.<any(csv, xlsx):ext>")
def import_sample(ext: str):
    """The sample list of docs/ (made from the demo data by scripts/make_import_sample.py)."""
    from pathlib import Path

    from flask import current_app, send_file

    path = Path(current_app.root_path).parent / "docs" / f"ocop-import-sample.{ext}"
    if not path.is_file():
        raise NotFound()
    return send_file(path, as_attachment=True, download_name=path.name)


@bp.errorhandler(413)
def _too_large(_error):
    """An upload over the site's request limit: the import form again, with the reason."""
    form = ImportUploadForm(formdata=None)
    return _render_upload(form, InvalidInput(_("The file is larger than %(mb)d MB.",
                                               mb=province_import.MAX_BYTES // (1024 * 1024)), field="file"), 413)


@bp.post("/import/preview")
def import_preview():
    """The preview again, with the columns as the administrator mapped them."""
    form = ImportMappingForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput(_("The form has expired. Please try again."))
        rows, decision, filename = _load_payload(form.payload.data)
    except DomainError as exc:
        return _render_upload(ImportUploadForm(formdata=None), exc, 400)
    return _render_preview(rows, decision, filename, _mapping_from(form), payload=form.payload.data)


@bp.post("/import/confirm")
def import_confirm():
    """Apply the list (planned again now) and show what was done, row by row."""
    form = ImportMappingForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput(_("The form has expired. Please try again."))
        rows, decision, filename = _load_payload(form.payload.data)
    except DomainError as exc:
        return _render_upload(ImportUploadForm(formdata=None), exc, 400)
    mapping = _mapping_from(form)
    try:
        response = _render_preview(rows, decision, filename, mapping, payload=form.payload.data, done=True)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_preview(rows, decision, filename, mapping, payload=form.payload.data, exc=exc, status=400)
    return response


# ---- products and shops: edit, retire (never delete), with their audit history ------------------

@bp.post("/products/<slug>/edit")
def edit_product(slug: str):
    """Names, unit, price, listed; unlisting retires the product from sale."""
    product = _product_or_404(slug)
    form = _product_choices(ProductForm(prefix="edit"))
    if not form.validate_on_submit():
        return _render_product(product, edit_form=form, general=[_("The form has expired. Please try again.")],
                               status=400, which="edit")
    try:
        records.edit_product(product.id, **{name: form[name].data for name in PRODUCT_FIELDS}, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, PRODUCT_FIELDS)
        return _render_product(product, edit_form=form, errors=errors, general=general, status=400, which="edit")
    flash(_("The product is saved."), "success")
    return redirect(url_for("admin.product", slug=product.slug))


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    """The form for a new product (POST creates it); ``?producer=<slug>`` chooses the producer.
    A new product is sold only once it holds a valid certificate (recorded on its page next)."""
    if request.method == "GET":
        form = ProductForm(formdata=None)
        form.producer.data = (request.args.get("producer") or "")[:160]
        return render_template("admin/product_new.html", form=_product_choices(form), errors={}, general=[])
    form = _product_choices(ProductForm())
    try:
        if not form.validate_on_submit():
            raise InvalidInput(_("The form has expired. Please try again."))
        product = records.create_product(**{name: form[name].data for name in PRODUCT_FIELDS}, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, PRODUCT_FIELDS)
        return render_template("admin/product_new.html", form=form, errors=errors, general=general), 400
    flash(_("The product is saved. Record its certificate to put it on sale."), "success")
    return redirect(url_for("admin.product", slug=product.slug))


@bp.get("/shops")
def shops():
    """Every shop and warehouse, retired ones too."""
    from shop.shops.models import Shop

    return render_template("admin/shops.html", shops=db.session.scalars(select(Shop).order_by(Shop.name)).all())


def _shop_or_404(slug: str):
    try:
        return records.get_shop(slug)
    except DomainError:
        raise NotFound() from None


def _render_shop(shop, form=None, errors=None, general=(), status=200):
    if form is None:
        form = ShopForm(formdata=None, obj=shop)
    return render_template("admin/shop.html", shop=shop, form=form, errors=errors or {}, general=list(general),
                           history=records.history(AuditObject.SHOP, shop.id),
                           open_shipments=records.open_shipments(shop.id)), status


@bp.route("/shops/<slug>", methods=["GET", "POST"])
def shop(slug: str):
    """A shop's details (POST saves them) and its history."""
    shop = _shop_or_404(slug)
    if request.method == "GET":
        return _render_shop(shop)
    form = ShopForm()
    if not form.validate_on_submit():
        return _render_shop(shop, form, general=[_("The form has expired. Please try again.")], status=400)
    try:
        records.edit_shop(shop.id, **{name: form[name].data for name in SHOP_FIELDS}, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        errors, general = apply_errors(form, exc, SHOP_FIELDS)
        return _render_shop(shop, form, errors, general, status=400)
    flash(_("The shop is saved."), "success")
    return redirect(url_for("admin.shop", slug=shop.slug))


@bp.post("/shops/<slug>/<any(retire, reopen):change>")
def shop_state(slug: str, change: str):
    """Retire a shop (it stops selling at once; nothing is deleted) or bring it back."""
    from shop.accounts.forms import EmptyForm

    shop = _shop_or_404(slug)
    if not EmptyForm().validate_on_submit():
        return _render_shop(shop, general=[_("The form has expired. Please try again.")], status=400)
    try:
        (records.retire_shop if change == "retire" else records.reopen_shop)(shop.id, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_shop(shop, general=[exc.message], status=409)
    flash(_("The shop is retired: it no longer takes orders or pick-ups.") if change == "retire"
          else _("The shop is open again."), "success")
    return redirect(url_for("admin.shop", slug=shop.slug))
from shop.admin import producer_views as _producer_views  # noqa: E402,F401  (routes)
from shop.admin import place_views as _place_views  # noqa: E402,F401  (routes)
from shop.admin import people_views as _people_views  # noqa: E402,F401  (routes)
