"""Card payment pages and Stripe's webhook.

- ``POST /payments/stripe/webhook``: the only way a card order becomes paid. Signature first.
- ``POST /payments/card/<number>/start``: "Pay now" / "Try again": 303 to Stripe Checkout.
- ``GET /payments/card/<number>/return`` and ``/cancel``: where Stripe sends the customer back;
  they show how the payment really stands.

The checkout view calls ``card_checkout_redirect(order)`` right after committing a card order.
"""
from __future__ import annotations

from flask import (Response, current_app, flash, jsonify, make_response, redirect, render_template,
                   request, url_for)

from shop.errors import DomainError
from shop.extensions import csrf, db, limiter
from shop.headers import secret_link
from shop.orders import services as orders
from shop.orders.enums import PaymentMethod
from shop.orders.models import Order
from shop.payments import bp, gateway
from shop.payments import services as payments
from shop.payments.enums import CheckoutState

bp.add_app_template_global(CheckoutState, "CheckoutState")


def _return_url(number: str, token: str) -> str:
    # Stripe fills in {CHECKOUT_SESSION_ID}; url_for would escape the braces, so it is appended.
    url = url_for("payments.card_return", number=number, token=token, _external=True)
    return url + "&session_id={CHECKOUT_SESSION_ID}"


def card_checkout_redirect(order: Order) -> Response:
    """Send the customer to Stripe Checkout for a committed, pending card order (303).

    Call it after ``db.session.commit()``. If Stripe cannot be reached, the customer sees our
    payment page with the error and a "try again" button instead; nothing is lost, the order and
    its stock hold stand.
    """
    number, token = order.number, order.access_token
    try:
        url = payments.start_card_payment(
            order, success_url=_return_url(number, token),
            cancel_url=url_for("payments.card_cancel", number=number, token=token, _external=True))
    except payments.PaymentError as exc:
        db.session.rollback()
        return _render(orders.find_order(number, token), token, error=exc.message, status=502)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return secret_link(redirect(url_for("payments.card_return", number=number, token=token), code=303))
    return secret_link(redirect(url, code=303))


def _render(order: Order, token: str, *, came_back: bool = False, error: str | None = None,
            status: int = 200) -> Response:
    state = payments.session_state(order, request.args.get("session_id"))
    response = make_response(render_template(
        "payments/status.html", order=order, token=token, state=state, came_back=came_back, error=error,
    ), status)
    return secret_link(response)


def _order_page(order: Order, token: str | None) -> Response:
    return secret_link(redirect(url_for("orders.detail", number=order.number, token=token), code=303))


@bp.post("/card/<number>/start")
@limiter.limit("20 per minute")
def card_start(number: str):
    token = request.form.get("token")
    order = orders.find_order(number, token)  # NotFound → the friendly 404 page
    if order.payment_method != PaymentMethod.CARD:
        return _order_page(order, token)
    return card_checkout_redirect(order)


@bp.get("/card/<number>/return")
def card_return(number: str):
    token = request.args.get("token")
    order = orders.find_order(number, token)
    if order.payment_method != PaymentMethod.CARD:
        return _order_page(order, token)
    return _render(order, token)


@bp.get("/card/<number>/cancel")
def card_cancel(number: str):
    token = request.args.get("token")
    order = orders.find_order(number, token)
    if order.payment_method != PaymentMethod.CARD:
        return _order_page(order, token)
    return _render(order, token, came_back=True)


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    payload = request.get_data(cache=False)
    try:
        gateway.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except gateway.InvalidWebhook as exc:
        current_app.logger.warning("Rejected a Stripe webhook: %s", exc)
        return jsonify(error={"code": "invalid_webhook", "message": "Signature or payload rejected."}), 400
    # Signed by Stripe: answered 200 even when unusable (recorded for staff), since Stripe retries
    # anything else for days and the same bytes never become usable.
    outcome = payments.receive_event(payload)
    db.session.commit()
    current_app.logger.info("Stripe event: %s", outcome)
    return jsonify(received=True, outcome=outcome)
