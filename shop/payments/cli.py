"""``flask refund ORDER_NUMBER [AMOUNT]``: refund a card payment in full or in part."""
from __future__ import annotations

import getpass
import re

import click
from flask.cli import with_appcontext


def _parse_amount(raw: str | None) -> int | None:
    """Whole đồng; thousands separators and a trailing ₫/đ/VND are allowed ("50.000", "50,000 ₫")."""
    if raw is None:
        return None
    cleaned = re.sub(r"(?i)\s*(₫|đ|vnd)$", "", raw.strip())
    cleaned = re.sub(r"[.,_\s]", "", cleaned)
    if not cleaned.isdigit() or len(cleaned) > 12:
        raise click.BadParameter("give the amount in whole đồng, e.g. 50000", param_hint="AMOUNT")
    return int(cleaned)


@click.command("refund")
@click.argument("order_number")
@click.argument("amount", required=False)
@click.option("--reason", default="", help="Why (kept with the refund).")
@click.option("--actor", default=None, help="Who asks for it (default: cli:<your user name>).")
@with_appcontext
def refund_command(order_number: str, amount: str | None, reason: str, actor: str | None) -> None:
    """Refund ORDER_NUMBER's card payment: all that is left, or AMOUNT đồng."""
    from shop.errors import DomainError
    from shop.extensions import db
    from shop.money import format_vnd
    from shop.orders.services import get_by_number
    from shop.payments.services import refund

    value = _parse_amount(amount)
    try:
        order = get_by_number(order_number.strip())
        row = refund(order, value, actor=actor or f"cli:{getpass.getuser()}", reason=reason)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    payment = row.payment
    click.echo(f"Refund {row.provider_reference or '(pending)'} of {format_vnd(row.amount)} for {order.number}: "
               f"{row.status}. Refunded so far {format_vnd(payment.amount_refunded)} of "
               f"{format_vnd(payment.amount_received or 0)}; order is {order.status}.")
