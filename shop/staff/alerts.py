"""E-mail to the shops' staff (issue 13), through the outbox (``shop.mail.send_mail``):

- the new-order e-mail: when an order is placed, each shop that supplies part of it is told (its
  active staff, managers and clerks: a shop has no mailbox of its own), with the lines it must
  prepare and a link to the shipment page; queued in the order's transaction, so it goes out only
  if the order is committed;
- the daily low-stock e-mail to each shop's managers (``flask low-stock --mail``, from cron), only
  when the list of products running low changed since the last one sent (``Shop.low_stock_digest``).

Staff e-mails are written in Vietnamese, the workspace's default language.
"""
from __future__ import annotations

import hashlib

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.enums import ShopRole
from shop.accounts.models import Membership, User
from shop.extensions import db
from shop.i18n import language
from shop.inventory import services as inventory
from shop.mail import send_mail
from shop.money import format_vnd
from shop.orders.models import Order
from shop.phone import display_phone
from shop.shops.models import Shop

STAFF_LANG = "vi"


def _link(endpoint: str, **values) -> str:
    """An absolute link for an e-mail: ``PUBLIC_BASE_URL`` + path when set, else the request's
    host; "" from a command without either (the e-mail is still useful without it)."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    try:
        if base:
            return base + url_for(endpoint, **values)
        return url_for(endpoint, **values, _external=True)
    except RuntimeError:
        return ""


def staff_emails(shop_id: int, *, managers_only: bool = False) -> list[str]:
    """E-mail addresses of a shop's active staff (or only its managers), in the order they joined."""
    query = (select(User).join(Membership, Membership.user_id == User.id)
             .where(Membership.shop_id == shop_id).order_by(Membership.id))
    if managers_only:
        query = query.where(Membership.shop_role == ShopRole.MANAGER)
    return [u.email for u in db.session.scalars(query) if u.is_active]


def send_new_order_mail(order: Order) -> list[str]:
    """Queue the new-order e-mail to the staff of every shop supplying ``order`` (placed and
    flushed, not committed: the e-mail is committed with it). Returns the addresses written to.
    Needs a request context (or ``SERVER_NAME``) for the link to the shipment page."""
    sent: list[str] = []
    for shipment in order.shipments:
        to = staff_emails(shipment.shop_id)
        if not to:
            continue
        shop = shipment.shop
        with language(STAFF_LANG):
            subject = _("New order %(number)s for %(shop)s", number=order.number, shop=shop.name)
            lines = [f"- {r.quantity} × {r.line.product_name}" for r in shipment.reservations if r.line is not None]
            body = "\n".join([
                _("A new order is waiting at %(shop)s.", shop=shop.name),
                "",
                _("Order: %(number)s", number=order.number),
                _("Customer: %(name)s, %(phone)s", name=order.customer_name, phone=display_phone(order.phone)),
                _("Payment: %(method)s, total %(total)s", method=order.payment_method.label,
                  total=format_vnd(order.total)),
                order.fulfilment.label,
                "",
                *lines,
                "",
                _link("staff.shipment", slug=shop.slug, number=order.number),
                "",
                current_app.config["SHOP_NAME"],
            ]) + "\n"
        for address in to:
            send_mail(address, subject, body)
        sent += to
    return sent


def _digest(levels) -> str:
    return hashlib.sha256(",".join(str(lv.product_id) for lv in sorted(levels, key=lambda lv: lv.product_id))
                          .encode()).hexdigest() if levels else ""


def send_low_stock_mail() -> list[tuple[Shop, list[str]]]:
    """Queue each active shop's low-stock list to its managers when the list changed; commits.

    The list is the products at or below their threshold (``inventory.running_low``); it "changed"
    when a product joined or left it since the last e-mail (units going down within the list do not
    count: that would be a mail after every sale). An empty list sends nothing and clears the
    record, so a product running low again is reported again. A shop without an active manager is
    skipped and its record kept as it was, so the list goes out once someone manages it. Returns
    the shops mailed with their addresses. Run daily from cron: ``flask low-stock --mail``.
    """
    mailed: list[tuple[Shop, list[str]]] = []
    for shop in db.session.scalars(select(Shop).where(Shop.active.is_(True)).order_by(Shop.id)).all():
        levels = inventory.running_low(shop.id)
        digest = _digest(levels)
        if digest == shop.low_stock_digest:
            continue
        if not levels:
            shop.low_stock_digest = ""
            continue
        to = staff_emails(shop.id, managers_only=True)
        if not to:
            continue
        with language(STAFF_LANG):
            subject = _("Running low at %(shop)s: %(n)d product(s)", shop=shop.name, n=len(levels))
            body = "\n".join([
                _("These products are at or below their low-stock threshold at %(shop)s:", shop=shop.name),
                "",
                *[_("- %(product)s: %(units)d left (low at %(threshold)d)", product=lv.product.name,
                    units=lv.on_hand, threshold=lv.low_stock_threshold) for lv in levels],
                "",
                _link("staff.stock", slug=shop.slug),
                "",
                current_app.config["SHOP_NAME"],
            ]) + "\n"
        for address in to:
            send_mail(address, subject, body)
        shop.low_stock_digest = digest
        mailed.append((shop, to))
    db.session.commit()
    return mailed
