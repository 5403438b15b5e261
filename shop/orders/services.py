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
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from shop.cart import services as carts
from shop.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound, OutOfStock
from shop.extensions import db
from shop.i18n import current_lang, localized
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.orders.models import Order, OrderEvent, OrderLine
from shop.orders.notifications import status_label
from shop.inputs import column_length, column_text, whole_number
from shop.phone import normalize_phone
from shop.places.services import with_lineage
from shop.shops.models import Shop
from shop.timeutil import VN_TZ, utcnow

# The order life cycle (DESIGN.md). Anything not listed is refused with InvalidTransition.
TRANSITIONS: dict[str, set[str]] = {
    "pending_payment": {"paid", "cancelled"},
    "placed": {"processing", "cancelled"},
    "paid": {"processing", "cancelled", "refunded"},
    "processing": {"shipped", "ready_for_pickup", "cancelled", "refunded"},
    # shipped → cancelled: a cash-on-delivery parcel refused at the door (goods come back with
    # shop.orders.returns.return_goods when the courier brings them).
    "shipped": {"delivered", "cancelled"},
    "ready_for_pickup": {"collected", "cancelled", "refunded"},
    "delivered": {"refunded"},
    "collected": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
}
# Entering these states turns held stock into a sale: payment, or the hand-over for COD/at-shop.
COMMITS_STOCK = {"paid", "shipped", "collected"}
# Statuses in which the goods are still in the shop: leaving them for "cancelled" or "refunded"
# puts held or sold units back (ledger ``release``). Later, goods come back only as returns.
NOT_HANDED_OVER = {"pending_payment", "placed", "paid", "processing", "ready_for_pickup"}
# Paid before hand-over: once such an order is past pending_payment the shop has the money, so it
# is refunded (shop.payments.services.refund), never cancelled.
PREPAID_METHODS = {"card", "bank_transfer"}
CUSTOMER_CANCELLABLE = {"pending_payment", "placed"}
DELIVERY_ONLY = {"shipped", "delivered"}
PICKUP_ONLY = {"ready_for_pickup", "collected"}

PAYMENT_METHODS_BY_FULFILMENT = {
    "delivery": ("cod", "bank_transfer", "card"),
    "pickup": ("pay_at_shop", "bank_transfer", "card"),
}


def card_enabled() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def payment_methods(fulfilment: str) -> tuple[str, ...]:
    """The payment methods offered for a fulfilment type (card only when Stripe is configured)."""
    methods = PAYMENT_METHODS_BY_FULFILMENT.get(fulfilment, ())
    return tuple(m for m in methods if m != "card" or card_enabled())


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
    type: str  # "delivery" or "pickup"
    pickup_shop_id: int | str | None = None
    street: str = ""
    ward: str = ""
    province: str = ""

    def cleaned(self) -> "Fulfilment":
        """The pick-up shop id as an int, or the address lines normalised to fit their columns.

        Raises ``InvalidInput`` with ``field`` = "pickup_shop_id", "fulfilment" or an address field.
        """
        if self.type == "pickup":
            shop_id = whole_number(self.pickup_shop_id, 1)
            if shop_id is None:
                raise InvalidInput(_("Choose the shop where you will collect the order."), field="pickup_shop_id")
            return Fulfilment(type="pickup", pickup_shop_id=shop_id)
        if self.type != "delivery":
            raise InvalidInput(_("Choose delivery or pick-up."), field="fulfilment")
        parts = {key: column_text(getattr(self, key), column, key, min_length=2,
                                  message=_("Please fill in the delivery address."))
                 for key, column in _ADDRESS_COLUMNS.items()}
        return Fulfilment(type="delivery", **parts)


def shipping_fee(fulfilment_type: str, subtotal: int) -> int:
    if fulfilment_type != "delivery":
        return 0
    config = current_app.config
    return 0 if subtotal >= config["FREE_SHIPPING_THRESHOLD"] else config["SHIPPING_FEE"]


def candidate_shops(fulfilment: Fulfilment) -> list[Shop]:
    """Shops that may supply an order: the chosen pick-up shop, or every shop that ships online."""
    if fulfilment.type == "pickup":
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


def _hold_expiry(method: str, now: datetime) -> datetime | None:
    minutes = {"card": current_app.config["CARD_HOLD_MINUTES"],
               "bank_transfer": current_app.config["BANK_TRANSFER_HOLD_MINUTES"]}.get(method)
    return now + timedelta(minutes=minutes) if minutes else None


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

    # Check the pick-up shop before the order row is written: an unknown id must be an
    # InvalidInput, not a foreign-key (or integer range) error from the INSERT.
    shops = candidate_shops(fulfilment)
    now = utcnow()
    subtotal = cart_view.subtotal
    fee = shipping_fee(fulfilment.type, subtotal)
    status = "placed" if payment_method in ("cod", "pay_at_shop") else "pending_payment"
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
    plan = plan_sources(needs, shops, names, allow_split=fulfilment.type == "delivery")
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


def _reservations(order: Order) -> list[Reservation]:
    return [r for line in order.lines for r in line.reservations]


def transition(order: Order, to_status: str, *, actor: str = "system", note: str = "",
               user_id: int | None = None) -> Order:
    """Move an order to ``to_status`` if the life cycle allows it, with its stock side effects.

    The order is re-read under a row lock first, so a customer's cancel, a staff action and a
    payment webhook for the same order run one after the other, each on fresh state.
    """
    order = lock_order(order)
    if to_status not in TRANSITIONS.get(order.status, set()):
        raise InvalidTransition(
            _("An order that is %(status)s cannot become %(to)s.",
              status=status_label(order.status), to=status_label(to_status)))
    if to_status == "cancelled" and order.payment_method in PREPAID_METHODS and order.status != "pending_payment":
        # Cancelling would put the goods back but keep the customer's money.
        raise NotAllowed(_("Order %(number)s is paid: refund it instead of cancelling (flask refund %(number)s); "
                           "a full refund before hand-over also puts its stock back.", number=order.number))
    if to_status in DELIVERY_ONLY and order.fulfilment != "delivery":
        raise InvalidTransition(_("Only delivery orders can be shipped."))
    if to_status in PICKUP_ONLY and order.fulfilment != "pickup":
        raise InvalidTransition(_("Only pick-up orders can be collected at a shop."))
    if to_status in COMMITS_STOCK:
        for reservation in _reservations(order):
            inventory.commit_reservation(reservation, reference=order.number, user_id=user_id)
    if to_status in ("cancelled", "refunded") and order.status in NOT_HANDED_OVER:
        # Cancelled, or refunded before hand-over: the goods never left the shop.
        for reservation in _reservations(order):
            inventory.release_reservation(reservation, reference=order.number, user_id=user_id,
                                          note=note or f"order {to_status}")
    from_status = order.status
    order.status = to_status
    _record(order, from_status, to_status, actor, note)
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
    return transition(order, "cancelled", actor="customer", note="cancelled by the customer")


def confirm_bank_transfer(order: Order, *, actor: str, user_id: int | None = None) -> Order:
    """Staff saw the money arrive: the order is paid and its stock sold."""
    if order.payment_method != "bank_transfer":
        raise InvalidTransition(_("This order is not paid by bank transfer."))
    return transition(order, "paid", actor=actor, note="bank transfer received", user_id=user_id)


def release_expired(now: datetime | None = None) -> list[str]:
    """Cancel unpaid orders whose hold has expired, releasing their stock. Returns their numbers.

    The held units stop counting the moment the hold expires whatever this does; this only
    tidies up the order and its history.
    """
    now = now or utcnow()
    # Card orders get a grace period: Stripe's own expiry event normally cancels them, and a
    # payment made in the last second must not find its order already cancelled by cron.
    card_cutoff = now - timedelta(minutes=current_app.config["CARD_RELEASE_GRACE_MINUTES"])
    orders = db.session.scalars(
        select(Order).where(
            Order.status == "pending_payment",
            or_(and_(Order.payment_method != "card", Order.hold_expires_at <= now),
                and_(Order.payment_method == "card", Order.hold_expires_at <= card_cutoff)),
        )
        .options(selectinload(Order.lines).selectinload(OrderLine.reservations))
        .with_for_update(skip_locked=True)
    ).all()
    for order in orders:
        transition(order, "cancelled", note="payment not received in time; stock released")
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

