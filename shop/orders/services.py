"""Orders: where they are born (``place_order``) and the only place their status changes.

Placing an order snapshots the cart's lines at live prices, computes totals on the server,
chooses source shops and holds their stock, all in the caller's one transaction. Nothing here
talks to the outside world: emails and payment providers are called after the commit.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import selectinload

from shop.cart import services as carts
from shop.catalog.enums import CertificatePublicStatus
from shop.errors import (CustomerLimit, FieldErrors, InvalidInput, InvalidTransition, NotAllowed, NotFound,
                         OutOfStock)
from shop.extensions import db
from shop.i18n import current_lang, localized
from shop.inventory import services as inventory
from shop.inventory.enums import ReservationState
from shop.inventory.models import Reservation
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod, PaymentStatus, ShipmentState
from shop.orders.models import Order, OrderEvent, OrderLine, Shipment
from shop.inputs import column_length, column_text, whole_number
from shop.phone import normalize_phone
from shop.places.services import with_lineage
from shop.shops.models import Shop
from shop.timeutil import VN_TZ, utcnow

# Signals for the areas that build on orders (payments), so that orders never import them.
_signals = Namespace()
# ``cancel_requested.send(order)``: the customer asks to cancel; sent under the order's lock before
# anything changes. A receiver that must refuse raises ``NotAllowed`` with the customer's message.
cancel_requested = _signals.signal("order-cancel-requested")

# The order life cycle (DESIGN.md). Anything not listed is refused with InvalidTransition.
TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PLACED: {OrderStatus.PROCESSING, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.PROCESSING, OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    OrderStatus.PROCESSING: {OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED,
                             OrderStatus.REFUNDED},
    # shipped → cancelled: a cash-on-delivery parcel refused at the door (goods come back with
    # shop.orders.returns.return_goods when the courier brings them).
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.READY_FOR_PICKUP: {OrderStatus.COLLECTED, OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.REFUNDED},
    OrderStatus.COLLECTED: {OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}
# Entering these states turns held stock into a sale: payment, or the hand-over for COD/at-shop.
COMMITS_STOCK = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COLLECTED}
# Statuses in which the goods are still in the shop: leaving them for cancelled or refunded
# puts held or sold units back (ledger ``release``). Later, goods come back only as returns.
NOT_HANDED_OVER = {OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING,
                   OrderStatus.READY_FOR_PICKUP}
# Paid before hand-over: once such an order is past pending_payment the shop has the money, so it
# is refunded (shop.payments.services.refund), never cancelled.
PREPAID_METHODS = frozenset(m for m in PaymentMethod if m.prepaid)
CUSTOMER_CANCELLABLE = {OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED}
# Steps that move goods towards the customer: refused while a product of the order has no valid
# OCOP certificate, unless staff force them with a note (``transition(force=True)``).
GOODS_STEPS = {OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED}
# Orders still open (something will happen to them); shipped ones only wait for the courier.
OPEN_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING,
                 OrderStatus.READY_FOR_PICKUP)
# What staff may move an order to by hand (``flask order set-status``); money moves only through
# payments (``paid`` by a confirmed transfer or Stripe, ``refunded`` by ``flask refund``).
STAFF_STATUSES = (OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.READY_FOR_PICKUP,
                  OrderStatus.COLLECTED, OrderStatus.CANCELLED)
DELIVERY_ONLY = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
PICKUP_ONLY = {OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED}

PAYMENT_METHODS_BY_FULFILMENT = {
    FulfilmentType.DELIVERY: (PaymentMethod.COD, PaymentMethod.BANK_TRANSFER, PaymentMethod.CARD),
    FulfilmentType.PICKUP: (PaymentMethod.PAY_AT_SHOP, PaymentMethod.BANK_TRANSFER, PaymentMethod.CARD),
}


def card_enabled() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def payment_methods(fulfilment: str) -> tuple[str, ...]:
    """The payment methods offered for a fulfilment type (card only when Stripe is configured)."""
    methods = PAYMENT_METHODS_BY_FULFILMENT.get(fulfilment, ())
    return tuple(m for m in methods if m != PaymentMethod.CARD or card_enabled())


# The delivery address lines, in the order the forms show them, and the Order column of each.
_ADDRESS_COLUMNS = {"street": Order.address_street, "ward": Order.address_ward, "province": Order.address_province}  # vocabulary: address field names
# Longest accepted text per field (after NFC normalisation): read from the columns, never copied.
ADDRESS_MAX = {key: column_length(column) for key, column in _ADDRESS_COLUMNS.items()}
FIELD_MAX = {"name": column_length(Order.customer_name), "email": column_length(Order.email), **ADDRESS_MAX}
# How much text a form or API client may send for one field before it is read at all: far above
# any column, so that the real limit (the column's, after normalisation) gives the message.
RAW_TEXT_MAX = 1000


@dataclass
class Customer:
    name: str
    phone: str
    email: str

    def cleaned(self) -> "Customer":
        """NFC-normalised name and email checked against the Order columns, phone as E.164.

        Raises ``InvalidFields`` naming every wrong field of "name", "phone" and "email" (form order).
        """
        errors = FieldErrors()
        name = errors.check(column_text, self.name, Order.customer_name, "name", min_length=2,
                            message=_("Please enter your name."))
        phone = errors.check(lambda: column_text(normalize_phone(self.phone), Order.phone, "phone"))
        email = errors.check(self._email)
        errors.raise_if_any()
        return Customer(name=name, phone=phone, email=email)

    def _email(self) -> str:
        try:
            email = column_text(self.email, Order.email, "email")
            # The normalised address can be longer than what was typed (IDNA maps "ﬀ" to "ff"):
            # measure the result against the column, not the input.
            return column_text(validate_email(email, check_deliverability=False).normalized, Order.email, "email")
        except (EmailNotValidError, InvalidInput):
            raise InvalidInput(_("Please enter a valid email address (at most %(n)d characters).",
                                 n=column_length(Order.email)), field="email") from None


@dataclass
class Fulfilment:
    type: str  # a FulfilmentType value
    pickup_shop_id: int | str | None = None
    street: str = ""
    ward: str = ""
    province: str = ""

    def cleaned(self) -> "Fulfilment":
        """The pick-up shop id as an int, or the address lines normalised to fit their columns.

        Raises ``InvalidInput`` with ``field`` = "pickup_shop_id" or "fulfilment", or
        ``InvalidFields`` naming every wrong address field.
        """
        if self.type == FulfilmentType.PICKUP:
            shop_id = whole_number(self.pickup_shop_id, 1)
            if shop_id is None:
                raise InvalidInput(_("Choose the shop where you will collect the order."), field="pickup_shop_id")
            return Fulfilment(type=FulfilmentType.PICKUP, pickup_shop_id=shop_id)
        if self.type != FulfilmentType.DELIVERY:
            raise InvalidInput(_("Choose delivery or pick-up."), field="fulfilment")
        errors = FieldErrors()
        parts = {key: errors.check(column_text, getattr(self, key), column, key, min_length=2,
                                   message=_("Please fill in the delivery address."))
                 for key, column in _ADDRESS_COLUMNS.items()}
        errors.raise_if_any()
        return Fulfilment(type=FulfilmentType.DELIVERY, **parts)


def shipping_fee(fulfilment_type: str, subtotal: int) -> int:
    if fulfilment_type != FulfilmentType.DELIVERY:
        return 0
    config = current_app.config
    return 0 if subtotal >= config["FREE_SHIPPING_THRESHOLD"] else config["SHIPPING_FEE"]


def candidate_shops(fulfilment: Fulfilment) -> list[Shop]:
    """Shops that may supply an order: the chosen pick-up shop, or every shop that ships online."""
    if fulfilment.type == FulfilmentType.PICKUP:
        shop = db.session.get(Shop, fulfilment.pickup_shop_id)
        if shop is None or not shop.active or not shop.offers_pickup:
            raise InvalidInput(_("That shop does not offer pick-up."), field="pickup_shop_id")
        return [shop]
    return list(db.session.scalars(
        select(Shop).where(Shop.active.is_(True), Shop.ships_online.is_(True)).order_by(Shop.id)
    ))


def pickup_shops_for(needs: dict[int, int]) -> list[Shop]:
    """Pick-up shops that can supply every line of the cart on their own (for the checkout form)."""
    shops = list(db.session.scalars(
        select(Shop).where(Shop.active.is_(True), Shop.offers_pickup.is_(True))
        .options(*with_lineage(Shop.locality)).order_by(Shop.name)).unique())
    if not needs:
        return shops
    matrix = inventory.availability_matrix(needs.keys(), [s.id for s in shops])
    return [s for s in shops if all(matrix.get((s.id, p), 0) >= q for p, q in needs.items())]


def plan_sources(needs: dict[int, int], shops: list[Shop], names: dict[int, str],
                 allow_split: bool) -> list[tuple[int, int, int]]:
    """Choose (product_id, shop_id, quantity) sources for ``needs`` from ``shops``.

    One shop that can supply everything is preferred (the one with most of it on the shelf);
    otherwise, for delivery, lines are split across shops, largest stock first, rather than
    refusing a sale the province can fill. This is a plan: the holds re-check under lock.
    """
    shop_ids = [s.id for s in shops]
    matrix = inventory.availability_matrix(needs.keys(), shop_ids)
    whole = [s for s in shop_ids if all(matrix.get((s, p), 0) >= q for p, q in needs.items())]
    if whole:
        best = max(whole, key=lambda s: (sum(matrix.get((s, p), 0) for p in needs), -s))
        return [(p, best, q) for p, q in needs.items()]
    if not allow_split:
        short = next(p for p, q in needs.items() if not any(matrix.get((s, p), 0) >= q for s in shop_ids))
        raise OutOfStock(_("%(name)s is not available in the quantity you asked for at this shop.",
                           name=names[short]), product_id=short)
    plan = []
    for product_id, quantity in needs.items():
        remaining = quantity
        for shop_id in sorted(shop_ids, key=lambda s: (-matrix.get((s, product_id), 0), s)):
            take = min(remaining, matrix.get((shop_id, product_id), 0))
            if take > 0:
                plan.append((product_id, shop_id, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise OutOfStock(_("Sorry, %(name)s has just sold out or has fewer units left than you asked for.",
                               name=names[product_id]), product_id=product_id)
    return plan


def _hold_expiry(method: str, now: datetime) -> datetime:
    """When a new order's hold ends unless something happens first (README, "Stock: holds…").

    Card and bank transfer: the time to pay. Cash on delivery and pay at the shop: the time staff
    have to confirm the order with the customer (``confirm_order``), after which it expires.
    """
    config = current_app.config
    minutes = {PaymentMethod.CARD: config["CARD_HOLD_MINUTES"],
               PaymentMethod.BANK_TRANSFER: config["BANK_TRANSFER_HOLD_MINUTES"],
               PaymentMethod.COD: config["COD_CONFIRM_HOURS"] * 60,
               PaymentMethod.PAY_AT_SHOP: config["PICKUP_CONFIRM_HOURS"] * 60}[method]
    return now + timedelta(minutes=minutes)


def check_customer_limits(customer: "Customer", units: int) -> None:
    """Refuse an order that would give one customer too many open unpaid orders or held units.

    One customer is every open order with the same (normalised) phone number OR the same email
    key (``shop.orders.models.email_key``). Open unpaid orders are those whose stock is still held
    and counting (``inventory.active_hold_clause``): an expired hold stops counting at once.
    Limits: ``MAX_OPEN_ORDERS_PER_CUSTOMER`` orders and ``MAX_OPEN_UNITS_PER_CUSTOMER`` units
    (including ``units`` of the new order). On PostgreSQL the customer's keys are locked for the
    transaction (advisory locks), so two simultaneous checkouts cannot both slip under the limit.
    Raises ``CustomerLimit`` (HTTP 409, code ``customer_limit``) with a message for the customer.
    """
    from shop.orders.models import email_key

    config = current_app.config
    max_orders, max_units = config["MAX_OPEN_ORDERS_PER_CUSTOMER"], config["MAX_OPEN_UNITS_PER_CUSTOMER"]
    key = email_key(customer.email)
    if db.session.get_bind().dialect.name == "postgresql":
        for lock_key in sorted({f"phone:{customer.phone}", f"email:{key}"}):
            db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock_key})
    held = (
        select(Order.id, func.sum(Reservation.quantity).label("units"))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .where(or_(Order.phone == customer.phone, Order.email_key == key), inventory.active_hold_clause())
        .group_by(Order.id)
        .subquery()
    )
    open_orders, open_units = db.session.execute(
        select(func.count(held.c.id), func.coalesce(func.sum(held.c.units), 0))).one()
    if open_orders >= max_orders:
        raise CustomerLimit(
            _("Orders waiting for payment or confirmation: you have %(count)s, the most we accept per "
              "customer. Please complete or cancel one of them, or call us, before placing another.",
              count=open_orders),
            limit="orders")
    if open_units + units > max_units:
        raise CustomerLimit(
            _("Orders waiting for payment or confirmation may hold at most %(max)s units per customer "
              "(you have %(held)s). For a larger order, please call us.", max=max_units, held=open_units),
            limit="units")


def check_details(customer: Customer, fulfilment: Fulfilment, payment_method: str) -> tuple[Customer, Fulfilment]:
    """The customer's details and the fulfilment cleaned, and the payment method checked against it.

    Every problem is reported at once (a checkout form shows them all): raises ``InvalidFields``
    naming each wrong field of name, phone, email, fulfilment or the address or pick-up shop, and
    payment_method.
    """
    errors = FieldErrors()
    customer_clean = errors.check(customer.cleaned)
    fulfilment_clean = errors.check(fulfilment.cleaned)
    if not payment_method:
        errors.add("payment_method", _("Choose how you will pay."))
    elif fulfilment.type in tuple(FulfilmentType) and payment_method not in payment_methods(fulfilment.type):
        errors.add("payment_method", _("That payment method is not available for this order."))
    errors.raise_if_any()
    return customer_clean, fulfilment_clean


def place_order(cart_token: str | None, customer: Customer, fulfilment: Fulfilment,
                payment_method: str, *, actor: str = "customer", user_id: int | None = None) -> Order:
    """Turn a cart into an order with its stock held. The caller commits.

    The cart is read under its row lock and must pass ``carts.ensure_ready`` (the very rules the
    cart page shows: quantity limit, sellable, availability, accepted prices). Afterwards the cart
    has no lines and points at the order (``Cart.order_id``).

    Raises ``carts.CartOrdered`` (the cart already became an order: show that one),
    ``InvalidFields`` (bad details: every wrong field, see ``check_details``), ``InvalidInput``
    (empty cart, a line's problem, a shop that does not offer pick-up), ``OutOfStock``.
    """
    cart = carts.find_cart(cart_token)
    if cart is not None:
        cart = carts.lock_cart(cart)  # a second click waits here, then finds the cart ordered
        carts.ensure_open(cart)  # CartOrdered: the caller shows that order (idempotent checkout)
    customer, fulfilment = check_details(customer, fulfilment, payment_method)
    cart_view = carts.view(cart)
    carts.ensure_ready(cart_view)  # the cart page's own rules, on the cart as it is under the lock

    check_customer_limits(customer, sum(line.quantity for line in cart_view.lines))

    # Check the pick-up shop before the order row is written: an unknown id must be an
    # InvalidInput, not a foreign-key (or integer range) error from the INSERT.
    shops = candidate_shops(fulfilment)
    now = utcnow()
    subtotal = cart_view.subtotal
    fee = shipping_fee(fulfilment.type, subtotal)
    method = PaymentMethod(payment_method)
    status = OrderStatus.PLACED if method.paid_at_hand_over else OrderStatus.PENDING_PAYMENT
    order = Order(
        access_token=secrets.token_urlsafe(24), status=status,
        customer_name=customer.name, email=customer.email, phone=customer.phone,
        fulfilment=fulfilment.type, pickup_shop_id=fulfilment.pickup_shop_id,
        address_street=fulfilment.street, address_ward=fulfilment.ward, address_province=fulfilment.province,
        payment_method=method, payment_status=PaymentStatus.PENDING if method.prepaid else PaymentStatus.UNPAID,
        subtotal=subtotal, shipping_fee=fee, total=subtotal + fee,
        hold_expires_at=_hold_expiry(payment_method, now), user_id=user_id, lang=current_lang(),
    )
    for line in cart_view.lines:
        order.lines.append(OrderLine(
            product_id=line.product.id, product_name=line.product.name, product_slug=line.product.slug,
            product_name_en=line.product.name_en or "", unit_en=line.product.unit_en or "",
            unit=line.product.unit, unit_price=line.unit_price, stars=line.stars, quantity=line.quantity,
            line_total=line.line_total,
        ))
    db.session.add(order)
    db.session.flush()
    order.number = f"OC-{now.astimezone(VN_TZ).year}-{order.id:06d}"

    needs = {line.product_id: line.quantity for line in order.lines}
    names = {line.product_id: localized(line, "product_name") for line in order.lines}
    plan = plan_sources(needs, shops, names, allow_split=fulfilment.type == FulfilmentType.DELIVERY)
    line_ids = {line.product_id: line.id for line in order.lines}
    try:
        inventory.hold_many([(line_ids[p], s, p, q) for p, s, q in plan], order.hold_expires_at)
    except OutOfStock as exc:
        # Someone else took the units between the plan and the lock.
        product_id = exc.details.get("product_id")
        raise OutOfStock(_("Sorry, %(name)s has just sold out or has fewer units left than you asked for.",
                           name=names.get(product_id, "")), product_id=product_id) from None

    for shop_id in sorted({shop_id for _p, shop_id, _q in plan}):
        order.shipments.append(Shipment(shop_id=shop_id, state=ShipmentState.TO_PREPARE))
    _record(order, None, status, actor, "")
    # The cart keeps no lines but remembers its order: submitting it again shows this order.
    cart.items.clear()
    cart.order = order
    db.session.flush()
    return order


def lock_order(order: Order | int) -> Order:
    """The order (or the order with this id) re-read under a row lock (``FOR UPDATE`` on
    PostgreSQL), with fresh lines, holds and shipments.

    Everything that changes an order takes this lock first (its status, its shipments, its
    payments in shop.payments), so a customer's cancel, a staff action, a webhook and a refund for
    the same order run one after the other, each on fresh state. SQLite has no row locks but lets
    one writer at a time through, which serialises these just the same.
    """
    order_id = order if isinstance(order, int) else order.id
    if order_id is None:
        return order
    db.session.flush()  # the reload below must not drop a caller's unsaved changes
    return db.session.scalars(
        select(Order).where(Order.id == order_id).with_for_update()
        .options(selectinload(Order.lines).selectinload(OrderLine.reservations), selectinload(Order.shipments))
        .execution_options(populate_existing=True)
    ).one()


def _record(order: Order, from_status: str | None, to_status: str, actor: str, note: str) -> None:
    actor = column_text(actor, OrderEvent.actor, "actor")  # staff type it (``--by``)
    order.events.append(OrderEvent(from_status=from_status, to_status=to_status, actor=actor, note=note))


def add_note(order: Order, note: str, actor: str = "system") -> None:
    """A line in the order's history that is not a status change (English, for staff; customers
    read ``shop.orders.notifications.event_note_label``). The caller holds the order's lock."""
    _record(order, order.status, order.status, actor, note)


_note = add_note


def set_hold_deadline(order: Order, expires_at: datetime) -> None:
    """Make the order's stock hold, and each of its reservations still held, end at ``expires_at``.

    For payments: a card session's expiry, or the longer wait of a delayed card payment. The caller
    checks that the hold still counts (extending an expired hold could oversell) and holds the lock.
    """
    order.hold_expires_at = expires_at
    for reservation in reservations_of(order):
        if reservation.state == ReservationState.HELD:
            reservation.expires_at = expires_at


def reservations_of(order: Order) -> list[Reservation]:
    """Every reservation of the order's lines (held, committed or released), line by line."""
    return [r for line in order.lines for r in line.reservations]



def _still_in_shop(order: Order) -> list[Reservation]:
    """The order's reservations whose goods have not left their shop (its shipment has not left).

    These are what cancelling or refunding puts back on the shelf; goods that left come back only
    as returns. (Every order has its shipments; the fallback reads the order status as before.)
    """
    if not order.shipments:
        return reservations_of(order) if order.status in NOT_HANDED_OVER else []
    left = {s.shop_id for s in order.shipments if s.left_the_shop}
    return [r for r in reservations_of(order) if r.shop_id not in left]


# ---- staff flags ----------------------------------------------------------------------------

FLAG_NOTE = "flagged for staff: "
FORCED_NOTE = "went on despite: "
RESOLVED_NOTE = "flag resolved: "


def flag(order: Order, reason: str, *, actor: str = "system") -> bool:
    """Mark the order for staff (``needs_review``) and say why, in its data and its history.

    Reasons accumulate in ``review_reason``. A reason already raised once on this order (even if
    resolved since) is not raised again, so a periodic check does not flag the same fact twice.
    The flag ends when staff call ``resolve_flag``. Returns whether anything was added.
    """
    note = FLAG_NOTE + reason
    if any(event.note == note for event in order.events):
        return False
    order.needs_review = True
    order.review_reason = "; ".join(r for r in (order.review_reason, reason) if r)
    _note(order, note, actor)
    current_app.logger.warning("Order %s flagged for staff: %s", order.number, reason)
    return True


def resolve_flag(order: Order, *, note: str, actor: str) -> Order:
    """Staff have dealt with what the flag asked (refunded, restocked, called the customer…).

    Clears ``needs_review`` and ``review_reason``; the history keeps the reasons and ``note``.
    Raises ``InvalidInput`` without a note and ``NotAllowed`` when the order is not flagged.
    """
    order = lock_order(order)
    if not (note or "").strip():
        raise InvalidInput(_("Say in a note what was done about the flag."), field="note")
    if not order.needs_review:
        raise NotAllowed(_("This order is not flagged for staff."))
    order.needs_review = False
    order.review_reason = ""
    _note(order, RESOLVED_NOTE + note.strip(), actor)
    db.session.flush()
    return order


def certificate_lapses(order: Order, on=None, product_ids: set[int] | None = None) -> list[str]:
    """One sentence (English, for staff) per product of the order that has no valid OCOP
    certificate ``on`` that day (today in Vietnam by default): revoked, expired or withdrawn.

    Computed from the certificates as they are now, so a revocation or an expiry shows up on
    every open order at once, with no job needed. Lines whose product was deleted are skipped.
    ``product_ids``: only these products (one shipment's).
    """
    lapses: list[str] = []
    seen: set[int] = set()
    for line in order.lines:
        product = line.product
        if product is None or product.id in seen or (product_ids is not None and product.id not in product_ids):
            continue
        if product.valid_certificate(on) is not None:
            continue
        seen.add(product.id)
        cert = product.latest_certificate
        if cert is None:
            lapses.append(f"{line.product_name} has no OCOP certificate")
            continue
        state = cert.public_status(on)
        when = {CertificatePublicStatus.REVOKED: f" on {cert.revoked_on.isoformat()}" if cert.revoked_on else "",
                CertificatePublicStatus.EXPIRED: f" on {cert.expires_on.isoformat()}"}.get(state, "")
        lapses.append(f"the OCOP certificate of {line.product_name} ({cert.decision_number}) is {state}{when}")
    return lapses


def staff_warnings(order: Order) -> list[str]:
    """What staff must know before acting on the order (CLI output now, back-office screens later):
    an expired hold, open flags, and products no longer certified (while the order is open)."""
    warnings = []
    if order.hold_expired():
        warnings.append(f"the stock hold expired at {order.hold_expires_at.isoformat(timespec='minutes')}: "
                        "its units may have gone to other orders")
    if order.needs_review:
        warnings.append(f"flagged for staff: {order.review_reason}")
    if order.status in OPEN_STATUSES:
        warnings += certificate_lapses(order)
    return warnings


def flag_certificate_lapses() -> list[str]:
    """Flag every open order holding a product whose certificate is no longer valid; returns their
    numbers. Run by ``flask release-expired`` (cron), so a revocation or an expiry is recorded on
    the orders within minutes even if nobody touches them; staff steps also check at the time."""
    from shop.catalog.models import Certificate

    valid_products = select(Certificate.product_id).where(Certificate.valid_clause())
    candidates = db.session.scalars(
        select(Order).where(
            Order.status.in_(OPEN_STATUSES),
            Order.lines.any(and_(OrderLine.product_id.is_not(None), OrderLine.product_id.not_in(valid_products))),
        ).order_by(Order.id)
    ).all()
    flagged = []
    for order in candidates:
        order = lock_order(order)
        added = [flag(order, lapse + ": check with the customer before the goods go out")
                 for lapse in certificate_lapses(order)]
        if any(added):
            flagged.append(order.number)
    db.session.flush()
    return flagged


# ---- the life cycle -------------------------------------------------------------------------


def _commit_stock(order: Order, reservations: list[Reservation], user_id: int | None,
                  short_ok: bool) -> list[Reservation]:
    """Sell every held reservation (re-checked under lock when its hold expired).

    Returns the reservations whose units are gone when ``short_ok``; otherwise raises OutOfStock.
    """
    short = []
    for reservation in reservations:
        try:
            inventory.commit_reservation(reservation, reference=order.number, user_id=user_id)
        except OutOfStock:
            if not short_ok:
                raise
            short.append(reservation)
    return short


def _stock_gone(exc: OutOfStock) -> OutOfStock:
    return OutOfStock(_("The stock held for this order is no longer there: it was written off or counted "
                        "short, its hold expired and the units went to other orders, or the lots left on the "
                        "shelf expired or were recalled. Restock it, or cancel or refund the order."),
                      **exc.details)


def transition(order: Order, to_status: str, *, actor: str = "system", note: str = "",
               user_id: int | None = None, force: bool = False, short_ok: bool = False,
               _shipments_checked: bool = False) -> Order:
    """Move an order to ``to_status`` if the life cycle allows it, with its stock side effects.

    The order is re-read under a row lock first, so a customer's cancel, a staff action and a
    payment webhook for the same order run one after the other, each on fresh state.

    Stock: paid, shipped, collected sell the held units; processing holds them with no
    deadline until hand-over (a cash-on-delivery or pay-at-shop order is confirmed); pay-at-shop
    ready for pick-up holds them for ``PICKUP_COLLECT_DAYS``; cancelled releases them. A hold
    that had expired is checked again under lock (``OutOfStock`` when the units are gone, unless
    ``short_ok``: then the order is paid but flagged for staff, its missing units still to sell).

    Certificates: a step in ``GOODS_STEPS`` is refused (``NotAllowed``) while a product of the
    order has no valid OCOP certificate, unless ``force`` and a ``note`` (``InvalidInput``
    without one); becoming paid with such a product flags the order for staff instead.
    """
    order = lock_order(order)
    if to_status not in TRANSITIONS.get(order.status, set()):
        raise InvalidTransition(
            _("An order that is %(status)s cannot become %(to)s.",
              status=OrderStatus.label_of(order.status), to=OrderStatus.label_of(to_status)))
    if (to_status == OrderStatus.CANCELLED and order.payment_method in PREPAID_METHODS
            and order.status != OrderStatus.PENDING_PAYMENT):
        # Cancelling would put the goods back but keep the customer's money.
        raise NotAllowed(_("Order %(number)s is paid: refund it instead of cancelling (flask refund %(number)s); "
                           "a full refund before hand-over also puts its stock back.", number=order.number))
    if to_status in DELIVERY_ONLY and order.fulfilment != FulfilmentType.DELIVERY:
        raise InvalidTransition(_("Only delivery orders can be shipped."))
    if to_status in PICKUP_ONLY and order.fulfilment != FulfilmentType.PICKUP:
        raise InvalidTransition(_("Only pick-up orders can be collected at a shop."))
    now = utcnow()
    late = order.hold_expired(now) and to_status != OrderStatus.CANCELLED
    checks = to_status == OrderStatus.PAID or (to_status in GOODS_STEPS and not _shipments_checked)
    lapses = certificate_lapses(order) if checks else []
    if to_status in GOODS_STEPS:
        forced = {e.note for e in order.events if e.note.startswith(FORCED_NOTE)}
        lapses = [lapse for lapse in lapses if FORCED_NOTE + lapse not in forced]
        if lapses and not force:
            raise NotAllowed(_("Not certified any more: %(lapses)s. Call the customer first; to go on anyway, "
                               "repeat the command with --force and a --note saying what was agreed.",
                               lapses="; ".join(lapses)), lapses=len(lapses))
        if lapses and not note.strip():
            raise InvalidInput(_("Going on despite a certificate problem needs a note saying why."), field="note")

    reservations = reservations_of(order)
    short: list[Reservation] = []
    try:
        if to_status in COMMITS_STOCK:
            short = _commit_stock(order, reservations, user_id, short_ok and to_status == OrderStatus.PAID)
        elif to_status == OrderStatus.PROCESSING and order.status == OrderStatus.PAID:
            _commit_stock(order, reservations, user_id, short_ok=False)  # units a late payment lacked
        elif to_status == OrderStatus.PROCESSING:
            inventory.renew_holds(reservations, None)  # confirmed: held until hand-over
        elif to_status == OrderStatus.READY_FOR_PICKUP and order.payment_method.paid_at_hand_over:
            deadline = now + timedelta(days=current_app.config["PICKUP_COLLECT_DAYS"])
            inventory.renew_holds(reservations, deadline)
    except OutOfStock as exc:
        raise _stock_gone(exc) from None
    if to_status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        # Cancelled, or refunded: goods that never left their shop go back on the shelf (goods
        # that left come back only as returns, shop.orders.returns).
        for reservation in _still_in_shop(order):
            inventory.release_reservation(reservation, reference=order.number, user_id=user_id,
                                          note=note or f"order {to_status}")

    hold_at = order.hold_expires_at
    from_status = order.status
    order.status = to_status
    if to_status == OrderStatus.READY_FOR_PICKUP and order.payment_method.paid_at_hand_over:
        order.hold_expires_at = now + timedelta(days=current_app.config["PICKUP_COLLECT_DAYS"])
    elif to_status in COMMITS_STOCK or to_status in GOODS_STEPS:
        order.hold_expires_at = None  # nothing waits on a deadline any more
    _shipments_follow(order, to_status, actor)  # the shipments' steps, then the order's own
    _record(order, from_status, to_status, actor, note)
    _payment_follows(order, to_status)
    if late:
        _note(order, f"the hold had expired at {hold_at.isoformat(timespec='minutes')}; "
                     "the stock was checked again" + (" and is short" if short else " and is still there"), actor)
    for lapse in lapses:
        if to_status in GOODS_STEPS:
            _note(order, FORCED_NOTE + lapse, actor)
        else:
            flag(order, lapse + ": check with the customer before preparing the order", actor=actor)
    if short:
        missing = ", ".join(f"{r.quantity} × {r.line.product_name}" for r in short)
        flag(order, f"paid after the hold expired, but {missing} are no longer in stock: "
                    "restock and move the order on, or refund it", actor=actor)
    db.session.flush()
    return order


# ---- shipments (one per source shop) --------------------------------------------------------

_SS = ShipmentState
# A shipment's life cycle (DESIGN.md); anything not listed is refused with InvalidTransition.
SHIPMENT_TRANSITIONS: dict[ShipmentState, set[ShipmentState]] = {
    _SS.TO_PREPARE: {_SS.PACKED, _SS.SHIPPED, _SS.READY_FOR_PICKUP, _SS.CANCELLED},
    _SS.PACKED: {_SS.SHIPPED, _SS.READY_FOR_PICKUP, _SS.CANCELLED},
    # shipped → cancelled: a cash-on-delivery parcel refused at the door (goods come back with
    # shop.orders.returns.return_goods when the courier brings them).
    _SS.SHIPPED: {_SS.DELIVERED, _SS.CANCELLED},
    _SS.READY_FOR_PICKUP: {_SS.COLLECTED, _SS.CANCELLED},
    _SS.DELIVERED: set(),
    _SS.COLLECTED: set(),
    _SS.CANCELLED: set(),
}
SHIPMENT_DELIVERY_ONLY = {_SS.SHIPPED, _SS.DELIVERED}
SHIPMENT_PICKUP_ONLY = {_SS.READY_FOR_PICKUP, _SS.COLLECTED}
# The goods leave the shop: cash orders' held units are sold (ledger ``sale``) at this step.
SHIPMENT_LEAVES = {_SS.SHIPPED, _SS.COLLECTED}
# Steps that move goods towards the customer: checked against the products' certificates.
SHIPMENT_GOODS_STEPS = {_SS.SHIPPED, _SS.READY_FOR_PICKUP, _SS.COLLECTED}
# Order statuses in which its shipments may be prepared and handed over (a paid order is moved to
# processing by its first shipment step; an unconfirmed cash order must be confirmed first).
ORDER_PREPARING = {OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP}
# Moving a whole order moves its shipments to the matching state (``_shipments_follow``).
ORDER_TO_SHIPMENT = {
    OrderStatus.SHIPPED: _SS.SHIPPED, OrderStatus.DELIVERED: _SS.DELIVERED,
    OrderStatus.READY_FOR_PICKUP: _SS.READY_FOR_PICKUP, OrderStatus.COLLECTED: _SS.COLLECTED,
    OrderStatus.CANCELLED: _SS.CANCELLED, OrderStatus.REFUNDED: _SS.CANCELLED,
}
SHIPMENT_FINISHED = {_SS.DELIVERED, _SS.COLLECTED, _SS.CANCELLED}
# Steps that need the held goods on the shelf (packing them, setting them aside for pick-up); the
# steps where they leave check the same when they are sold (``commit_reservation``).
SHIPMENT_NEEDS_GOODS = {_SS.PACKED, _SS.READY_FOR_PICKUP}
TRACKING_MAX = 80


def _record_shipment(order: Order, shipment: Shipment, to_state: ShipmentState, actor: str, note: str,
                     now: datetime) -> None:
    from_state = shipment.state
    shipment.state = to_state
    if to_state in SHIPMENT_LEAVES:
        shipment.left_at = now
    actor = column_text(actor, OrderEvent.actor, "actor")
    order.events.append(OrderEvent(shipment=shipment, from_status=from_state, to_status=to_state, actor=actor,
                                   note=note))


def _shipments_follow(order: Order, to_status: OrderStatus, actor: str) -> None:
    """After a whole-order step, move each shipment that can take the matching step.

    Cancelling (or refunding) an order cancels its shipments that are not finished, including a
    shipped cash-on-delivery parcel refused at the door; delivered and collected ones stay so.
    """
    target = ORDER_TO_SHIPMENT.get(to_status)
    if target is None:
        return
    now = utcnow()
    for shipment in order.shipments:
        if target == _SS.CANCELLED:
            if shipment.state not in SHIPMENT_FINISHED:
                _record_shipment(order, shipment, target, actor, "", now)
        elif target in SHIPMENT_TRANSITIONS[shipment.state]:
            _record_shipment(order, shipment, target, actor, "", now)


def _order_follows_shipments(order: Order, actor: str, user_id: int | None) -> None:
    """After a shipment's step, move the order when all its shipments (not cancelled) got there.

    Delivery: all shipped (some maybe delivered already) → shipped; all delivered → delivered.
    Pick-up: all ready → ready for pick-up; all collected → collected. Every shipment cancelled
    → the order is cancelled. The order's status is what API v1 ``status`` has always said;
    ``fulfilment_status`` tells the part-way states ("partly shipped").
    """
    active = {s.state for s in order.shipments if s.state != _SS.CANCELLED}
    if not active:
        if OrderStatus.CANCELLED in TRANSITIONS.get(order.status, set()):
            transition(order, OrderStatus.CANCELLED, actor=actor, note="every shipment cancelled", user_id=user_id)
        return
    if order.fulfilment == FulfilmentType.DELIVERY:
        steps = [(OrderStatus.SHIPPED, active <= {_SS.SHIPPED, _SS.DELIVERED}),
                 (OrderStatus.DELIVERED, active == {_SS.DELIVERED})]
    else:
        steps = [(OrderStatus.READY_FOR_PICKUP, active <= {_SS.READY_FOR_PICKUP, _SS.COLLECTED}),
                 (OrderStatus.COLLECTED, active == {_SS.COLLECTED})]
    for status, reached in steps:
        if reached and status in TRANSITIONS.get(order.status, set()):
            # No note: the shipments' own steps just before it in the history tell why.
            transition(order, status, actor=actor, user_id=user_id, _shipments_checked=True)


def _shipment_lapses(order: Order, shipment: Shipment) -> list[str]:
    """``certificate_lapses`` for the products of this shipment only."""
    return certificate_lapses(order, product_ids={r.product_id for r in shipment.reservations})


def get_shipment(shipment_id: int | str | None) -> Shipment:
    """A shipment by its id (as staff type it), or ``NotFound``."""
    number = whole_number(shipment_id, 1)
    shipment = db.session.get(Shipment, number) if number is not None else None
    if shipment is None:
        raise NotFound(_("There is no shipment %(id)s.", id=shipment_id))
    return shipment


def list_shipments(*, shop_id: int | None = None, states: tuple[str, ...] = (), limit: int = 200) -> list[Shipment]:
    """Shipments for a shop's staff to work on, oldest order first (all shops when ``shop_id`` is None).

    ``states`` narrows the list (default: every shipment not finished: to prepare, packed,
    shipped, ready for pick-up).
    """
    wanted = [ShipmentState(s) for s in states] or [s for s in ShipmentState if s not in SHIPMENT_FINISHED]
    query = (select(Shipment).where(Shipment.state.in_(wanted))
             .options(selectinload(Shipment.order).selectinload(Order.lines).selectinload(OrderLine.reservations),
                      selectinload(Shipment.shop))
             .order_by(Shipment.order_id, Shipment.id).limit(limit))
    if shop_id is not None:
        query = query.where(Shipment.shop_id == shop_id)
    return list(db.session.scalars(query))


def move_shipment(shipment: Shipment, to_state: str, *, actor: str, note: str = "", carrier: str = "",
                  tracking_number: str = "", force: bool = False, user_id: int | None = None) -> Shipment:
    """Move one shipment on (pack, ship, deliver, ready for pick-up, collect, cancel). The caller commits.

    The order is locked first, so two shops' staff working on their own shipments of one order run
    one after the other. Rules (DESIGN.md, "Order life cycle"):
    - ``SHIPMENT_TRANSITIONS``; shipped/delivered for delivery orders, ready/collected for pick-up.
    - A shipment is prepared once its order is confirmed (cash) or paid: a paid order moves to
      processing at its first shipment step; an order still waiting raises ``NotAllowed``.
    - Shipped or collected: the goods leave the shop, and a cash order's held units at this shop
      are sold (ledger ``sale``; ``OutOfStock`` if an expired hold's units are gone). Card and
      transfer orders sold theirs at payment.
    - Shipped may record ``carrier`` and ``tracking_number`` (at most 80 characters each).
    - Shipped, ready, collected are refused while a product of this shipment has no valid OCOP
      certificate, unless ``force`` with a ``note`` (as ``transition``).
    - Cancelled: only for cash-on-delivery and pay-at-shop orders (a card or transfer order is
      cancelled or refunded as a whole) and with a ``note``; its units not yet gone go back on the
      shelf. Other shipments going on means the customer pays less: the order is flagged for staff.
    - The order follows when every shipment not cancelled has reached a step
      (``_order_follows_shipments``).
    Raises ``InvalidTransition``, ``NotAllowed``, ``InvalidInput``, ``OutOfStock``.
    """
    to_state = ShipmentState(to_state)
    order = lock_order(shipment.order)
    shipment = next(s for s in order.shipments if s.id == shipment.id)
    if to_state not in SHIPMENT_TRANSITIONS[shipment.state]:
        raise InvalidTransition(_("A shipment that is %(state)s cannot become %(to)s.",
                                  state=shipment.state.label, to=to_state.label))
    if to_state in SHIPMENT_DELIVERY_ONLY and order.fulfilment != FulfilmentType.DELIVERY:
        raise InvalidTransition(_("Only delivery orders can be shipped."))
    if to_state in SHIPMENT_PICKUP_ONLY and order.fulfilment != FulfilmentType.PICKUP:
        raise InvalidTransition(_("Only pick-up orders can be collected at a shop."))
    note = (note or "").strip()
    now = utcnow()
    if to_state == _SS.CANCELLED:
        _cancel_shipment(order, shipment, actor=actor, note=note, user_id=user_id, now=now)
        return shipment
    if order.status == OrderStatus.PAID:
        transition(order, OrderStatus.PROCESSING, actor=actor, note="preparation started", user_id=user_id)
    if order.status not in ORDER_PREPARING:
        raise NotAllowed(_("Order %(number)s is %(status)s: its shipments are prepared once it is confirmed "
                           "or paid.", number=order.number, status=order.shown_status().label))
    lapses: list[str] = []
    if to_state in SHIPMENT_GOODS_STEPS:
        forced = {e.note for e in order.events if e.note.startswith(FORCED_NOTE)}
        lapses = [lapse for lapse in _shipment_lapses(order, shipment) if FORCED_NOTE + lapse not in forced]
        if lapses and not force:
            raise NotAllowed(_("Not certified any more: %(lapses)s. Call the customer first; to go on anyway, "
                               "repeat the command with --force and a --note saying what was agreed.",
                               lapses="; ".join(lapses)), lapses=len(lapses))
        if lapses and not note:
            raise InvalidInput(_("Going on despite a certificate problem needs a note saying why."), field="note")
    if to_state in SHIPMENT_NEEDS_GOODS:
        _check_goods_on_hand(shipment)
    if to_state == _SS.SHIPPED:
        shipment.carrier = _tracking_text(carrier, "carrier") or shipment.carrier
        shipment.tracking_number = _tracking_text(tracking_number, "tracking_number") or shipment.tracking_number
    if to_state in SHIPMENT_LEAVES:
        try:
            _commit_stock(order, [r for r in shipment.reservations], user_id, short_ok=False)
        except OutOfStock as exc:
            raise _stock_gone(exc) from None
    _record_shipment(order, shipment, to_state, actor, note, now)
    for lapse in lapses:
        _note(order, FORCED_NOTE + lapse, actor)
    _order_follows_shipments(order, actor, user_id)
    db.session.flush()
    return shipment


def _check_goods_on_hand(shipment: Shipment) -> None:
    """Refuse a packing or ready-for-pick-up step whose held units are no longer on the shop's
    shelves (written off, counted short, expired or recalled since): ``OutOfStock``. The check is
    the sale's own (``inventory.hold_can_be_met``); units already sold are on their way."""
    short = [r for r in shipment.reservations if not inventory.hold_can_be_met(r)]
    if short:
        lines = ", ".join(f"{r.quantity} × {r.line.product_name if r.line else r.product_id}" for r in short)
        raise OutOfStock(_("The units held for this shipment are no longer on hand: %(lines)s (written off, "
                           "counted short, expired or recalled since the order). Restock the shop, or cancel "
                           "the shipment.", lines=lines), shop_id=shipment.shop_id, product_id=short[0].product_id)


def _tracking_text(value: str | None, field: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > TRACKING_MAX:
        raise InvalidInput(_("At most %(max)s characters.", max=TRACKING_MAX), field=field)
    return value


def _cancel_shipment(order: Order, shipment: Shipment, *, actor: str, note: str, user_id: int | None,
                     now: datetime) -> None:
    if not order.payment_method.paid_at_hand_over:
        raise NotAllowed(_("A card or bank-transfer order is cancelled or refunded as a whole "
                           "(flask order set-status … cancelled, or flask refund)."))
    if not note:
        raise InvalidInput(_("Say in a note why the shipment is cancelled."), field="note")
    if not shipment.left_the_shop:
        for reservation in shipment.reservations:
            inventory.release_reservation(reservation, reference=order.number, user_id=user_id,
                                          note=f"shipment cancelled: {note}")
    _record_shipment(order, shipment, _SS.CANCELLED, actor, note, now)
    if any(s.state != _SS.CANCELLED for s in order.shipments):
        flag(order, f"the shipment from {shipment.shop.name} was cancelled ({note}): the customer pays less "
                    "than the order total; tell the courier or the shop what to collect", actor=actor)
    _order_follows_shipments(order, actor, user_id)
    db.session.flush()


# ---- payment status (the money, apart from the goods) -----------------------------------------

# Statuses after which the shop holds the customer's money (some of it may have gone back since).
MONEY_HELD = {PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}


def _payment_follows(order: Order, to_status: OrderStatus) -> None:
    """Keep ``payment_status`` in step with a status change (DESIGN.md, "payment status").

    Paid: the money arrived (card, transfer). Delivered / collected: a cash order's money was
    taken at the door or the counter. Refunded: everything went back. Cancelled: a payment that was
    pending will not come (money that comes anyway is recorded with ``money_received``).
    """
    if to_status == OrderStatus.PAID:
        order.payment_status = PaymentStatus.PAID
    elif to_status in (OrderStatus.DELIVERED, OrderStatus.COLLECTED) and order.payment_method.paid_at_hand_over:
        if order.payment_status == PaymentStatus.UNPAID:
            order.payment_status = PaymentStatus.PAID
    elif to_status == OrderStatus.REFUNDED:
        order.payment_status = PaymentStatus.REFUNDED
    elif to_status == OrderStatus.CANCELLED and order.payment_status == PaymentStatus.PENDING:
        order.payment_status = PaymentStatus.UNPAID


def money_received(order: Order, *, actor: str, note: str = "", reason: str = "") -> Order:
    """Money arrived for an order that cannot take it the usual way (cancelled, or already paid):
    the payment status says the shop holds it; ``note`` goes in the history and ``reason`` flags
    the order for staff (e.g. "refund it"). For payments that arrive on time use ``transition``
    to paid. The caller commits."""
    order = lock_order(order)
    if order.payment_status not in MONEY_HELD:
        order.payment_status = PaymentStatus.PAID
    if note:
        _note(order, note, actor)
    if reason:
        flag(order, reason, actor=actor)
    db.session.flush()
    return order


def refund_recorded(order: Order, amount: int, *, in_full: bool, note: str, actor: str) -> Order:
    """``amount`` đồng went back to the customer (recorded by ``shop.payments.services.refund``).
    The caller commits. ``Order.amount_refunded`` adds it up.

    In part: the payment status becomes partially refunded and the history says how much. In
    full: refunded; the order itself becomes refunded where its life cycle allows it (paid, being
    prepared, ready for pick-up, delivered, collected), which before hand-over puts its units back
    on the shelf (``transition``); goods that had left come back only with
    ``shop.orders.returns.return_goods``. A cancelled order keeps its status.
    """
    order = lock_order(order)
    order.amount_refunded += amount
    if in_full and OrderStatus.REFUNDED in TRANSITIONS.get(order.status, set()):
        return transition(order, OrderStatus.REFUNDED, actor=actor, note=note)
    order.payment_status = PaymentStatus.REFUNDED if in_full else PaymentStatus.PARTIALLY_REFUNDED
    _note(order, note, actor)
    db.session.flush()
    return order


def cancel_by_customer(order: Order) -> Order:
    """The customer cancels, if the order has not moved on meanwhile.

    The checks run on the order as re-read under its lock: staff or a payment may have moved it
    between the customer opening the page and pressing the button. ``cancel_requested`` is sent
    under that lock: a receiver (shop.payments: a card payment the bank is still processing, so
    money may still arrive) refuses by raising ``NotAllowed``.
    """
    order = lock_order(order)
    if order.status == OrderStatus.CANCELLED:  # a second press, or another tab
        raise NotAllowed(_("This order is already cancelled."))
    if order.status not in CUSTOMER_CANCELLABLE:
        raise NotAllowed(_("This order is already being prepared and can no longer be cancelled online. "
                           "Please call the shop."))
    cancel_requested.send(order)
    return transition(order, OrderStatus.CANCELLED, actor="customer", note="cancelled by the customer")


def confirm_bank_transfer(order: Order, *, actor: str, user_id: int | None = None,
                          note: str = "bank transfer received") -> Order:
    """Staff saw the money arrive: the order is paid and its stock sold.

    The money is a fact, so it is always recorded. On time: paid, stock sold. After the hold
    expired (shown as expired, ``release-expired`` not run yet): the units are checked again under
    lock and sold if still there; if not, the order is paid but flagged for staff (restock or
    refund). For an order already cancelled (by the customer or by ``release-expired``) the
    transfer is recorded and the order flagged for a refund; it is not revived. Other statuses
    raise ``InvalidTransition``; a product no longer certified flags the order (see ``transition``).
    ``note`` (English, for staff) says where the money was seen (a statement line, by hand).
    """
    order = lock_order(order)
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        raise InvalidTransition(_("This order is not paid by bank transfer."))
    if order.status == OrderStatus.CANCELLED:
        return money_received(order, actor=actor, note=note,
                              reason="bank transfer received for a cancelled order: refund it")
    return transition(order, OrderStatus.PAID, actor=actor, note=note, user_id=user_id, short_ok=True)


def confirm_order(order: Order, *, actor: str, note: str = "", force: bool = False,
                  user_id: int | None = None) -> Order:
    """Staff confirmed a cash-on-delivery or pay-at-shop order with the customer ("xác nhận đơn").

    Such orders hold stock only ``COD_CONFIRM_HOURS`` / ``PICKUP_CONFIRM_HOURS`` unconfirmed; this
    moves the order to processing and keeps its stock until hand-over (a late confirmation is
    re-checked under lock). Raises ``InvalidTransition`` for other methods or states, ``OutOfStock``
    when an expired hold's units are gone, ``NotAllowed`` for a product no longer certified.
    """
    order = lock_order(order)
    if not order.payment_method.paid_at_hand_over:
        raise InvalidTransition(_("Only cash-on-delivery and pay-at-shop orders are confirmed this way."))
    if force and not note.strip():  # the default note below must not stand in for the staff's reason
        raise InvalidInput(_("Going on despite a certificate problem needs a note saying why."), field="note")
    return transition(order, OrderStatus.PROCESSING, actor=actor, note=note or "confirmed with the customer",
                      user_id=user_id, force=force)


# Why ``release_expired`` cancelled an order, by the status it was waiting in.
EXPIRY_NOTES = {
    OrderStatus.PENDING_PAYMENT: "payment not received in time; stock released",
    OrderStatus.PLACED: "not confirmed in time; stock released",
    OrderStatus.READY_FOR_PICKUP: "not collected in time; stock released",
}


def release_expired(now: datetime | None = None) -> list[str]:
    """Cancel orders whose hold has expired, releasing their stock. Returns their numbers.

    Unpaid orders past their time to pay, cash-on-delivery and pay-at-shop orders not confirmed in
    time, pay-at-shop orders not collected in time. The held units stop counting the moment the
    hold expires whatever this does; this tidies up the order and its history.
    """
    now = now or utcnow()
    # Card orders get a grace period: Stripe's own expiry event normally cancels them, and a
    # payment made in the last second must not find its order already cancelled by cron.
    card_cutoff = now - timedelta(minutes=current_app.config["CARD_RELEASE_GRACE_MINUTES"])
    orders = db.session.scalars(
        select(Order).where(
            or_(
                and_(Order.status == OrderStatus.PENDING_PAYMENT, Order.payment_method != PaymentMethod.CARD,
                     Order.hold_expires_at <= now),
                and_(Order.status == OrderStatus.PENDING_PAYMENT, Order.payment_method == PaymentMethod.CARD,
                     Order.hold_expires_at <= card_cutoff),
                and_(Order.status.in_((OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP)),
                     Order.payment_method.in_([m for m in PaymentMethod if m.paid_at_hand_over]),
                     Order.hold_expires_at <= now),
            ),
        )
        .order_by(Order.id)
        .options(selectinload(Order.lines).selectinload(OrderLine.reservations))
        .with_for_update(skip_locked=True)
    ).all()
    for order in orders:
        transition(order, OrderStatus.CANCELLED, note=EXPIRY_NOTES[order.status])
    return [o.number for o in orders]


def find_order(number: str | None, token: str | None) -> Order:
    """An order for a customer who holds its private token; otherwise NotFound (never a hint)."""
    if not number or not token or len(number) > 20 or len(token) > 64:
        raise NotFound(_("We could not find that order."))
    order = db.session.scalars(
        select(Order).where(Order.number == number)
        .options(selectinload(Order.lines).selectinload(OrderLine.reservations).selectinload(Reservation.shop),
                 selectinload(Order.events), selectinload(Order.shipments).selectinload(Shipment.shop))
    ).first()
    if order is None or not secrets.compare_digest(order.access_token, token):
        raise NotFound(_("We could not find that order."))
    return order


def get_by_number(number: str) -> Order:
    order = db.session.scalars(select(Order).where(Order.number == number)).first()
    if order is None:
        raise NotFound(_("We could not find that order."))
    return order

