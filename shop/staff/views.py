"""The staff workspace's order pages (``/staff``): the queue, a shipment, its packing slip and its
steps. Each view: load the shop (``VIEW_SHOP``: 403 without the action, 404 outside the user's
shops) and the shipment (``HANDLE_SHIPMENT``), check the form, call one service, commit.

Who did it: every service call names the signed-in user (``actor`` text for the history, and
``user_id``); ``shop.accounts.audit`` fills in the user on the rows the services write.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from shop import headers
from shop.accounts import policy
from shop.accounts.policy import Action, authorize
from shop.errors import DomainError
from shop.extensions import db
from shop.inputs import whole_number
from shop.money import format_vnd, parse_vnd
from shop.orders import services as orders
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod, PaymentStatus, ShipmentState
from shop.orders.models import Order, Shipment
from shop.shops.models import Shop
from shop.staff import bp, queries
from shop.staff.carriers import carriers, tracking_url
from shop.staff.forms import CancelForm, ConfirmForm, StepForm

bp.add_app_template_global(tracking_url, "tracking_url")
# The carrier menu's "type it yourself" choice (not a carrier name: no carrier is called "*").
OTHER_CARRIER = "*"

# The steps a shipment page offers, by the order's fulfilment, each with its button label.
STEPS = {
    FulfilmentType.DELIVERY: (ShipmentState.PACKED, ShipmentState.SHIPPED, ShipmentState.DELIVERED),
    FulfilmentType.PICKUP: (ShipmentState.PACKED, ShipmentState.READY_FOR_PICKUP, ShipmentState.COLLECTED),
}


@bp.before_request
@login_required
def _signed_in():
    return None


@bp.after_request
def _private(response):
    response.headers["X-Robots-Tag"] = headers.NO_INDEX
    return headers.no_store(response)


def actor_name(user) -> str:
    """How the history names a signed-in person: their name and e-mail."""
    return f"{user.name} <{user.email}>" if user.name else user.email


def load_shop(slug: str) -> Shop:
    """The shop ``slug`` if the signed-in user works there (403 / 404 as the policy says)."""
    policy.require(current_user, Action.VIEW_SHOP)
    shop = db.session.scalar(select(Shop).where(Shop.slug == slug[:120]))
    if shop is None:
        abort(404)
    authorize(current_user, Action.VIEW_SHOP, shop)
    return shop


def _load_shipment(slug: str, number: str) -> tuple[Shop, Shipment]:
    shop = load_shop(slug)
    shipment = db.session.scalar(select(Shipment).join(Order, Order.id == Shipment.order_id)
                                 .where(Shipment.shop_id == shop.id, Order.number == number[:20]))
    if shipment is None:
        abort(404)
    authorize(current_user, Action.HANDLE_SHIPMENT, shipment)
    return shop, shipment


def _date(raw: str | None, errors: list[str], label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        errors.append(_("%(field)s: a date like 2026-12-01.", field=label))
        return None


def _read_filter(args) -> tuple[queries.QueueFilter, list[str]]:
    """The queue's filter from the URL; a malformed part is left out with a message (never a 500)."""
    errors: list[str] = []
    flt = queries.QueueFilter(q=(args.get("q") or "").strip()[:60])
    state = args.get("state") or ""
    if state:
        try:
            flt.state = ShipmentState(state)
        except ValueError:
            errors.append(_("Unknown state; showing every open shipment."))
    method = args.get("method") or ""
    if method:
        try:
            flt.method = PaymentMethod(method)
        except ValueError:
            errors.append(_("Unknown payment method; showing every method."))
    flt.date_from = _date(args.get("from"), errors, _("From"))
    flt.date_to = _date(args.get("to"), errors, _("To"))
    return flt, errors


@bp.get("/")
def index():
    """The shops the user works in; straight to the queue when there is just one."""
    policy.require(current_user, Action.VIEW_SHOP)
    shops = db.session.scalars(policy.shops_for(current_user)).all()
    if len(shops) == 1:
        return redirect(url_for("staff.queue", slug=shops[0].slug))
    return render_template("staff/index.html", shops=shops,
                           counts={s.id: queries.state_counts(s.id) for s in shops})


@bp.get("/shops/<slug>/orders")
def queue(slug: str):
    """A shop's shipments, newest first, with filters, search and counts per state."""
    shop = load_shop(slug)
    flt, errors = _read_filter(request.args)
    return render_template("staff/queue.html", shop=shop, flt=flt, errors=errors,
                           shipments=queries.queue(shop.id, flt), counts=queries.state_counts(shop.id),
                           limit=queries.QUEUE_LIMIT, methods=list(PaymentMethod), states=list(ShipmentState))


def _step_form() -> StepForm:
    form = StepForm()
    form.carrier.choices = [("", "—")] + [(name, name) for name, _pattern in carriers().values()] + \
        [(OTHER_CARRIER, _("Other (type it)"))]
    return form


def _amount_due(order: Order) -> int:
    """Cash still to take at hand-over: the total, unless the order is paid already."""
    return order.total if order.payment_status == PaymentStatus.UNPAID else 0


def _render_shipment(shop: Shop, shipment: Shipment, status: int = 200, *, confirm=None, cancel=None, step=None,
                     paid_form=None, refund_form=None, return_form=None, errors: list[str] | None = None):
    from shop.staff.forms import RefundForm, ReturnForm, TransferPaidForm
    from shop.staff.refunds import refund_context
    from shop.staff.statements import may_confirm_transfer

    order = shipment.order
    steps = [s for s in STEPS[order.fulfilment] if s in orders.SHIPMENT_TRANSITIONS[shipment.state]]
    return render_template(
        "staff/shipment.html", shop=shop, shipment=shipment, order=order, lines=queries.slip_lines(shipment),
        confirm_form=confirm or ConfirmForm(), cancel_form=cancel or CancelForm(), step_form=step or _step_form(),
        steps=steps, errors=errors or [], amount_due=_amount_due(order),
        paid_form=paid_form or TransferPaidForm(), may_confirm_transfer=may_confirm_transfer(shop, order),
        refund_form=refund_form or RefundForm(), return_form=return_form or ReturnForm(),
        **refund_context(shop, order),
        may_confirm=order.payment_method.paid_at_hand_over and order.status == OrderStatus.PLACED,
        may_cancel=order.payment_method.paid_at_hand_over and ShipmentState.CANCELLED in
        orders.SHIPMENT_TRANSITIONS[shipment.state],
        warnings=orders.staff_warnings(order)), status


@bp.get("/shops/<slug>/orders/<number>")
def shipment(slug: str, number: str):
    shop, shipment = _load_shipment(slug, number)
    return _render_shipment(shop, shipment)


@bp.get("/shops/<slug>/orders/<number>/slip")
def slip(slug: str, number: str):
    """The packing slip, for A4 (default) or 80 mm receipt paper (``?paper=80``)."""
    shop, shipment = _load_shipment(slug, number)
    paper = "80" if request.args.get("paper") == "80" else "a4"
    return render_template("staff/slip.html", shop=shop, shipment=shipment, order=shipment.order,
                           lines=queries.slip_lines(shipment), paper=paper)


def _done(shop: Shop, shipment: Shipment, message: str):
    db.session.commit()
    flash(message, "success")
    for warning in orders.staff_warnings(shipment.order):
        flash(warning, "warning")
    return redirect(url_for("staff.shipment", slug=shop.slug, number=shipment.order.number))


def _refused(shop: Shop, shipment: Shipment, exc: DomainError, **forms):
    db.session.rollback()
    shipment = db.session.get(Shipment, shipment.id)
    return _render_shipment(shop, shipment, 409 if exc.status in (403, 409) else 400, errors=[exc.message], **forms)


@bp.post("/shops/<slug>/orders/<number>/confirm")
def confirm(slug: str, number: str):
    """Confirm a cash-on-delivery / pay-at-shop order after calling the buyer (``confirm_order``)."""
    shop, shipment = _load_shipment(slug, number)
    form = ConfirmForm()
    if not form.validate_on_submit() or not form.called.data:
        form.called.errors = [_("Tick the box once the buyer has confirmed on the phone.")]
        return _render_shipment(shop, shipment, 400, confirm=form)
    try:
        orders.confirm_order(shipment.order, actor=actor_name(current_user), user_id=current_user.id,
                             note="confirmed with the customer by phone")
    except DomainError as exc:
        return _refused(shop, shipment, exc, confirm=form)
    return _done(shop, shipment, _("Order %(number)s confirmed.", number=number))


@bp.post("/shops/<slug>/orders/<number>/cancel")
def cancel(slug: str, number: str):
    """Cancel this shop's shipment of a cash order with a reason (the order follows when it was
    the only one): ``move_shipment(…, cancelled, note=reason)``."""
    shop, shipment = _load_shipment(slug, number)
    form = CancelForm()
    reason = " ".join((form.reason.data or "").split())
    if not form.validate_on_submit() or not reason:
        form.reason.errors = [_("Say why the order is cancelled.")]
        return _render_shipment(shop, shipment, 400, cancel=form)
    if len(reason) > 500:
        form.reason.errors = [_("At most %(max)s characters.", max=500)]
        return _render_shipment(shop, shipment, 400, cancel=form)
    try:
        orders.move_shipment(shipment, ShipmentState.CANCELLED, actor=actor_name(current_user), note=reason,
                             user_id=current_user.id)
    except DomainError as exc:
        return _refused(shop, shipment, exc, cancel=form)
    return _done(shop, shipment, _("Shipment of order %(number)s cancelled.", number=number))


@bp.post("/shops/<slug>/orders/<number>/step")
def step(slug: str, number: str):
    """Pack, ship (carrier and tracking number), deliver, ready for pick-up, collect (cash taken)."""
    shop, shipment = _load_shipment(slug, number)
    form = _step_form()
    order = shipment.order
    try:
        to = ShipmentState(form.to.data or "")
    except ValueError:
        to = None
    if not form.validate_on_submit() or to not in STEPS[order.fulfilment]:
        return _render_shipment(shop, shipment, 400, step=form, errors=[_("Choose a step for this shipment.")])
    carrier, tracking, note = "", "", " ".join((form.note.data or "").split())[:500]
    bad = False
    if to == ShipmentState.SHIPPED:
        carrier = (form.carrier_other.data if form.carrier.data == OTHER_CARRIER else form.carrier.data) or ""
        carrier = " ".join(carrier.split())
        tracking = " ".join((form.tracking_number.data or "").split())
        if not carrier:
            form.carrier.errors = [_("Choose the carrier.")]
            bad = True
        if not tracking:
            form.tracking_number.errors = [_("Type the carrier's tracking number.")]
            bad = True
    if to == ShipmentState.COLLECTED and _amount_due(order):
        try:
            cash = parse_vnd(form.cash.data, field="cash")  # vocabulary: the form field; "250000", "250.000", "250.000 ₫"
        except DomainError as exc:
            cash = None
            form.cash.errors = [exc.message]
            bad = True
        if cash is None:
            pass
        elif cash < _amount_due(order):
            form.cash.errors = [_("Less than the %(due)s due.", due=format_vnd(_amount_due(order)))]
            bad = True
        else:
            change = cash - _amount_due(order)
            note = "; ".join(p for p in (f"cash received {format_vnd(cash)}, change {format_vnd(change)}", note) if p)
    if bad:
        return _render_shipment(shop, shipment, 400, step=form)
    try:
        orders.move_shipment(shipment, to, actor=actor_name(current_user), note=note, carrier=carrier,
                             tracking_number=tracking, user_id=current_user.id)
    except DomainError as exc:
        return _refused(shop, shipment, exc, step=form)
    return _done(shop, shipment, _("Order %(number)s: %(state)s.", number=number, state=to.label))
