"""Transfers between shops in the staff workspace (``/staff/shops/<shop>/transfers…``): the sender
sends (``inventory.send_transfer``: the units leave and are in transit), the receiver counts what
arrived (``inventory.receive_transfer``: a difference stays on record), or the sender cancels before
it arrives (``inventory.cancel_transfer``). A transfer is seen only by the staff of its two shops
(404 for anyone else); only the receiver receives and only the sender cancels.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from shop.errors import DomainError, OutOfStock
from shop.extensions import db
from shop.inputs import whole_number
from shop.inventory import services as inventory
from shop.inventory.enums import TransferState
from shop.inventory.models import Lot, Transfer, TransferLine
from shop.shops.models import Shop
from shop.staff import bp
from shop.staff.forms import ReasonForm, TransferForm
from shop.staff.stock import _lot_code, _product_choices, _quantity, find_product
from shop.staff.views import load_shop

LIST_LIMIT = 100


def _transfer_of(shop: Shop, transfer_id: int, *, side: str | None = None) -> Transfer:
    """A transfer of this shop (as sender or receiver, or only as ``side``: "from" / "to"), or 404."""
    transfer = db.session.get(Transfer, transfer_id) if 0 < transfer_id < 2**31 else None
    if transfer is None:
        abort(404)
    ends = {"from": transfer.from_shop_id, "to": transfer.to_shop_id}
    if shop.id not in ([ends[side]] if side else ends.values()):
        abort(404)
    return transfer


@bp.get("/shops/<slug>/transfers")
def transfers(slug: str):
    """The shop's transfers, in transit first, then newest first."""
    shop = load_shop(slug)
    rows = db.session.scalars(
        select(Transfer).where(or_(Transfer.from_shop_id == shop.id, Transfer.to_shop_id == shop.id))
        .options(selectinload(Transfer.lines), selectinload(Transfer.from_shop), selectinload(Transfer.to_shop))
        .order_by((Transfer.state == TransferState.SENT).desc(), Transfer.id.desc()).limit(LIST_LIMIT)).all()
    return render_template("staff/transfers.html", shop=shop, transfers=rows)


def _transfer_form(shop: Shop) -> TransferForm:
    form = TransferForm()
    others = db.session.scalars(select(Shop).where(Shop.id != shop.id).order_by(Shop.name)).all()
    form.to_shop.choices = [("", "—")] + [(str(s.id), s.name) for s in others]
    return form


@bp.route("/shops/<slug>/transfers/new", methods=["GET", "POST"])
def new_transfer(slug: str):
    """Send units to another shop: the shop, up to 20 lines (product, optional lot, quantity)."""
    shop = load_shop(slug)
    form = _transfer_form(shop)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        def bad(field, message):
            field.errors = [message]
            errors.setdefault(field.id, []).append(message)

        if not form.validate_on_submit():
            general.append(_("The form could not be read; please send it again."))
        to_id = whole_number(form.to_shop.data, 1)
        to_shop = db.session.get(Shop, to_id) if to_id and to_id < 2**31 else None
        if to_shop is None:
            bad(form.to_shop, _("Choose the shop that receives the goods."))
        elif to_shop.id == shop.id:
            bad(form.to_shop, _("A transfer goes to another shop."))
        lines = []
        for sub in form.lines:
            if not any((f or "").strip() for f in (sub.product.data, sub.lot_code.data, sub.quantity.data)):
                continue
            product = find_product(sub.product.data)
            if product is None:
                bad(sub.product, _("No product has this code or barcode."))
            lot_id = None
            if (sub.lot_code.data or "").strip() and product is not None:
                code, code_error = _lot_code(sub.lot_code.data)
                lot = db.session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == code)) \
                    if code else None
                if code_error or lot is None:
                    bad(sub.lot_code, _("No lot with this code for this product."))
                else:
                    lot_id = lot.id
            quantity = _quantity(sub.quantity.data)
            if quantity is None:
                bad(sub.quantity, _("A whole number from 1 to %(max)s.", max=inventory.MAX_QUANTITY))
            if product is not None and quantity is not None:
                lines.append((product.id, lot_id, quantity))
        if not lines and not errors and not general:
            general.append(_("Fill in at least one line."))
        if not errors and not general:
            try:
                transfer = inventory.send_transfer(shop.id, to_shop.id, lines, user_id=current_user.id,
                                                   note=" ".join((form.note.data or "").split())[:500])
                db.session.commit()
            except OutOfStock:
                db.session.rollback()
                general.append(_("Not enough units that can leave: some are not on the shelf, or held for "
                                 "customers' orders."))
            except DomainError as exc:
                db.session.rollback()
                general.append(exc.message)
            else:
                flash(_("Transfer %(ref)s sent: in transit.", ref=transfer.reference), "success")
                return redirect(url_for("staff.transfer", slug=shop.slug, transfer_id=transfer.id))
        return render_template("staff/transfer_new.html", shop=shop, form=form, errors=errors, general=general,
                               products=_product_choices()), 400
    return render_template("staff/transfer_new.html", shop=shop, form=form, errors={}, general=[],
                           products=_product_choices())


def _render(shop: Shop, transfer: Transfer, status: int = 200, errors: list[str] | None = None,
            counts: dict | None = None, reason_form: ReasonForm | None = None):
    return render_template("staff/transfer.html", shop=shop, transfer=transfer, errors=errors or [],
                           counts=counts or {}, reason_form=reason_form or ReasonForm(),
                           may_receive=transfer.state == TransferState.SENT and transfer.to_shop_id == shop.id,
                           may_cancel=transfer.state == TransferState.SENT and transfer.from_shop_id == shop.id), status


@bp.get("/shops/<slug>/transfers/<int:transfer_id>")
def transfer(slug: str, transfer_id: int):
    shop = load_shop(slug)
    return _render(shop, _transfer_of(shop, transfer_id))


@bp.post("/shops/<slug>/transfers/<int:transfer_id>/receive")
def receive_transfer(slug: str, transfer_id: int):
    """The receiving shop counts each line (``line-<id>``: units that arrived, 0..sent)."""
    shop = load_shop(slug)
    transfer = _transfer_of(shop, transfer_id, side="to")
    if transfer.state != TransferState.SENT:
        return _render(shop, transfer, 409, [_("This transfer is %(state)s: nothing to receive.",
                                               state=transfer.state.label)])
    form = ReasonForm()
    counts, wrong = {}, []
    for line in transfer.lines:
        raw = request.form.get(f"line-{line.id}", "")
        counts[line.id] = raw
        units = whole_number(raw, 0, line.quantity_sent)
        if units is None:
            wrong.append(_("%(product)s, lot %(lot)s: a whole number from 0 to %(max)s.",
                           product=line.product.name, lot=line.lot.code, max=line.quantity_sent))
    if not form.validate_on_submit():
        wrong.append(_("The form could not be read; please send it again."))
    if wrong:
        return _render(shop, transfer, 400, wrong, counts)
    received = {line.id: whole_number(counts[line.id], 0, line.quantity_sent) for line in transfer.lines}
    try:
        inventory.receive_transfer(transfer.id, received, user_id=current_user.id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render(shop, db.session.get(Transfer, transfer_id), 409, [exc.message], counts)
    missing = sum(line.quantity_sent - (line.quantity_received or 0) for line in transfer.lines)
    flash(_("Transfer %(ref)s received.", ref=transfer.reference) + (
        " " + _("%(n)s unit(s) did not arrive: the difference is recorded.", n=missing) if missing else ""),
        "success")
    return redirect(url_for("staff.transfer", slug=shop.slug, transfer_id=transfer.id))


@bp.post("/shops/<slug>/transfers/<int:transfer_id>/cancel")
def cancel_transfer(slug: str, transfer_id: int):
    """The sending shop cancels a transfer still in transit, with a reason: the units come back."""
    shop = load_shop(slug)
    transfer = _transfer_of(shop, transfer_id, side="from")
    if transfer.state != TransferState.SENT:
        return _render(shop, transfer, 409, [_("This transfer is %(state)s: it cannot be cancelled.",
                                               state=transfer.state.label)])
    form = ReasonForm()
    reason = " ".join((form.reason.data or "").split())[:500]
    if not form.validate_on_submit() or not reason:
        form.reason.errors = [_("Say why the transfer is cancelled.")]
        return _render(shop, transfer, 400, reason_form=form)
    try:
        inventory.cancel_transfer(transfer.id, user_id=current_user.id, note=reason)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render(shop, db.session.get(Transfer, transfer_id), 409, [exc.message], reason_form=form)
    flash(_("Transfer %(ref)s cancelled: the units are back on the shelf.", ref=transfer.reference), "success")
    return redirect(url_for("staff.transfer", slug=shop.slug, transfer_id=transfer.id))
