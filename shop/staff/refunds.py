"""Refunds and returns from a shipment page (``/staff/shops/<shop>/orders/<number>/refund|return``).

- Refund (the shop's managers and administrators: money): one call to
  ``shop.payments.services.refund`` for every payment method: a card through Stripe (in full or in
  part; Stripe gives the reference), a bank transfer sent back by staff (its bank reference
  required) or cash handed back (a receipt number optional). A full refund before hand-over puts
  the order's stock back (the payments and orders services decide).
- Return (any staff of the shop: goods): ``shop.orders.returns.return_goods`` for the units this
  shop sold that came back: onto the shelf in their lots (ledger ``return``), or written off at
  once with a note when they cannot be sold again (``return`` then ``write_off``).
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from shop.accounts.policy import Action, authorize, can
from shop.errors import DomainError, InvalidInput
from shop.extensions import db
from shop.inputs import whole_number
from shop.money import format_vnd, parse_vnd
from shop.orders import returns
from shop.orders.enums import PaymentMethod
from shop.orders.models import Order
from shop.payments import services as payments
from shop.payments.models import Payment, Refund
from shop.shops.models import Shop
from shop.staff import bp
from shop.staff.forms import RefundForm, ReturnForm
from shop.staff.views import _load_shipment, _refused, _render_shipment, actor_name


def refund_context(shop: Shop, order: Order) -> dict:
    """What the shipment page shows about money back and goods back for this shop's staff."""
    rows = db.session.scalars(select(Refund).join(Payment, Payment.id == Refund.payment_id)
                              .where(Payment.order_id == order.id).order_by(Refund.id)).all()
    out = returns.returnable(order, shop.id)
    lines = {line.id: line for line in order.lines}
    return {
        "refunds": rows,
        "refund_left": payments.refundable(order) if can(current_user, Action.MANAGE_SHOP, shop) else 0,
        "card_refund": order.payment_method == PaymentMethod.CARD,
        "returnable": [(lines[line_id], sum(q for _r, q in pairs)) for line_id, pairs in out.items()],
    }


@bp.post("/shops/<slug>/orders/<number>/refund")
def refund(slug: str, number: str):
    """Refund all that is left or a typed amount, for any payment method (managers)."""
    shop, shipment = _load_shipment(slug, number)
    authorize(current_user, Action.MANAGE_SHOP, shop)
    form = RefundForm()
    amount = None
    raw = (form.amount.data or "").strip()
    if not form.validate_on_submit():
        form.amount.errors = [_("The form has expired. Please try again.")]
        return _render_shipment(shop, shipment, 400, refund_form=form)
    if raw:
        try:
            amount = parse_vnd(raw)
        except InvalidInput as exc:
            form.amount.errors = [exc.message]
            return _render_shipment(shop, shipment, 400, refund_form=form)
    try:
        row = payments.refund(shipment.order, amount, actor=actor_name(current_user), reason=form.reason.data or "",
                              reference=form.reference.data or None)
    except DomainError as exc:
        db.session.rollback()
        field = exc.details.get("field")
        if isinstance(exc, InvalidInput) and field == "reference" and shipment.order.payment_method == PaymentMethod.CARD:
            return _render_shipment(shop, shipment, 400, refund_form=form, errors=[exc.message])  # no such field shown
        if isinstance(exc, InvalidInput) and field in ("amount", "reference", "reason"):
            form[field].errors = [exc.message]
            return _render_shipment(shop, shipment, 400, refund_form=form)
        if exc.status == 502:
            response, _status = _refused(shop, shipment, exc, refund_form=form)
            return response, 502
        return _refused(shop, shipment, exc, refund_form=form)
    flash(_("Refund of %(amount)s recorded for order %(number)s (%(status)s).", amount=format_vnd(row.amount),
            number=number, status=row.status.label), "success")
    return redirect(url_for("staff.shipment", slug=shop.slug, number=number))


@bp.post("/shops/<slug>/orders/<number>/return")
def return_goods(slug: str, number: str):
    """Goods of this shop's part of the order came back (``line-<id>``: units per line)."""
    shop, shipment = _load_shipment(slug, number)
    form = ReturnForm()
    out = {line_id: sum(q for _r, q in pairs) for line_id, pairs in returns.returnable(shipment.order, shop.id).items()}
    quantities, wrong = {}, []
    for line_id, most in out.items():
        raw = (request.form.get(f"line-{line_id}") or "").strip()
        if not raw:
            continue
        units = whole_number(raw, 0, most)
        if units is None:
            wrong.append(_("A whole number of units from 0 to %(max)s.", max=most))
        elif units:
            quantities[line_id] = units
    note = " ".join((form.note.data or "").split())
    if not form.validate_on_submit():
        wrong.append(_("The form has expired. Please try again."))
    if not wrong and not quantities:
        wrong.append(_("Say how many units of which line came back."))
    if wrong:
        form.note.errors = wrong
        return _render_shipment(shop, shipment, 400, return_form=form)
    try:
        returns.return_goods(shipment.order, quantities, actor=actor_name(current_user), note=note,
                             user_id=current_user.id, shop_id=shop.id, write_off=bool(form.write_off.data))
        db.session.commit()
    except DomainError as exc:
        return _refused(shop, shipment, exc, return_form=form)
    flash(_("Returned goods recorded for order %(number)s.", number=number), "success")
    return redirect(url_for("staff.shipment", slug=shop.slug, number=number))
