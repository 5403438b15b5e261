"""Orders: where they are born (``place_order``) and the only place their status changes.

Placing an order snapshots the cart's lines at live prices, computes totals on the server,
chooses source shops and holds their stock, all in the caller's one transaction. Nothing here
talks to the outside world: emails and payment providers are called after the commit.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import selectinload

from shop.cart import services as carts
from shop.errors import CustomerLimit, InvalidInput, InvalidTransition, NotAllowed, NotFound, OutOfStock
from shop.extensions import db
from shop.i18n import current_lang, localized
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod
from shop.orders.models import Order, OrderEvent, OrderLine
from shop.inputs import column_length, column_text, whole_number
from shop.phone import normalize_phone
from shop.places.services import with_lineage
from shop.shops.models import Shop
from shop.timeutil import VN_TZ, utcnow

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
_ADDRESS_COLUMNS = {"street": Order.address_street, "ward": Order.address_ward, "province": Order.address_province}
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

        Raises ``InvalidInput`` with ``field`` = "name", "phone" or "email".
        """
        name = column_text(self.name, Order.customer_name, "name", min_length=2,
                           message=_("Please enter your name."))
        email = column_text(self.email, Order.email, "email")
        try:
            # The normalised address can be longer than what was typed (IDNA maps "ﬀ" to "ff"):
            # measure the result against the column, not the input.
            email = column_text(validate_email(email, check_deliverability=False).normalized, Order.email, "email")
        except (EmailNotValidError, InvalidInput):
            raise InvalidInput(_("Please enter a valid email address (at most %(n)d characters).",
                                 n=column_length(Order.email)), field="email") from None
        phone = column_text(normalize_phone(self.phone), Order.phone, "phone")
        return Customer(name=name, phone=phone, email=email)


@dataclass
class Fulfilment:
    type: str  # a FulfilmentType value
    pickup_shop_id: int | str | None = None
    street: str = ""
    ward: str = ""
    province: str = ""

    def cleaned(self) -> "Fulfilment":
        """The pick-up shop id as an int, or the address lines normalised to fit their columns.

        Raises ``InvalidInput`` with ``field`` = "pickup_shop_id", "fulfilment" or an address field.
        """
        if self.type == FulfilmentType.PICKUP:
            shop_id = whole_number(self.pickup_shop_id, 1)
            if shop_id is None:
                raise InvalidInput(_("Choose the shop where you will collect the order."), field="pickup_shop_id")
            return Fulfilment(type=FulfilmentType.PICKUP, pickup_shop_id=shop_id)
        if self.type != FulfilmentType.DELIVERY:
            raise InvalidInput(_("Choose delivery or pick-up."), field="fulfilment")
        parts = {key: column_text(getattr(self, key), column, key, min_length=2,
                                  message=_("Please fill in the delivery address."))
                 for key, column in _ADDRESS_COLUMNS.items()}
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


def place_order(cart_token: str | None, customer: Customer, fulfilment: Fulfilment,
                payment_method: str, *, actor: str = "customer", user_id: int | None = None) -> Order:
    """Turn a cart into an order with its stock held. The caller commits.

    The cart is read under its row lock and must pass ``carts.ensure_ready`` (the very rules the
    cart page shows: quantity limit, sellable, availability, accepted prices). Afterwards the cart
    has no lines and points at the order (``Cart.order_id``).

    Raises ``carts.CartOrdered`` (the cart already became an order: show that one),
    ``InvalidInput`` (bad details, empty cart, a line's problem), ``OutOfStock``.
    """
    cart = carts.find_cart(cart_token)
    if cart is not None:
        cart = carts.lock_cart(cart)  # a second click waits here, then finds the cart ordered
        carts.ensure_open(cart)  # CartOrdered: the caller shows that order (idempotent checkout)
    customer = customer.cleaned()
    fulfilment = fulfilment.cleaned()
    if payment_method not in payment_methods(fulfilment.type):
        raise InvalidInput(_("That payment method is not available for this order."), field="payment_method")
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
        payment_method=payment_method, subtotal=subtotal, shipping_fee=fee, total=subtotal + fee,
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

    _record(order, None, status, actor, "")
    # The cart keeps no lines but remembers its order: submitting it again shows this order.
    cart.items.clear()
    cart.order = order
    db.session.flush()
    return order


def lock_order(order: Order) -> Order:
    """The order with its lines and holds re-read under a row lock (``FOR UPDATE`` on PostgreSQL)."""
    if order.id is None:
        return order
    db.session.flush()  # the reload below must not drop a caller's unsaved changes
    return db.session.scalars(
        select(Order).where(Order.id == order.id).with_for_update()
        .options(selectinload(Order.lines).selectinload(OrderLine.reservations))
        .execution_options(populate_existing=True)
    ).one()


def _record(order: Order, from_status: str | None, to_status: str, actor: str, note: str) -> None:
    actor = column_text(actor, OrderEvent.actor, "actor")  # staff type it (``--by``)
    order.events.append(OrderEvent(from_status=from_status, to_status=to_status, actor=actor, note=note))


def _note(order: Order, note: str, actor: str = "system") -> None:
    """A line in the order's history that is not a status change."""
    _record(order, order.status, order.status, actor, note)


def _reservations(order: Order) -> list[Reservation]:
    return [r for line in order.lines for r in line.reservations]


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


def certificate_lapses(order: Order, on=None) -> list[str]:
    """One sentence (English, for staff) per product of the order that has no valid OCOP
    certificate ``on`` that day (today in Vietnam by default): revoked, expired or withdrawn.

    Computed from the certificates as they are now, so a revocation or an expiry shows up on
    every open order at once, with no job needed. Lines whose product was deleted are skipped.
    """
    lapses: list[str] = []
    seen: set[int] = set()
    for line in order.lines:
        product = line.product
        if product is None or product.id in seen or product.valid_certificate(on) is not None:
            continue
        seen.add(product.id)
        cert = product.latest_certificate
        if cert is None:
            lapses.append(f"{line.product_name} has no OCOP certificate")
            continue
        state = cert.public_status(on)
        when = {"revoked": f" on {cert.revoked_on.isoformat()}" if cert.revoked_on else "",
                "expired": f" on {cert.expires_on.isoformat()}"}.get(state, "")  # vocabulary: certificate
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
    return OutOfStock(_("The stock held for this order is no longer there: its hold expired and the units "
                        "went to other orders. Restock it, or cancel or refund the order."), **exc.details)


def transition(order: Order, to_status: str, *, actor: str = "system", note: str = "",
               user_id: int | None = None, force: bool = False, short_ok: bool = False) -> Order:
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
    lapses = certificate_lapses(order) if to_status in GOODS_STEPS or to_status == OrderStatus.PAID else []
    if to_status in GOODS_STEPS:
        forced = {e.note for e in order.events if e.note.startswith(FORCED_NOTE)}
        lapses = [lapse for lapse in lapses if FORCED_NOTE + lapse not in forced]
        if lapses and not force:
            raise NotAllowed(_("Not certified any more: %(lapses)s. Call the customer first; to go on anyway, "
                               "repeat the command with --force and a --note saying what was agreed.",
                               lapses="; ".join(lapses)), lapses=len(lapses))
        if lapses and not note.strip():
            raise InvalidInput(_("Going on despite a certificate problem needs a note saying why."), field="note")

    reservations = _reservations(order)
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
    if to_status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and order.status in NOT_HANDED_OVER:
        # Cancelled, or refunded before hand-over: the goods never left the shop.
        for reservation in reservations:
            inventory.release_reservation(reservation, reference=order.number, user_id=user_id,
                                          note=note or f"order {to_status}")

    hold_at = order.hold_expires_at
    from_status = order.status
    order.status = to_status
    if to_status == OrderStatus.READY_FOR_PICKUP and order.payment_method.paid_at_hand_over:
        order.hold_expires_at = now + timedelta(days=current_app.config["PICKUP_COLLECT_DAYS"])
    elif to_status in COMMITS_STOCK or to_status in GOODS_STEPS:
        order.hold_expires_at = None  # nothing waits on a deadline any more
    _record(order, from_status, to_status, actor, note)
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


def cancel_by_customer(order: Order, *, payment_pending: Callable[[Order], bool] | None = None) -> Order:
    """The customer cancels, if the order has not moved on meanwhile.

    The checks run on the order as re-read under its lock: staff or a payment may have moved it
    between the customer opening the page and pressing the button. ``payment_pending`` (given by
    the caller for card orders) says whether money may still arrive, in which case we refuse.
    """
    order = lock_order(order)
    if order.status not in CUSTOMER_CANCELLABLE:
        raise NotAllowed(_("This order is already being prepared and can no longer be cancelled online. "
                           "Please call the shop."))
    if payment_pending is not None and payment_pending(order):
        raise NotAllowed(_("Your bank is still processing the card payment. Please wait for the result "
                           "or contact us to cancel."))
    return transition(order, OrderStatus.CANCELLED, actor="customer", note="cancelled by the customer")


def confirm_bank_transfer(order: Order, *, actor: str, user_id: int | None = None) -> Order:
    """Staff saw the money arrive: the order is paid and its stock sold.

    The money is a fact, so it is always recorded. On time: paid, stock sold. After the hold
    expired (shown as expired, ``release-expired`` not run yet): the units are checked again under
    lock and sold if still there; if not, the order is paid but flagged for staff (restock or
    refund). For an order already cancelled (by the customer or by ``release-expired``) the
    transfer is recorded and the order flagged for a refund; it is not revived. Other statuses
    raise ``InvalidTransition``; a product no longer certified flags the order (see ``transition``).
    """
    order = lock_order(order)
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        raise InvalidTransition(_("This order is not paid by bank transfer."))
    if order.status == OrderStatus.CANCELLED:
        _note(order, "bank transfer received", actor)
        flag(order, "bank transfer received for a cancelled order: refund it", actor=actor)
        db.session.flush()
        return order
    return transition(order, OrderStatus.PAID, actor=actor, note="bank transfer received", user_id=user_id,
                      short_ok=True)


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
                 selectinload(Order.events))
    ).first()
    if order is None or not secrets.compare_digest(order.access_token, token):
        raise NotFound(_("We could not find that order."))
    return order


def get_by_number(number: str) -> Order:
    order = db.session.scalars(select(Order).where(Order.number == number)).first()
    if order is None:
        raise NotFound(_("We could not find that order."))
    return order

