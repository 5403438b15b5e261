"""Checkout and the customer's private order page.

Checkout reads the form, calls ``place_order`` once, commits, then (and only then) sends the
confirmation email. Totals, shops, payment methods and stock are the service's business: nothing
the browser sends about prices is read.
"""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shop.cart import services as carts
from shop.cart.views import clear_cart_cookie, current_cart_token
from shop.errors import CustomerLimit, DomainError, OutOfStock
from shop.extensions import db, place_order_limit
from shop.forms import apply_errors
from shop.headers import secret_link
from shop.forms import field_errors as form_field_errors
from shop.orders import bp
from shop.orders import services as orders
from shop.orders.models import Order
from shop.orders.forms import CheckoutForm, choice
from shop.payments import services as payments
from shop.payments import views as card_payments
from shop.payments.transfer import transfer_instructions
from shop.orders.enums import (FulfilmentStatus, FulfilmentType, OrderState, OrderStatus, PaymentMethod,
                               PaymentStatus, ShipmentState)
from shop.orders.notifications import event_note_label, expired_message, send_order_confirmation

# Templates compare with the enums and show their labels (``OrderStatus.label_of(code)``); the
# sentences are shared with the confirmation email.
for _global in (OrderStatus, PaymentMethod, FulfilmentType, ShipmentState, PaymentStatus, FulfilmentStatus,
                OrderState, event_note_label, expired_message):
    bp.add_app_template_global(_global, _global.__name__)

FIELD_ORDER = ("name", "phone", "email", "fulfilment", "street", "ward", "province",  # vocabulary: form field names
               "pickup_shop_id", "payment_method")


def _all_payment_methods() -> list[str]:
    """Every method offered for some fulfilment, in a stable order (card only when enabled)."""
    methods: list[str] = []
    for fulfilment in FulfilmentType:
        for method in orders.payment_methods(fulfilment):
            if method not in methods:
                methods.append(method)
    return methods


def _checkout_context(form: CheckoutForm, cart_view):
    needs = {line.product.id: line.quantity for line in cart_view.lines}
    pickup_shops = orders.pickup_shops_for(needs)
    form.pickup_shop_id.choices = [choice("", _("Choose a shop"))] + [choice(str(s.id), s.name) for s in pickup_shops]
    methods = _all_payment_methods()
    form.payment_method.choices = [choice(m, m.label) for m in methods]
    methods_for = {f: orders.payment_methods(f) for f in FulfilmentType}
    subtotal = cart_view.subtotal
    delivery_fee = orders.shipping_fee(FulfilmentType.DELIVERY, subtotal)
    return {
        "form": form,
        "cart_view": cart_view,
        "pickup_shops": pickup_shops,
        "payment_methods": methods,
        "method_fulfilments": {m: [f for f, allowed in methods_for.items() if m in allowed] for m in methods},
        "subtotal": subtotal,
        "delivery_fee": delivery_fee,
        "delivery_total": subtotal + delivery_fee,
        "pickup_total": subtotal + orders.shipping_fee(FulfilmentType.PICKUP, subtotal),
        "free_shipping_threshold": current_app.config["FREE_SHIPPING_THRESHOLD"],
    }


def _signed_in_user_id() -> int | None:
    from shop.accounts.views import header_user

    user = header_user()
    return user.id if user is not None else None


def _prefill_from_account(form: CheckoutForm) -> None:
    """A signed-in customer finds their name, e-mail and latest saved address filled in."""
    from shop.accounts.views import header_user

    user = header_user()
    if user is None:
        return
    form.name.data = form.name.data or user.name
    form.email.data = form.email.data or user.email
    if user.addresses:
        address = user.addresses[-1]
        form.phone.data = form.phone.data or address.phone
        form.street.data = form.street.data or address.street
        form.ward.data = form.ward.data or address.ward
        form.province.data = form.province.data or address.province


def _show_placed_order(order):
    """The cart was already turned into ``order`` (a resubmitted checkout, a retry after a lost
    answer): show that order rather than an empty cart, and forget the used cart."""
    flash(_("Your cart has already become order %(number)s. Here it is.", number=order.number), "info")
    return clear_cart_cookie(redirect(url_for("orders.detail", number=order.number, token=order.access_token)))


@bp.route("/checkout", methods=["GET", "POST"])
@place_order_limit()  # placing orders holds stock: one budget with the API's POST /orders
def checkout():
    token = current_cart_token()
    cart = carts.find_cart(token)
    if cart is not None and cart.order is not None:
        return _show_placed_order(cart.order)
    cart_view = carts.view(cart)
    if not cart_view.lines:
        flash(_("Your cart is empty."), "error")
        return redirect(url_for("cart.index"))
    if request.method == "GET" and not cart_view.ok:
        flash(_("Please review the warnings in your cart before checking out."), "error")
        return redirect(url_for("cart.index"))

    form = CheckoutForm()
    form_error = None
    status = 200
    if request.method == "POST":
        customer = orders.Customer(name=form.clipped("name"), phone=form.clipped("phone"),
                                   email=form.clipped("email"))
        fulfilment = orders.Fulfilment(type=form.clipped("fulfilment"), pickup_shop_id=form.clipped("pickup_shop_id"),
                                       street=form.clipped("street"), ward=form.clipped("ward"),  # vocabulary: form field names
                                       province=form.clipped("province"))  # vocabulary: form field names
        try:
            order = orders.place_order(token, customer, fulfilment, form.clipped("payment_method"),
                                       user_id=_signed_in_user_id())
            number, access_token = order.number, order.access_token
            send_order_confirmation(order)  # into the outbox: committed with the order, or not at all
            db.session.commit()
        except carts.CartOrdered as exc:  # a second submission waited for the first one's lock
            db.session.rollback()
            return _show_placed_order(db.session.get(Order, exc.details["order_id"]))
        except DomainError as exc:
            db.session.rollback()
            status = 409 if isinstance(exc, (OutOfStock, CustomerLimit)) else 400
            general = apply_errors(form, exc, FIELD_ORDER)[1]
            form_error = " ".join(general) or None
            # The rollback expired what we had read; show the cart as it is now.
            cart_view = carts.view(carts.find_cart(token))
            if not cart_view.lines:
                flash(exc.message, "error")
                return redirect(url_for("cart.index"))
        else:
            flash(_("Thank you — your order has been placed. We have emailed you a confirmation "
                    "with a link to this page."), "success")
            if order.payment_method == PaymentMethod.CARD:  # on to Stripe Checkout
                return clear_cart_cookie(card_payments.card_checkout_redirect(order))
            response = redirect(url_for("orders.detail", number=number, token=access_token))
            return clear_cart_cookie(response)
    else:
        _prefill_from_account(form)
    if request.method == "GET" and not form.payment_method.data:
        form.payment_method.data = (orders.payment_methods(form.fulfilment.data or FulfilmentType.DELIVERY) or ("",))[0]

    context = _checkout_context(form, cart_view)
    field_errors = form_field_errors(form, FIELD_ORDER)
    return render_template("orders/checkout.html", form_error=form_error, field_errors=field_errors,
                           **context), status


@bp.get("/<number>")
def detail(number: str):
    token = request.args.get("token")
    order = orders.find_order(number, token)  # NotFound → the friendly 404 page
    shown_status = order.shown_status()  # expired the moment its hold runs out, no job needed
    transfer = transfer_instructions(order)
    response = make_response(render_template(
        "orders/detail.html", order=order, token=token, shown_status=shown_status,
        bank=transfer if transfer is not None and transfer.awaiting else None,
        cancellable=order.status in orders.CUSTOMER_CANCELLABLE, refunded=order.amount_refunded,
    ))
    return secret_link(response)


@bp.post("/<number>/cancel")
def cancel(number: str):
    token = request.form.get("token")
    order = orders.find_order(number, token)
    try:
        order = orders.cancel_by_customer(order)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Your order has been cancelled."), "success")
        if order.payment_method == PaymentMethod.CARD:
            payments.close_open_sessions(order)  # after the commit: no external call inside the transaction
        if order.payment_method == PaymentMethod.BANK_TRANSFER:
            flash(_("If you have already made the transfer, please contact us and we will refund it."), "info")
    return secret_link(redirect(url_for("orders.detail", number=number, token=token)))
