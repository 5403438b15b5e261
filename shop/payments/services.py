"""Card payments through Stripe Checkout: starting a payment, webhook events, the truth, refunds.

The rules:
- An order is marked paid only by a verified webhook (``handle_event``); the return page may ask
  Stripe how things stand but never writes (``session_state``).
- A card order's stock hold and its Checkout Session expire at the same instant. Stripe wants a
  session to live at least 30 minutes, so creating one tops the hold up to match when needed.
- One open session per order at a time: a second click, the back button or "retry" reuse it. Each
  attempt has its own idempotency key, stored before Stripe is called, so a retried HTTP call
  returns the same session instead of creating another.
- Money that does not fit (wrong amount or currency, paid after the order was cancelled, paid
  twice, paid when the stock was gone) never changes the order silently: the payment is flagged
  for staff (``Payment.needs_review``) and the order's history says so.
- No Stripe call happens inside a transaction that holds locks: ``start_card_payment`` and
  ``refund`` commit before calling Stripe and record the answer in a second short transaction.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from shop.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed, OutOfStock
from shop.extensions import db
from shop.money import MAX_VND, format_vnd
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, PaymentMethod
from shop.orders.models import Order, OrderLine
from shop.payments import gateway
from shop.payments.enums import (CheckoutState, PaymentProvider, PaymentRecordStatus, RefundStatus,
                                 StripePaymentStatus, StripeSessionStatus)
from shop.payments.models import Payment, Refund, WebhookEvent
from shop.timeutil import utcnow

PROVIDER = PaymentProvider.STRIPE
CURRENCY = "vnd"  # zero-decimal for Stripe: amounts are whole đồng, exactly as stored
ACTOR = "stripe"  # vocabulary: the actor named in order histories, not a coded value
# Stripe accepts Checkout Session expiries from 30 minutes to 24 hours after creation. The margin
# covers the time the request takes and clock differences.
MIN_SESSION_LIFETIME = timedelta(minutes=30)
EXPIRY_MARGIN = timedelta(minutes=1)
MAX_SESSION_LIFETIME = timedelta(hours=24) - EXPIRY_MARGIN
# Order statuses that mean the money arrived.
PAID_ORDER_STATUSES = {OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
                       OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED}
# Stripe refund statuses after which the money is not (or no longer) on its way back.
REFUND_NOT_MADE = frozenset(s for s in RefundStatus if not s.money_out)
# The payment life cycle; anything else is refused with InvalidTransition. A payment given up on
# (failed, expired) can still turn out to have been paid: money is never ignored.
_S = PaymentRecordStatus
PAYMENT_TRANSITIONS: dict[PaymentRecordStatus, set[PaymentRecordStatus]] = {
    _S.PENDING: {_S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.EXPIRED, _S.MISMATCH},
    _S.PROCESSING: {_S.SUCCEEDED, _S.FAILED, _S.MISMATCH},
    _S.FAILED: {_S.SUCCEEDED, _S.MISMATCH},
    _S.EXPIRED: {_S.SUCCEEDED, _S.MISMATCH},
    _S.SUCCEEDED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
    _S.MISMATCH: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
    _S.PARTIALLY_REFUNDED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
    _S.REFUNDED: set(),
}
# Payment statuses that mean the money arrived (some of it may have gone back since).
MONEY_IN = {_S.SUCCEEDED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}
# Control characters (line breaks included) never belong in a refund's note.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class PaymentError(DomainError):
    """The payment provider could not do what was asked; the message is for the customer or staff."""

    code = "payment_error"
    status = 502


@dataclass
class PaymentState:
    """What the return page tells the customer: a ``CheckoutState`` (see its docstring)."""

    state: CheckoutState
    payment: Payment | None = None
    can_retry: bool = False


# ---- helpers --------------------------------------------------------------------------------


def _payments(order: Order) -> list[Payment]:
    return list(db.session.scalars(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
        .options(selectinload(Payment.refunds))
        .execution_options(populate_existing=True)
    ))


def _money_taken(session: dict[str, Any]) -> bool:
    """Whether a (cleaned) Checkout Session says the money was taken."""
    try:
        return StripePaymentStatus(session.get("payment_status")).money_taken
    except ValueError:
        return False


def _stripe_refund_status(value: Any) -> RefundStatus:
    """Stripe's status of a refund it answered with; one the shop does not know reads as pending
    (the money is not confirmed back yet; ``charge.refunded`` books it when it is)."""
    try:
        status = RefundStatus(value)
    except ValueError:
        return RefundStatus.PENDING
    return RefundStatus.PENDING if status == RefundStatus.REQUESTED else status


def move(payment: Payment, to_status: str) -> None:
    """Change a payment's status if its life cycle (``PAYMENT_TRANSITIONS``) allows it."""
    if to_status not in PAYMENT_TRANSITIONS.get(payment.status, set()):
        raise InvalidTransition(f"A payment that is {payment.status} cannot become {to_status}.")
    payment.status = to_status


def _note(order: Order, note: str, actor: str = ACTOR) -> None:
    orders.add_note(order, note, actor)


def _hold_active(order: Order, now: datetime, grace: timedelta = timedelta(0)) -> bool:
    """Whether the held stock still counts for this order (so extending it cannot oversell)."""
    return order.hold_expires_at is not None and order.hold_expires_at > now + grace


def _is_open(payment: Payment, now: datetime) -> bool:
    return (payment.status == PaymentRecordStatus.PENDING and payment.checkout_url is not None
            and payment.expires_at is not None and payment.expires_at > now)


def _flag(payment: Payment, order: Order, reason: str) -> str:
    payment.needs_review = True
    payment.review_reason = "; ".join(r for r in (payment.review_reason, reason) if r)
    _note(order, f"payment flagged for staff: {reason}")
    current_app.logger.warning("Payment %s of order %s flagged for staff: %s", payment.id, order.number, reason)
    return f"flagged: {reason}"


# ---- starting a payment ---------------------------------------------------------------------


def _check_payable(order: Order, payments: list[Payment]) -> None:
    if not orders.card_enabled():
        raise NotAllowed(_("Card payments are not available at the moment."))
    if order.payment_method != PaymentMethod.CARD:
        raise NotAllowed(_("This order is not paid by card."))
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(_("This order is no longer waiting for payment."))
    if any(p.status == PaymentRecordStatus.PROCESSING for p in payments):
        raise NotAllowed(_("Your payment is being processed by your bank. We will email you when it is confirmed."))
    if any(p.amount_received is not None or p.needs_review for p in payments):
        raise NotAllowed(_("We have received a payment for this order and are checking it. "
                           "We will contact you shortly."))


def _session_expiry(order: Order, now: datetime) -> datetime:
    """When a new session (and so the hold) ends: the hold's end, within what Stripe accepts."""
    earliest = now + MIN_SESSION_LIFETIME + EXPIRY_MARGIN
    latest = now + MAX_SESSION_LIFETIME
    return min(max(order.hold_expires_at, earliest), latest).replace(microsecond=0)


def _new_attempt(order: Order, payments: list[Payment], now: datetime) -> Payment:
    attempt = max((p.attempt for p in payments), default=0) + 1
    expires_at = _session_expiry(order, now)
    payment = Payment(
        order_id=order.id, provider=PROVIDER, attempt=attempt, amount=order.total, currency=CURRENCY,
        status=PaymentRecordStatus.PENDING, expires_at=expires_at,
        # The random tail keeps keys unique across databases that share one Stripe account
        # (order numbers restart in every environment); the key is stored, so retries reuse it.
        idempotency_key=f"ocop-checkout-{order.number}-{attempt}-{secrets.token_hex(4)}",
    )
    db.session.add(payment)
    orders.set_hold_deadline(order, expires_at)
    db.session.flush()
    return payment


def _line_name(line: OrderLine, lang: str) -> str:
    """The line as Stripe shows it, in the order's language (English names when translated)."""
    english = lang == "en"
    name = (line.product_name_en if english else "") or line.product_name
    unit = (line.unit_en if english else "") or line.unit
    return f"{name} ({unit})" if unit else name


def session_params(order: Order, payment: Payment, success_url: str, cancel_url: str) -> dict[str, Any]:
    """The Checkout Session for one attempt. Deterministic: a retry must send exactly the same."""
    line_items = [
        {"quantity": line.quantity,
         "price_data": {"currency": CURRENCY, "unit_amount": line.unit_price,
                        "product_data": {"name": _line_name(line, order.lang)}}}
        for line in order.lines
    ]
    if order.shipping_fee > 0:
        line_items.append({"quantity": 1,
                           "price_data": {"currency": CURRENCY, "unit_amount": order.shipping_fee,
                                          "product_data": {"name": "Phí vận chuyển (Shipping)"}}})
    charged = sum(item["quantity"] * item["price_data"]["unit_amount"] for item in line_items)
    if charged != order.total or payment.amount != order.total:
        raise PaymentError(_("This order cannot be paid by card. Please contact us."))
    metadata = {"order_number": order.number, "order_id": str(order.id), "payment_id": str(payment.id)}
    return {
        "mode": "payment",
        "currency": CURRENCY,
        "line_items": line_items,
        "customer_email": order.email,
        "locale": order.lang if order.lang in ("vi", "en") else "auto",  # Checkout's own language
        "client_reference_id": order.number,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": f"OCOP order {order.number}"},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(payment.expires_at.timestamp()),
    }


def start_card_payment(order: Order, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout URL to send the customer to for a pending card order. Commits.

    Reuses the order's open session (double click, back button, "retry payment"); otherwise starts
    a new attempt: the attempt and its idempotency key are committed first, then Stripe is asked,
    then the session is recorded. If Stripe fails, the next call retries the same attempt with the
    same key, so at most one session exists per attempt. The stock hold is moved to the session's
    expiry. ``success_url`` may contain Stripe's ``{CHECKOUT_SESSION_ID}`` placeholder.

    Raises ``NotAllowed`` / ``InvalidTransition`` (not a payable card order, payment under way,
    time ran out) and ``PaymentError`` (Stripe did not answer or refused).
    """
    order = orders.lock_order(order.id)
    payments = _payments(order)
    _check_payable(order, payments)
    now = utcnow()
    current = next((p for p in reversed(payments) if p.status == PaymentRecordStatus.PENDING), None)
    if current is not None and _is_open(current, now):
        db.session.commit()
        return current.checkout_url
    if current is not None and current.checkout_url is None and current.expires_at < now + MIN_SESSION_LIFETIME:
        # An attempt whose session was never recorded and can no longer be created as it was asked
        # (Stripe would refuse the expiry). Any session it made was never shown to anyone.
        move(current, PaymentRecordStatus.FAILED)
        current.review_reason = "abandoned: the Checkout Session was not recorded in time"
        current = None
    if current is None or current.checkout_url is not None:
        if not _hold_active(order, now, grace=EXPIRY_MARGIN):
            db.session.commit()
            raise NotAllowed(_("The time to pay for this order has run out and its products have been "
                               "released. Please place the order again."))
        current = _new_attempt(order, payments, now)
    params = session_params(order, current, success_url, cancel_url)
    payment_id, key = current.id, current.idempotency_key
    db.session.commit()

    try:
        session = gateway.create_checkout_session(params, idempotency_key=key)
    except gateway.ProviderError as exc:
        current_app.logger.error("Could not create a Checkout Session for %s: %s", params["client_reference_id"],
                                 exc.message)
        raise PaymentError(_("We could not open the card payment page. Please try again in a moment.")) from exc

    order = orders.lock_order(order.id)
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if payment.provider_reference not in (None, session["id"]):
        db.session.rollback()
        raise PaymentError(_("We could not open the card payment page. Please try again in a moment."))
    payment.provider_reference = session["id"]
    payment.checkout_url = payment.checkout_url or session.get("url")
    status = payment.status
    db.session.commit()
    if status != PaymentRecordStatus.PENDING or not payment.checkout_url:
        raise NotAllowed(_("This payment attempt has ended. Please check your order."))
    return payment.checkout_url


def payment_in_progress(order: Order) -> bool:
    """True while a delayed card payment is being processed by the bank (money may still come)."""
    return any(p.status == PaymentRecordStatus.PROCESSING for p in _payments(order))


@orders.cancel_requested.connect
def _refuse_cancel_while_the_bank_processes(order: Order) -> None:
    """Card money may still arrive while the bank processes it: cancelling then would leave a
    refund to chase by hand, so the customer's cancel is refused (``orders.cancel_by_customer``)."""
    if order.payment_method == PaymentMethod.CARD and payment_in_progress(order):
        raise NotAllowed(_("Your bank is still processing the card payment. Please wait for the result "
                           "or contact us to cancel."))


def close_open_sessions(order: Order) -> None:
    """Expire the order's open Checkout Session at Stripe, so a cancelled order cannot be paid.

    Call it after committing a cancellation (customer or staff). Best effort and read-only here:
    the ``checkout.session.expired`` webhook records the outcome, and a payment that still slips
    through is flagged for staff by ``handle_event``.
    """
    if not orders.card_enabled():
        return
    for payment in _payments(order):
        if payment.status == PaymentRecordStatus.PENDING and payment.provider_reference:
            try:
                gateway.expire_checkout_session(payment.provider_reference)
            except gateway.ProviderError as exc:
                current_app.logger.warning("Could not expire Checkout Session %s of %s: %s",
                                           payment.provider_reference, order.number, exc.message)


# ---- webhook events -------------------------------------------------------------------------


def _find_payment(session: dict[str, Any]) -> Payment | None:
    """Our payment for a Checkout Session: by session id, else by the metadata we put on it.

    The metadata route covers a session that Stripe created but we never recorded (the answer was
    lost); it is accepted only for the order it names and only if no other session was recorded.
    """
    session_id = session.get("id")
    if session_id:
        payment = db.session.scalars(select(Payment).where(Payment.provider_reference == session_id)).first()
        if payment is not None:
            return payment
    metadata = session.get("metadata") or {}
    payment_id = str(metadata.get("payment_id") or "")
    if payment_id.isascii() and payment_id.isdigit() and len(payment_id) < 10:
        payment = db.session.get(Payment, int(payment_id))
        if (payment is not None and payment.provider_reference is None and payment.order is not None
                and payment.order.number == metadata.get("order_number")):
            return payment
    return None


def _begin(session: dict[str, Any]) -> tuple[Payment, Order] | None:
    """Find the payment for a session and lock its order; record the session id and PaymentIntent."""
    payment = _find_payment(session)
    if payment is None:
        return None
    order = orders.lock_order(payment.order_id)
    db.session.refresh(payment)
    if payment.provider_reference is None and session.get("id"):
        payment.provider_reference = session["id"]
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if intent and not payment.payment_intent:
        payment.payment_intent = intent
    return payment, order


def _amount_matches(payment: Payment, order: Order, session: dict[str, Any]) -> bool:
    currency = str(session.get("currency") or "").lower()
    return (currency == CURRENCY == payment.currency
            and session.get("amount_total") == order.total == payment.amount)


def _mismatch(payment: Payment, order: Order, session: dict[str, Any]) -> str:
    move(payment, PaymentRecordStatus.MISMATCH)
    if session.get("payment_status") == StripePaymentStatus.PAID and isinstance(session.get("amount_total"), int):
        payment.amount_received = session["amount_total"]
    return _flag(payment, order, (
        f"Stripe reports {session.get('amount_total')} {str(session.get('currency') or '?').upper()} "
        f"but the order total is {order.total} VND; not marked paid"))


def _other_attempt_alive(order: Order, payment: Payment) -> bool:
    now = utcnow()
    return any(p.id != payment.id and (p.status == PaymentRecordStatus.PROCESSING or _is_open(p, now)) for p in _payments(order))


def _money_received(payment: Payment, order: Order, session: dict[str, Any]) -> str:
    """Stripe has the money for this session: mark the order paid, or flag what does not fit."""
    if payment.amount_received is not None or payment.status == PaymentRecordStatus.MISMATCH:
        return f"ignored: payment already {payment.status}"
    if not _amount_matches(payment, order, session):
        return _mismatch(payment, order, session)
    move(payment, PaymentRecordStatus.SUCCEEDED)
    payment.amount_received = session["amount_total"]
    if order.status == OrderStatus.PENDING_PAYMENT:
        try:
            with db.session.begin_nested():
                orders.transition(order, OrderStatus.PAID, actor=ACTOR, note="card payment received")
        except OutOfStock:
            # The hold had lapsed and the units were sold to someone else meanwhile.
            return _flag(payment, order, "paid, but the held stock is no longer available: restock or refund")
        return OrderStatus.PAID
    orders.money_received(order, actor=ACTOR)
    if order.status == OrderStatus.CANCELLED:
        return _flag(payment, order, "money received for a cancelled order: refund it")
    return _flag(payment, order, "a second payment for an order that was already paid: refund it")


def _on_session_completed(session: dict[str, Any]) -> str:
    found = _begin(session)
    if found is None:
        return "ignored: unknown session"
    payment, order = found
    if _money_taken(session):
        return _money_received(payment, order, session)
    # Unpaid: a delayed payment method; async_payment_succeeded or _failed follows.
    if payment.status != PaymentRecordStatus.PENDING:
        return f"ignored: payment already {payment.status}"
    if not _amount_matches(payment, order, session):
        return _mismatch(payment, order, session)
    move(payment, PaymentRecordStatus.PROCESSING)
    now = utcnow()
    if order.status == OrderStatus.PENDING_PAYMENT and _hold_active(order, now):
        # The customer has done their part; keep the goods while the bank does its part.
        minutes = current_app.config.get("CARD_ASYNC_HOLD_MINUTES", 3 * 24 * 60)
        orders.set_hold_deadline(order, now + timedelta(minutes=minutes))
    _note(order, "card payment is being processed by the bank")
    return PaymentRecordStatus.PROCESSING


def _on_async_payment_succeeded(session: dict[str, Any]) -> str:
    found = _begin(session)
    if found is None:
        return "ignored: unknown session"
    return _money_received(*found, session)


def _on_async_payment_failed(session: dict[str, Any]) -> str:
    """A delayed payment failed: the attempt is over, and so is the order (its stock is released).

    The customer is not asked to pay again on the same order, because the hold it had was made for
    this payment; placing a new order re-checks stock and prices.
    """
    found = _begin(session)
    if found is None:
        return "ignored: unknown session"
    payment, order = found
    if payment.status not in (PaymentRecordStatus.PENDING, PaymentRecordStatus.PROCESSING):
        return f"ignored: payment already {payment.status}"
    move(payment, PaymentRecordStatus.FAILED)
    if order.status == OrderStatus.PENDING_PAYMENT and not _other_attempt_alive(order, payment):
        orders.transition(order, OrderStatus.CANCELLED, actor=ACTOR, note="card payment failed; stock released")
        return "failed: order cancelled"
    return PaymentRecordStatus.FAILED


def _on_session_expired(session: dict[str, Any]) -> str:
    found = _begin(session)
    if found is None:
        return "ignored: unknown session"
    payment, order = found
    if payment.status != PaymentRecordStatus.PENDING:
        return f"ignored: payment already {payment.status}"
    move(payment, PaymentRecordStatus.EXPIRED)
    if order.status == OrderStatus.PENDING_PAYMENT and not _other_attempt_alive(order, payment):
        # Same note as the release-expired job: it is the same event seen from Stripe's side.
        orders.transition(order, OrderStatus.CANCELLED, actor=ACTOR, note="payment not received in time; stock released")
        return "expired: order cancelled"
    return PaymentRecordStatus.EXPIRED


def _on_charge_refunded(charge: dict[str, Any]) -> str:
    """Stripe's running total of refunds for a charge: record what the shop has not seen yet.

    Refunds made with ``refund()`` are usually recorded already; ones made in the Stripe Dashboard
    are recorded here. The total only ever grows, so a late or repeated event changes nothing.
    """
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    payment = db.session.scalars(select(Payment).where(Payment.payment_intent == intent)).first() if intent else None
    if payment is None:
        return "ignored: unknown payment"
    order = orders.lock_order(payment.order_id)
    db.session.refresh(payment)
    total = charge.get("amount_refunded")
    if not isinstance(total, int) or total <= payment.amount_refunded:
        return "ignored: already recorded"
    new = total - payment.amount_refunded
    # A refund we asked for whose answer has not been recorded yet: this is it.
    for pending in payment.refunds:
        if pending.status == RefundStatus.REQUESTED and pending.amount <= new:
            pending.status = RefundStatus.SUCCEEDED
            new -= pending.amount
            _apply_refund(payment, order, pending.amount, actor=pending.actor)
    if new:
        payment.refunds.append(Refund(amount=new, status=RefundStatus.SUCCEEDED, actor=ACTOR, reason="refunded in Stripe"))
        _apply_refund(payment, order, new, actor=ACTOR)
    return "refund recorded"


HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": _on_async_payment_failed,
    "checkout.session.expired": _on_session_expired,
    "charge.refunded": _on_charge_refunded,
}


# Outcome of a signed event the shop cannot use; such events are answered 200 (Stripe would retry
# any other answer for days, and the same bytes will never become usable), logged as errors, and
# listed for staff by ``unusable_events`` / ``flask payments-review``.
UNUSABLE = "unusable: "
# Stripe object ids (evt_…, cs_…, pi_…, ch_…): letters, digits and underscores.
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,100}")
# Short enumerated strings Stripe sends (status, payment_status, currency).
_WORD = re.compile(r"[a-z_]{1,40}")
# Metadata we put on sessions: order numbers and ASCII-digit ids.
_METADATA_VALUE = re.compile(r"[A-Za-z0-9-]{1,40}")


class UnusableEvent(Exception):
    """A correctly signed event whose content the shop cannot use (wrong types or shapes)."""


def _id_field(obj: dict[str, Any], key: str) -> str | None:
    """An optional Stripe id, or an expanded object's id; ``UnusableEvent`` for anything else."""
    value = obj.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not isinstance(value, str) or not _STRIPE_ID.fullmatch(value):
        raise UnusableEvent(f"{key} is not a Stripe id")
    return value


def _word_field(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _WORD.fullmatch(value.lower()):
        raise UnusableEvent(f"{key} is not a short word")
    return value


def _amount_field(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VND:
        raise UnusableEvent(f"{key} is not an amount in đồng")
    return value


def _clean_session(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Checkout Session the handlers read, checked; nothing else is passed on."""
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise UnusableEvent("metadata is not an object")
    clean_metadata = {}
    for key in ("payment_id", "order_number", "order_id"):
        value = metadata.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not _METADATA_VALUE.fullmatch(value):
            raise UnusableEvent(f"metadata.{key} is not one of ours")
        clean_metadata[key] = value
    return {
        "id": _id_field(obj, "id"),
        "payment_intent": _id_field(obj, "payment_intent"),
        "status": _word_field(obj, "status"),
        "payment_status": _word_field(obj, "payment_status"),
        "currency": _word_field(obj, "currency"),
        "amount_total": _amount_field(obj, "amount_total"),
        "metadata": clean_metadata,
    }


def _clean_charge(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": _id_field(obj, "id"), "payment_intent": _id_field(obj, "payment_intent"),
            "amount_refunded": _amount_field(obj, "amount_refunded")}


CLEANERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "checkout.session.completed": _clean_session,
    "checkout.session.async_payment_succeeded": _clean_session,
    "checkout.session.async_payment_failed": _clean_session,
    "checkout.session.expired": _clean_session,
    "charge.refunded": _clean_charge,
}
# Shape errors a handler may still meet in content that passed the cleaners: permanent, not worth
# a retry. (Database outages and the like are not caught: they answer 500 and Stripe retries.)
_SHAPE_ERRORS = (UnusableEvent, TypeError, ValueError, KeyError, AttributeError, DataError)


def receive_event(payload: bytes) -> str:
    """Apply a webhook body whose signature ``gateway.verify_webhook`` accepted. The caller commits.

    Returns the outcome, also stored on the event's ``WebhookEvent`` row. A body that is not a
    usable Stripe event (not JSON, not an object, an id that is not a string, ``metadata`` that is
    not an object, an amount that is not a whole number…) is recorded with an outcome starting
    with ``UNUSABLE`` and changes nothing else; the webhook still answers 200 (docs/payments.md).
    Events without a usable id are recorded under ``unusable-<sha256 of the body>``, so a
    redelivery is recognised.
    """
    fingerprint = "unusable-" + hashlib.sha256(payload).hexdigest()[:48]
    try:
        event = json.loads(payload)
    except ValueError:
        return _record_unusable(fingerprint, "unusable", "the body is not JSON")
    if not isinstance(event, dict):
        return _record_unusable(fingerprint, "unusable", "the body is not an event object")
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not _STRIPE_ID.fullmatch(event_id):
        kind = kind if isinstance(kind, str) and _EVENT_TYPE.fullmatch(kind) else "unusable"
        return _record_unusable(fingerprint, kind, "the event id is not a Stripe id")
    if not isinstance(kind, str) or not _EVENT_TYPE.fullmatch(kind):
        return _record_unusable(event_id, "unusable", "the event type is not a Stripe event type")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return _record_unusable(event_id, kind, "data.object is not an object")
    return handle_event(event)


def _record_unusable(event_id: str, kind: str, reason: str) -> str:
    outcome = UNUSABLE + reason
    try:
        with db.session.begin_nested():
            db.session.add(WebhookEvent(provider=PROVIDER, event_id=event_id, type=kind, outcome=outcome))
    except IntegrityError:
        return "duplicate"
    current_app.logger.error("Unusable Stripe event %s (%s): %s", event_id, kind, reason)
    return outcome


def handle_event(event: dict[str, Any]) -> str:
    """Apply a verified Stripe event exactly once; returns what was done. The caller commits.

    ``event`` has a Stripe id, a type and ``data.object`` (``receive_event`` checks that). The
    event id is recorded in the same transaction as its effects: a replay (Stripe retries,
    duplicates) finds the id and changes nothing. The handler runs in a savepoint on the fields
    its cleaner checked: content it cannot use rolls back whatever the handler had done, and the
    event is recorded as unusable, never half-applied. Other failures roll back everything and
    answer 500, so that Stripe's retry gets another chance. Unknown types and sessions that are
    not ours are recorded and ignored.
    """
    record = WebhookEvent(provider=PROVIDER, event_id=event["id"], type=event["type"])
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return "duplicate"
    handler = HANDLERS.get(event["type"])
    if handler is None:
        outcome = "ignored: event type not handled"
    else:
        try:
            with db.session.begin_nested():
                outcome = handler(CLEANERS[event["type"]](event["data"]["object"]))
        except _SHAPE_ERRORS as exc:
            reason = str(exc) if isinstance(exc, UnusableEvent) else f"{type(exc).__name__} while applying it"
            current_app.logger.error("Unusable Stripe event %s (%s): %s", event["id"], event["type"], reason,
                                     exc_info=not isinstance(exc, UnusableEvent))
            outcome = UNUSABLE + reason
    record.outcome = outcome
    db.session.flush()
    return outcome


def unusable_events(limit: int = 50) -> list[WebhookEvent]:
    """Signed Stripe events the shop could not use, newest first, for staff to look at."""
    return list(db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.outcome.startswith(UNUSABLE))
        .order_by(WebhookEvent.id.desc()).limit(limit)))


def payments_to_review(limit: int = 50) -> list[Payment]:
    """Payments flagged for staff (``needs_review``), newest first."""
    return list(db.session.scalars(
        select(Payment).where(Payment.needs_review.is_(True)).order_by(Payment.id.desc()).limit(limit)))


# ---- the return page ------------------------------------------------------------------------


def session_state(order: Order, session_id: str | None = None) -> PaymentState:
    """How the payment of ``order`` stands, for the customer. Reads only; never marks anything paid.

    When our records still say pending, Stripe is asked about the session, so a customer who comes
    back before the webhook (or after closing the tab) sees the truth: ``CONFIRMING`` means Stripe has
    the money and the order will turn paid when the webhook arrives.
    """
    payments = _payments(order)
    payment = next((p for p in payments if session_id and p.provider_reference == session_id), None) \
        or (payments[-1] if payments else None)
    if order.status == OrderStatus.REFUNDED:
        return PaymentState(CheckoutState.REFUNDED, payment)
    if order.status in PAID_ORDER_STATUSES:
        return PaymentState(CheckoutState.PAID, payment)
    if any(p.needs_review for p in payments):
        return PaymentState(CheckoutState.REVIEW, payment)
    if order.status == OrderStatus.CANCELLED:
        return PaymentState(CheckoutState.CANCELLED, payment)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return PaymentState(CheckoutState.UNKNOWN, payment)
    now = utcnow()
    can_retry = order.payment_method == PaymentMethod.CARD and orders.card_enabled() and (
        (payment is not None and _is_open(payment, now)) or _hold_active(order, now, grace=EXPIRY_MARGIN))
    if payment is None:
        return PaymentState(CheckoutState.NOT_PAID, None, can_retry)
    if payment.status == PaymentRecordStatus.PROCESSING:
        return PaymentState(CheckoutState.PROCESSING, payment)
    if payment.status in MONEY_IN:
        return PaymentState(CheckoutState.CONFIRMING, payment)
    if payment.status == PaymentRecordStatus.PENDING and payment.provider_reference and orders.card_enabled():
        try:
            session = gateway.retrieve_checkout_session(payment.provider_reference)
        except gateway.ProviderError:
            return PaymentState(CheckoutState.UNKNOWN, payment, can_retry)
        if session.get("status") == StripeSessionStatus.COMPLETE:
            return PaymentState(CheckoutState.CONFIRMING if _money_taken(session) else CheckoutState.PROCESSING,
                                payment)
        if session.get("status") == StripeSessionStatus.EXPIRED:
            return PaymentState(CheckoutState.CANCELLED, payment)
    return PaymentState(CheckoutState.NOT_PAID, payment, can_retry)


# ---- refunds --------------------------------------------------------------------------------


# Non-card money: how it came in, by the order's payment method, and the status whose entry in
# the order's history shows it arrived (staff confirmed the transfer; the goods were handed over
# and paid for in cash).
OFFLINE_PROVIDERS = {PaymentMethod.BANK_TRANSFER: PaymentProvider.BANK_TRANSFER,
                     PaymentMethod.COD: PaymentProvider.CASH, PaymentMethod.PAY_AT_SHOP: PaymentProvider.CASH}
MONEY_RECEIVED_AT = {PaymentMethod.BANK_TRANSFER: OrderStatus.PAID, PaymentMethod.COD: OrderStatus.DELIVERED,
                     PaymentMethod.PAY_AT_SHOP: OrderStatus.COLLECTED}
# Longest bank (or cash receipt) reference accepted for a refund; the column holds 255.
REFERENCE_MAX = 100
REASON_MAX = 500
_REFERENCE_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/#:-]*")


def _method_label(payment: Payment) -> str:
    # English for staff (order history notes are translated for customers by event_note_label).
    with force_locale("en"):
        return PaymentProvider.label_of(payment.provider)


def _apply_refund(payment: Payment, order: Order, amount: int, *, actor: str, reference: str | None = None) -> None:
    """Book ``amount`` refunded on ``payment`` and show it on the order.

    The order's side (payment status, refunded in full or in part, stock back on the shelf
    before hand-over) is the orders area's rule: ``orders.refund_recorded``.
    """
    payment.amount_refunded += amount
    received = payment.amount_received or 0
    move(payment, PaymentRecordStatus.REFUNDED if payment.amount_refunded >= received
         else PaymentRecordStatus.PARTIALLY_REFUNDED)
    siblings = db.session.scalars(select(Payment).where(Payment.order_id == order.id))
    kept = sum(max(0, (p.amount_received or 0) - p.amount_refunded) for p in siblings)
    how = _method_label(payment) + (f", reference {reference}" if reference else "")
    if kept > 0:
        orders.refund_recorded(order, amount, in_full=False, actor=actor,
                               note=f"refund of {format_vnd(amount)} {how} (partial; {format_vnd(kept)} kept)")
    else:
        orders.refund_recorded(order, amount, in_full=True, actor=actor,
                               note=f"refund of {format_vnd(amount)} {how} (refunded in full)")


def _refundable_payment(order: Order) -> Payment:
    payments = _payments(order)
    waiting = [p for p in payments if any(r.status == RefundStatus.REQUESTED for r in p.refunds)]
    candidates = waiting or [p for p in payments if p.amount_received is not None and p.refundable > 0]
    if not candidates:
        if any(p.amount_received is not None for p in payments):
            raise NotAllowed(_("Everything paid for order %(number)s has already been refunded.", number=order.number))
        raise NotAllowed(_("There is no card payment left to refund on this order."))
    # Flagged payments (a duplicate, money for a cancelled order) are the ones staff refund first.
    return sorted(candidates, key=lambda p: (p.needs_review, p.id))[-1]


def money_received_offline(order: Order) -> bool:
    """Whether the shop holds the money of an order not paid by card.

    A bank transfer counts once staff confirmed it (the order was ``paid``); cash on delivery once
    the order was ``delivered``; pay-at-shop once it was ``collected``. Read from the order's
    history, so it stays true after later steps (a refund, a return).
    A transfer that arrived for an order already cancelled (``orders.money_received``: the order
    keeps its status, its payment status says the shop holds the money) counts too, so that it can
    be refunded.
    """
    status = MONEY_RECEIVED_AT.get(order.payment_method)
    return status is not None and (any(e.to_status == status for e in order.events)
                                   or order.payment_status in orders.MONEY_HELD)


def refundable(order: Order) -> int:
    """Đồng that may still be refunded on ``order``, whatever it was paid with (0: nothing received,
    or everything went back). Reads only. Card: what Stripe took less what went back, over the
    order's payments; transfer and cash: the order total once received (``money_received_offline``),
    less what was refunded. A card refund that Stripe has not confirmed yet still counts as left.
    """
    if order.payment_method in OFFLINE_PROVIDERS:
        payment = db.session.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.provider == OFFLINE_PROVIDERS[order.payment_method])).first()
        if payment is not None:
            return payment.refundable
        return order.total if money_received_offline(order) else 0
    return sum(p.refundable for p in _payments(order) if p.amount_received is not None)


def _offline_payment(order: Order) -> Payment:
    """The payment row that books a non-card order's money (made the first time it is refunded).

    ``amount_received`` is the order total: a transfer is confirmed, and cash collected, for the
    whole order. Raises ``NotAllowed`` when no money has been received yet.
    """
    provider = OFFLINE_PROVIDERS[order.payment_method]
    payment = db.session.scalars(
        select(Payment).where(Payment.order_id == order.id, Payment.provider == provider)
        .options(selectinload(Payment.refunds)).execution_options(populate_existing=True)
    ).first()
    if payment is not None:
        return payment
    if not money_received_offline(order):
        raise NotAllowed(_("No money has been received for order %(number)s yet: cancel it instead of refunding.",
                           number=order.number))
    payment = Payment(order_id=order.id, provider=provider, attempt=1, amount=order.total, currency=CURRENCY,
                      amount_received=order.total, status=PaymentRecordStatus.SUCCEEDED,
                      idempotency_key=f"ocop-{provider}-{order.number}")
    db.session.add(payment)
    db.session.flush()
    return payment


def _clean_reference(reference: str | None, *, required: bool) -> str | None:
    """A bank or receipt reference as staff typed it, or ``None``; ``InvalidInput`` when unusable."""
    reference = (reference or "").strip()
    if not reference:
        if required:
            raise InvalidInput(_("Give the reference of the bank transfer that sent the money back "
                                 "(--reference)."), field="reference")
        return None
    if len(reference) > REFERENCE_MAX or not _REFERENCE_OK.fullmatch(reference):
        raise InvalidInput(_("A reference is up to %(max)s letters, digits, spaces and . _ / # : - characters.",
                             max=REFERENCE_MAX), field="reference")
    existing = db.session.scalars(select(Refund).where(Refund.provider_reference == reference)).first()
    if existing is not None:
        raise InvalidInput(_("The reference %(reference)s is already recorded for a refund of %(amount)s "
                             "(order %(number)s).", reference=reference, amount=format_vnd(existing.amount),
                             number=existing.payment.order.number), field="reference")
    return reference


def _check_amount(amount: int | None, refundable: int, order: Order) -> int:
    if refundable <= 0:
        raise NotAllowed(_("Everything paid for order %(number)s has already been refunded.", number=order.number))
    if amount is None:
        return refundable
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= refundable:
        raise InvalidInput(_("A refund must be a whole number of đồng between 1 and %(max)s.",
                             max=format_vnd(refundable)), field="amount")
    return amount


def _refund_offline(order: Order, amount: int | None, *, actor: str, reason: str, reference: str | None) -> Refund:
    """Record money the shop has already sent back itself (a bank transfer, or cash). Commits."""
    payment = _offline_payment(order)
    amount = _check_amount(amount, payment.refundable, order)
    reference = _clean_reference(reference, required=payment.provider == PaymentProvider.BANK_TRANSFER)
    row = Refund(amount=amount, status=RefundStatus.SUCCEEDED, actor=actor, reason=reason, provider_reference=reference)
    payment.refunds.append(row)
    db.session.flush()
    _apply_refund(payment, order, amount, actor=actor, reference=reference)
    db.session.commit()
    return row


def refund(order: Order, amount: int | None = None, *, actor: str, reason: str = "",
           reference: str | None = None) -> Refund:
    """Refund ``amount`` đồng (``None``: everything not refunded yet) of an order, any payment method. Commits.

    - Card: the refund is written as requested with its idempotency key before Stripe is
      called, then updated with Stripe's answer; if that answer is lost, calling again with the
      same amount repeats the same request (Stripe returns the same refund). ``reference`` must be
      left out (Stripe gives the refund its id).
    - Bank transfer: staff have sent the money back from the shop's account; ``reference`` (the
      bank's reference of that transfer, required, unique) and the amount are recorded.
    - Cash on delivery / pay at the shop: staff have handed the cash back; ``reference`` (a
      receipt number) is optional.
    Money can only be refunded once received (card: Stripe said so; transfer: staff confirmed it;
    cash: the goods were delivered or collected), and never more than received minus refunded.
    Every refund is a line in the order's history; refunding everything moves the order to
    refunded and, before hand-over, puts its stock back (see ``_apply_refund``). The same
    function serves the CLI now and staff screens later. ``reason`` is kept with the refund.

    Raises ``NotAllowed`` (nothing received or nothing left, or a card refund not confirmed yet),
    ``InvalidInput`` (amount not 1 … refundable, bad or reused reference, reason too long) and
    ``PaymentError`` (Stripe refused or did not answer).
    """
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX or _CONTROL.search(reason):
        raise InvalidInput(_("The note is too long or contains characters we cannot accept."), field="reason")
    order = orders.lock_order(order.id)
    if order.payment_method in OFFLINE_PROVIDERS:
        try:
            return _refund_offline(order, amount, actor=actor, reason=reason, reference=reference)
        except DomainError:
            db.session.rollback()
            raise
    if reference:
        raise InvalidInput(_("Card refunds get their reference from Stripe: leave the reference out."),
                           field="reference")
    payment = _refundable_payment(order)
    waiting = next((r for r in payment.refunds if r.status == RefundStatus.REQUESTED), None)
    if waiting is not None:
        if amount is not None and amount != waiting.amount:
            raise NotAllowed(_("A refund of %(amount)s for this order is not confirmed by Stripe yet. "
                               "Repeat that refund first.", amount=format_vnd(waiting.amount)))
        row = waiting
    else:
        amount = _check_amount(amount, payment.refundable, order)
        if not payment.payment_intent:
            raise NotAllowed(_("Stripe has not confirmed this payment's reference yet. Try again in a minute."))
        row = Refund(amount=amount, status=RefundStatus.REQUESTED, actor=actor, reason=reason,
                     idempotency_key=f"ocop-refund-{order.number}-{len(payment.refunds) + 1}-{secrets.token_hex(4)}")
        payment.refunds.append(row)
        db.session.flush()
    order_id, refund_id, payment_id = order.id, row.id, payment.id
    call = dict(payment_intent=payment.payment_intent, amount=row.amount, idempotency_key=row.idempotency_key,
                metadata={"order_number": order.number, "payment_id": str(payment.id), "refund_id": str(row.id)})
    db.session.commit()

    try:
        answer = gateway.create_refund(**call)
    except gateway.ProviderError as exc:
        if exc.status is None or exc.status >= 500 or exc.status == 409:
            raise PaymentError(_("Stripe did not answer. Run the same refund again: "
                                 "it will not be paid out twice.")) from exc
        # A definite no (already refunded, amount too large…): this request is over.
        order = orders.lock_order(order_id)
        row = db.session.get(Refund, refund_id, populate_existing=True)
        if row.status == RefundStatus.REQUESTED:
            row.status = RefundStatus.FAILED
            _note(order, f"refund of {format_vnd(row.amount)} refused by Stripe: {exc.message}", actor)
        db.session.commit()
        raise PaymentError(_("Stripe refused the refund: %(reason)s", reason=exc.message)) from exc

    order = orders.lock_order(order_id)
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    row = db.session.get(Refund, refund_id, populate_existing=True)
    row.provider_reference = row.provider_reference or answer.get("id")
    if row.status == RefundStatus.REQUESTED:  # not already booked by the charge.refunded webhook
        row.status = _stripe_refund_status(answer.get("status"))
        if row.status not in REFUND_NOT_MADE:
            _apply_refund(payment, order, row.amount, actor=actor)
        else:
            _note(order, f"refund of {format_vnd(row.amount)} failed at Stripe ({row.status})", actor)
    db.session.commit()
    return row
