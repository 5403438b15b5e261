"""Bank transfers in the staff workspace: the statement import (``/staff/shops/<shop>/statements``),
the lines waiting for a person's decision, and the transfer confirmed by hand on a shipment page.

Managers of the shop (and administrators) only: the money is the province's account, which clerks
do not see (``Action.MANAGE_SHOP``: a clerk gets a 403, another shop's manager a 404). Uploading
writes nothing: it shows the preview, whose one button sends the credits back signed
(``itsdangerous``, bound to the shop, valid ``PREVIEW_MAX_AGE``) to be imported
(``shop.payments.statements.import_statement``), which matches them again on fresh data.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from shop.accounts import policy
from shop.accounts.policy import Action, authorize
from shop.errors import DomainError
from shop.extensions import db
from shop.orders.enums import OrderStatus, PaymentMethod
from shop.payments import statements
from shop.payments.enums import StatementLineState, StatementMatch
from shop.payments.models import StatementLine
from shop.shops.models import Shop
from shop.staff import bp
from shop.staff.forms import DecideForm, StatementConfirmForm, StatementForm, TransferPaidForm
from shop.staff.views import _load_shipment, _refused, _render_shipment, actor_name, load_shop

SALT = "staff-statement-preview"
PREVIEW_MAX_AGE = 24 * 3600  # seconds: a preview older than a day is uploaded again
LIST_LIMIT = 200


def staff_manages(shop: Shop) -> bool:
    """Whether the signed-in user manages ``shop`` (the workspace shows the statements tab)."""
    return policy.can(current_user, Action.MANAGE_SHOP, shop)


bp.add_app_template_global(staff_manages, "staff_manages")


def _manager_shop(slug: str) -> Shop:
    shop = load_shop(slug)
    authorize(current_user, Action.MANAGE_SHOP, shop)
    return shop


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _page(shop: Shop, *, form: StatementForm | None = None, errors: list[str] | None = None, status: int = 200,
          decide_errors: dict[int, str] | None = None):
    lines = db.session.scalars(statements.lines_for(shop.id).limit(LIST_LIMIT)).all()
    waiting = [line for line in lines if line.state == StatementLineState.TO_DECIDE]
    decided = [line for line in lines if line.state != StatementLineState.TO_DECIDE][:50]
    return render_template("staff/statements.html", shop=shop, form=form or StatementForm(), errors=errors or [],
                           waiting=waiting, decided=decided, decide_form=DecideForm(),
                           decide_errors=decide_errors or {}, Match=StatementMatch,
                           max_kb=statements.MAX_BYTES // 1024, max_rows=statements.MAX_ROWS), status


@bp.route("/shops/<slug>/statements", methods=["GET", "POST"])
def statements_page(slug: str):
    """The upload form and the credits waiting for a decision; a POSTed file answers with the preview."""
    shop = _manager_shop(slug)
    if request.method == "GET":
        return _page(shop)
    form = StatementForm()
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _page(shop, errors=[_("The file is larger than %(mb)d MB.", mb=statements.MAX_BYTES // (1024 * 1024))],
                     status=413)
    if not form.validate_on_submit():
        return _page(shop, errors=[_("The form has expired. Please try again.")], status=400)
    filename = (upload.filename or "")[:200] if upload else ""
    if upload is None or not filename:
        return _page(shop, errors=[_("Choose a file.")], status=400)
    try:
        credits = statements.read_statement(filename, upload.stream.read(statements.MAX_BYTES + 1))
    except DomainError as exc:
        return _page(shop, errors=[exc.message], status=400)
    payload = _serializer().dumps({"shop_id": shop.id, "file": filename, "credits": [c.as_dict() for c in credits]})
    confirm = StatementConfirmForm(formdata=None)
    confirm.payload.data = payload
    rows = statements.preview(credits, shop.id)
    counts = {kind: sum(1 for r in rows if r.kind == kind and r.recorded is None) for kind in StatementMatch}
    return render_template("staff/statement_preview.html", shop=shop, rows=rows, filename=filename, form=confirm,
                           counts=counts, Match=StatementMatch,
                           new=sum(1 for r in rows if r.recorded is None),
                           other=sum(1 for r in rows if r.kind is None and r.recorded is None))


@bp.post("/shops/<slug>/statements/import")
def import_statement(slug: str):
    """The preview's click: record the credits, confirm the matches, leave the rest to decide."""
    shop = _manager_shop(slug)
    form = StatementConfirmForm()
    try:
        if not form.validate_on_submit():
            raise BadSignature("no token")
        data = _serializer().loads(form.payload.data or "", max_age=PREVIEW_MAX_AGE)
        if data["shop_id"] != shop.id:
            raise BadSignature("another shop")
        credits = [statements.Credit.from_dict(c) for c in data["credits"]]
        filename = str(data["file"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return _page(shop, errors=[_("This preview has expired: upload the file again.")], status=400)
    result = statements.import_statement(credits, shop_id=shop.id, file_name=filename,
                                         actor=actor_name(current_user), user_id=current_user.id)
    flash(_("Statement imported: %(confirmed)d order(s) confirmed as paid, %(decide)d credit(s) to decide, "
            "%(other)d for other shops, %(known)d already imported before.", confirmed=len(result.confirmed),
            decide=result.to_decide, other=result.other_shops, known=result.already_recorded), "success")
    return redirect(url_for("staff.statements_page", slug=shop.slug))


@bp.post("/shops/<slug>/statements/lines/<int:line_id>/<any(confirm, 'set-aside'):decision>")
def decide_line(slug: str, line_id: int, decision: str):
    """A person's decision on a credit waiting for one: confirm its order as paid, or set it aside
    with a note (``statements.decide``)."""
    shop = _manager_shop(slug)
    line = db.session.scalar(statements.lines_for(shop.id).where(StatementLine.id == line_id))
    if line is None:
        abort(404)
    form = DecideForm()
    if not form.validate_on_submit():
        return _page(shop, decide_errors={line.id: _("The form has expired. Please try again.")}, status=400)
    try:
        statements.decide(line, confirm=decision == "confirm", note=form.note.data or "",
                          actor=actor_name(current_user), user_id=current_user.id)
    except DomainError as exc:
        return _page(shop, decide_errors={line_id: exc.message}, status=409 if exc.status in (403, 409) else 400)
    flash(_("Statement line decided."), "success")
    return redirect(url_for("staff.statements_page", slug=shop.slug))


def may_confirm_transfer(shop: Shop, order) -> bool:
    """Whether the shipment page offers "transfer received": a bank-transfer order still waiting
    for its money (or expired / cancelled: late money is recorded), to a manager of the shop."""
    return (order.payment_method == PaymentMethod.BANK_TRANSFER
            and order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)
            and order.payment_status not in statements.orders.MONEY_HELD
            and policy.can(current_user, Action.MANAGE_SHOP, shop))


@bp.post("/shops/<slug>/orders/<number>/transfer-received")
def transfer_received(slug: str, number: str):
    """A manager saw the bank transfer of this order arrive: confirm it by hand."""
    shop, shipment = _load_shipment(slug, number)
    authorize(current_user, Action.MANAGE_SHOP, shop)
    form = TransferPaidForm()
    if not form.validate_on_submit() or not form.seen.data:
        form.seen.errors = [_("Tick the box once you have seen the money on the account.")]
        return _render_shipment(shop, shipment, 400, paid_form=form)
    try:
        statements.confirm_by_hand(shipment.order, reference=form.reference.data or "",
                                   actor=actor_name(current_user), user_id=current_user.id)
    except DomainError as exc:
        return _refused(shop, shipment, exc, paid_form=form)
    flash(_("Bank transfer for order %(number)s confirmed.", number=number), "success")
    return redirect(url_for("staff.shipment", slug=shop.slug, number=number))
