"""``flask refund ORDER_NUMBER [AMOUNT]``: refund an order in full or in part, whatever it was paid with."""
from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext


def parse_amount_option(raw: str | None, param_hint: str = "AMOUNT") -> int | None:
    """A typed amount through the shop's one parser (``shop.money.parse_vnd``); click's error if refused."""
    from shop.errors import InvalidInput
    from shop.money import parse_vnd

    if raw is None:
        return None
    try:
        return parse_vnd(raw)
    except InvalidInput as exc:
        raise click.BadParameter(exc.message, param_hint=param_hint) from None


@click.command("refund")
@click.argument("order_number")
@click.argument("amount", required=False)
@click.option("--reference", default=None,
              help="Bank transfer: the reference of the transfer that sent the money back (required). "
                   "Cash: a receipt number (optional). Card: not used (Stripe gives one).")
@click.option("--note", "--reason", "note", default="", help="Why (kept with the refund).")
@click.option("--actor", "--by", "actor", default=None, help="Who refunds (default: cli:<your user name>).")
@with_appcontext
def refund_command(order_number: str, amount: str | None, reference: str | None, note: str,
                   actor: str | None) -> None:
    """Refund ORDER_NUMBER: all that is left, or AMOUNT đồng (250000, 250.000, "250.000 ₫").

    Card payments are refunded through Stripe. Bank transfers and cash are sent back by staff
    first; this records it (bank transfers with --reference). A full refund before hand-over
    puts the order's stock back; goods that had left come back with `flask order return-goods`.
    """
    from shop.errors import DomainError
    from shop.extensions import db
    from shop.money import format_vnd
    from shop.orders.services import get_by_number
    from shop.payments.services import refund

    value = parse_amount_option(amount)
    try:
        order = get_by_number(order_number.strip())
        row = refund(order, value, actor=actor or f"cli:{getpass.getuser()}", reason=note, reference=reference)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    payment = row.payment
    click.echo(f"Refund {row.provider_reference or '(no reference)'} of {format_vnd(row.amount)} for "
               f"{order.number}: {row.status}. Refunded so far {format_vnd(payment.amount_refunded)} of "
               f"{format_vnd(payment.amount_received or 0)}; order is {order.status}.")


@click.command("payments-review")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, help="Most rows of each kind to list.")
@with_appcontext
def payments_review_command(limit: int) -> None:
    """List what staff must look at: flagged payments and signed Stripe events the shop could not use.

    A flagged payment stays listed until staff clear ``needs_review`` after dealing with it (refund,
    restock); unusable events are a record (the shop changed nothing for them): compare them with
    the Stripe Dashboard's event of the same id.
    """
    from shop.money import format_vnd
    from shop.payments.services import payments_to_review, unusable_events

    flagged = payments_to_review(limit)
    events = unusable_events(limit)
    for payment in flagged:
        click.echo(f"payment {payment.id} of {payment.order.number} ({payment.provider}, {payment.status}, "
                   f"{format_vnd(payment.amount_received or payment.amount)}): {payment.review_reason}")
    for event in events:
        click.echo(f"event {event.event_id} ({event.type}, {event.received_at:%Y-%m-%d %H:%M} UTC): {event.outcome}")
    if not flagged and not events:
        click.echo("Nothing to review.")
