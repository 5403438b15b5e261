"""Messages to customers about their orders, and the labels shared with the order pages.

The confirmation is queued by the views that place an order, before they commit it
(``send_mail`` writes into the outbox, shop/outbox/): the order and its e-mail are committed
together or not at all, and the e-mail is delivered afterwards, with retries. Emails are written in the language the order
was placed in (``Order.lang``), whatever the language of the request that sends them; pages use
the labels below in the page language.
"""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from shop.i18n import language, localized
from shop.mail import send_mail
from shop.money import format_vnd
from shop.orders.enums import FulfilmentType, OrderStatus, PaymentMethod
from shop.orders.models import Order
from shop.payments.transfer import transfer_instructions
from shop.phone import display_phone
from shop.places.services import address_label
from shop.template_helpers import format_date

# ---- what the customer reads about an order (also template globals, see shop/orders/views.py) --
# Labels of coded values live with their enums (shop/orders/enums.py): ``OrderStatus.label_of(…)``.


def expired_message(order: Order) -> str:
    """Why an order shows as expired (``Order.shown_status``), for the customer."""
    time = format_date(order.hold_expires_at) if order.hold_expires_at else ""
    if order.status == OrderStatus.PLACED:
        return _("We could not confirm this order with you by %(time)s, so it has expired and its products "
                 "are back on sale. You are welcome to order again.", time=time)
    if order.status == OrderStatus.READY_FOR_PICKUP:
        return _("This order was not collected by %(time)s, so it has expired and its products are back on "
                 "sale.", time=time)
    return _("The time to pay for this order ran out at %(time)s, so it has expired and its products are "
             "back on sale. You are welcome to order again.", time=time)


def event_note_label(note: str | None) -> str:
    """Services write their notes in English for staff; show customers the page-language version.

    Notes meant for staff only (a payment flagged for review, refund details from Stripe) are
    replaced by a short customer-facing sentence.
    """
    note = note or ""
    known = {
        "cancelled by the customer": _("cancelled by the customer"),
        "order cancelled": _("order cancelled"),
        "bank transfer received": _("bank transfer received"),
        "payment not received in time; stock released": _("payment not received in time; the order was cancelled"),
        "card payment received": _("card payment received"),
        "card payment is being processed by the bank": _("card payment is being processed by the bank"),
        "card payment failed; stock released": _("card payment failed; the order was cancelled"),
        "refunded before hand-over": _("refunded"),
        "not confirmed in time; stock released": _("not confirmed in time; the order was cancelled"),
        "not collected in time; stock released": _("not collected in time; the order was cancelled"),
        "confirmed with the customer": _("confirmed with the customer"),
    }
    if note in known:
        return known[note]
    if note.startswith("the hold had expired"):
        return _("received after the deadline; availability was checked again")
    if note.startswith(("flagged for staff", "went on despite", "flag resolved")):
        return _("our staff are checking this order")
    if note.startswith("payment flagged for staff"):
        return _("our staff are checking this payment")
    if note.startswith("refund"):
        return _("a refund was recorded")
    if note.startswith("goods returned"):
        return _("the returned goods have arrived back at the shop")
    return note


# ---- the confirmation email -----------------------------------------------------------------


def order_url(order: Order) -> str:
    """The private order page; for an order placed in English, the link opens the page in English."""
    lang = order.lang if order.lang and order.lang != current_app.config["BABEL_DEFAULT_LOCALE"] else None
    return url_for("orders.detail", number=order.number, token=order.access_token, lang=lang, _external=True)


def payment_instructions(order: Order) -> list[str]:
    """The payment paragraph of the confirmation email, one string per line (order's language)."""
    amount = format_vnd(order.total)
    confirm = []
    if order.payment_method.paid_at_hand_over and order.status == OrderStatus.PLACED and order.hold_expires_at:
        confirm = [_("We will call %(phone)s to confirm this order. An order we cannot confirm by %(time)s is "
                     "cancelled and its products are released.", phone=display_phone(order.phone),
                     time=format_date(order.hold_expires_at))]
    if order.payment_method == PaymentMethod.COD:
        return [_("Please pay %(amount)s in cash to the courier when the parcel arrives.", amount=amount), *confirm]
    if order.payment_method == PaymentMethod.PAY_AT_SHOP:
        return [_("Please pay %(amount)s at the shop when you collect your order. "
                  "We will let you know when it is ready.", amount=amount), *confirm]
    transfer = transfer_instructions(order)
    if transfer is not None:
        lines = [
            _("Please transfer %(amount)s to:", amount=format_vnd(transfer.amount)),
            "  " + _("Bank: %(bank)s", bank=transfer.bank_name),
            "  " + _("Account number: %(account)s", account=transfer.account),
            "  " + _("Account holder: %(holder)s", holder=transfer.account_name),
            "  " + _("Transfer description: %(reference)s", reference=transfer.reference),
        ]
        if transfer.expires_at:
            lines.append(_("Please pay before %(time)s, or the order is cancelled.",
                           time=format_date(transfer.expires_at)))
        lines.append(_("Your order page shows a VietQR code that your banking app can scan."))
        return lines
    if order.payment_method == PaymentMethod.CARD:
        return [_("Please complete the card payment on your order page.")]
    return []


def confirmation_text(order: Order) -> tuple[str, str]:
    """(subject, body) of the order confirmation, in the order's language (``order.lang``).

    Product names, units and the pick-up shop's opening hours are the English ones in an English
    email when they were translated, else the Vietnamese ones (``shop.i18n.localized``).
    """
    with language(order.lang):
        return _confirmation_text(order)


def _confirmation_text(order: Order) -> tuple[str, str]:
    config = current_app.config
    subject = _("Your order %(number)s at %(shop)s", number=order.number, shop=config["SHOP_NAME"])
    out = [
        _("Hello %(name)s,", name=order.customer_name),
        "",
        _("Thank you for your order at %(shop)s.", shop=config["SHOP_NAME"]),
        "",
        _("Order number: %(number)s", number=order.number),
        _("Placed on: %(date)s", date=format_date(order.created_at)),
        _("Status: %(status)s", status=OrderStatus.label_of(order.status)),
        _("Payment status: %(status)s", status=order.payment_status.label),
        _("Goods: %(status)s", status=order.fulfilment_status.label),
        "",
        _("Items:"),
    ]
    for line in order.lines:
        unit_text = localized(line, "unit")
        unit = f" ({unit_text})" if unit_text else ""
        out.append(f"- {localized(line, 'product_name')}{unit}: {line.quantity} × {format_vnd(line.unit_price)}"
                   f" = {format_vnd(line.line_total)}")
    out += [
        "",
        _("Subtotal: %(amount)s", amount=format_vnd(order.subtotal)),
        _("Shipping: %(amount)s", amount=format_vnd(order.shipping_fee) if order.shipping_fee else _("free")),
        _("Total: %(amount)s", amount=format_vnd(order.total)),
        "",
    ]
    if order.fulfilment == FulfilmentType.PICKUP and order.pickup_shop is not None:
        shop = order.pickup_shop
        out.append(_("Pick up at: %(shop)s, %(address)s", shop=shop.name,
                     address=address_label(shop.address, shop.locality)))
        if shop.phone:
            out.append(_("Shop phone: %(phone)s", phone=display_phone(shop.phone)))
        hours = localized(shop, "opening_hours")
        if hours:
            out.append(_("Opening hours: %(hours)s", hours=hours.replace("\n", "; ")))
    else:
        out.append(_("Delivery to: %(address)s", address=order.address))
    out.append(_("We will call you at %(phone)s if needed.", phone=display_phone(order.phone)))
    out += ["", _("Payment: %(method)s", method=order.payment_method.label)]
    out += payment_instructions(order)
    out += [
        "",
        _("Follow your order (keep this link to yourself: anyone with it can see and cancel the order):"),
        order_url(order),
        "",
        config["SHOP_NAME"],
    ]
    return subject, "\n".join(out) + "\n"


def send_order_confirmation(order: Order) -> None:
    """Queue the confirmation of ``order`` (just placed, flushed, not yet committed) in the current
    transaction, and the new-order e-mail to the staff of each shop supplying it
    (``shop.staff.alerts.send_new_order_mail``). Needs a request context (or ``SERVER_NAME``) for
    the links."""
    from shop.staff.alerts import send_new_order_mail

    subject, body = confirmation_text(order)
    send_mail(order.email, subject, body)
    send_new_order_mail(order)
