"""Flask CLI commands: ``flask seed-demo`` and friends."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from shop.orders.enums import OrderStatus


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the catalogue already has products.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the Bắc Kạn demo catalogue (safe to run again: existing rows are kept)."""
    from sqlalchemy import func, select

    from shop.catalog.models import Product
    from shop.extensions import db
    from shop.seed.demo import seed_demo
    from shop.seed.loader import DemoDataError

    if if_empty and db.session.scalar(select(func.count(Product.id))):
        click.echo("The catalogue already has products: demo seed skipped.")
        return
    try:
        summary = seed_demo()
    except DemoDataError as exc:  # a malformed data file: nothing was written
        raise click.ClickException(f"demo data not loaded: {exc}") from exc
    click.echo(summary)


@click.command("media-variants")
@with_appcontext
def media_variants_command() -> None:
    """Make the missing WebP copies (srcset sizes) of every picture in the upload folder."""
    from pathlib import Path

    from flask import current_app

    from shop.media import make_all_variants

    written = make_all_variants(Path(current_app.config["UPLOAD_FOLDER"]))
    click.echo(f"{written} picture copies written")


@click.command("check-ledger")
@with_appcontext
def check_ledger_command() -> None:
    """Fail if any stock level (per shop × product or per shop × lot) differs from the sum of its
    ledger rows, or a listing read model
    (stars, availability) from the certificates and holds it is read from."""
    from shop.catalog.listing import read_model_mismatches
    from shop.extensions import db
    from shop.inventory.services import ledger_mismatches, lot_ledger_mismatches

    mismatches = ledger_mismatches()
    for shop_id, product_id, on_hand, total in mismatches:
        click.echo(f"shop {shop_id} product {product_id}: on_hand {on_hand} but ledger says {total}")
    problems = lot_ledger_mismatches() + read_model_mismatches(db.session)
    for problem in problems:
        click.echo(problem)
    if mismatches or problems:
        raise SystemExit(1)
    click.echo("Stock levels agree with the ledger, per product and per lot; listings agree with "
               "certificates and holds.")


@click.command("low-stock")
@click.option("--mail", is_flag=True, help="E-mail each shop's managers its list when it changed (daily cron).")
@with_appcontext
def low_stock_command(mail: bool) -> None:
    """List what runs low in each shop (at or below its threshold); with --mail, e-mail each shop's
    managers its list, only when products joined or left it since the last e-mail."""
    from sqlalchemy import select

    from shop.extensions import db
    from shop.inventory.services import running_low
    from shop.shops.models import Shop

    for shop in db.session.scalars(select(Shop).where(Shop.active.is_(True)).order_by(Shop.slug)):
        for level in running_low(shop.id):
            click.echo(f"{shop.slug}  {level.product.slug}  {level.on_hand} (low at {level.low_stock_threshold})")
    if mail:
        from shop.staff.alerts import send_low_stock_mail

        mailed = send_low_stock_mail()
        for shop, to in mailed:
            click.echo(f"mailed {shop.slug} to {', '.join(to)}")
        if not mailed:
            click.echo("nothing changed: nothing to mail")


@click.command("release-expired")
@with_appcontext
def release_expired_command() -> None:
    """Cancel orders whose stock hold has expired (unpaid, unconfirmed, not collected) and release
    their stock; flag open orders holding a product that is no longer certified. Run it from cron."""
    from shop.extensions import db
    from shop.orders.services import flag_certificate_lapses, release_expired

    numbers = release_expired()
    flagged = flag_certificate_lapses()
    db.session.commit()
    click.echo(f"Released {len(numbers)} expired order(s){': ' + ', '.join(numbers) if numbers else ''}.")
    if flagged:
        click.echo(f"Flagged {len(flagged)} order(s) with a product no longer certified: {', '.join(flagged)}.")


@click.group("order")
def order_group() -> None:
    """Staff actions on orders until the back office has screens for them."""


def _echo_order(order) -> None:
    """The order's shown status, then every warning staff must read (stderr, so scripts see them)."""
    shown = order.shown_status()
    click.echo(f"{order.number}: {shown}" + (f" (stored: {order.status})" if shown != order.status else ""))
    _echo_warnings(order)


def _echo_warnings(order) -> None:
    """Every warning staff must read about ``order`` (stderr, so scripts see them)."""
    from shop.orders.services import staff_warnings

    for warning in staff_warnings(order):
        click.echo(f"WARNING: {warning}", err=True)


def _run_order_action(number: str, action) -> None:
    from shop.errors import DomainError
    from shop.extensions import db
    from shop.orders.services import get_by_number

    try:
        order = action(get_by_number(number))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    _echo_order(order)


@order_group.command("show")
@click.argument("number")
@with_appcontext
def show_command(number: str) -> None:
    """Status, payment and fulfilment of NUMBER, each of its shipments (shop, state, carrier,
    tracking number, lines), then flags and warnings (expired hold, products no longer certified).

    \b
    OC-2026-000001: shipped
      payment: paid (bank_transfer) · refunded 0 ₫ · total 330.000 ₫
      goods: partly_shipped · state: open · delivery
      shipment #3 from Cửa hàng Bắc (shop 1): shipped · carrier VNPost · tracking EB1VN
        2 × Gạo Nếp Tài Ba Bể (gao-nep-tai) [committed]
    """
    from shop.errors import DomainError
    from shop.money import format_vnd
    from shop.orders.cli import shipment_details
    from shop.orders.services import get_by_number

    try:
        order = get_by_number(number)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    shown = order.shown_status()
    click.echo(f"{order.number}: {shown}" + (f" (stored: {order.status})" if shown != order.status else ""))
    click.echo(f"  payment: {order.payment_status} ({order.payment_method}) · refunded "
               f"{format_vnd(order.amount_refunded)} · total {format_vnd(order.total)}")
    click.echo(f"  goods: {order.fulfilment_status} · state: {order.state} · {order.fulfilment}")
    for shipment in order.shipments:
        for line in shipment_details(shipment):
            click.echo(line)
    if not order.shipments:
        click.echo("  no shipments")
    _echo_warnings(order)


@order_group.command("flagged")
@with_appcontext
def flagged_command() -> None:
    """List orders flagged for staff, with the reasons."""
    from sqlalchemy import select

    from shop.extensions import db
    from shop.orders.models import Order

    rows = db.session.scalars(select(Order).where(Order.needs_review.is_(True)).order_by(Order.id)).all()
    for order in rows:
        click.echo(f"{order.number} ({order.shown_status()}): {order.review_reason}")
    click.echo(f"{len(rows)} flagged order(s).")


@order_group.command("resolve")
@click.argument("number")
@click.option("--note", required=True, help="What was done (refunded, restocked, customer agreed…).")
@click.option("--by", "actor", default="staff (cli)")
@with_appcontext
def resolve_command(number: str, note: str, actor: str) -> None:
    """Clear the staff flag of NUMBER once its reasons have been dealt with."""
    from shop.orders.services import resolve_flag

    _run_order_action(number, lambda order: resolve_flag(order, note=note, actor=actor))


@order_group.command("confirm-transfer")
@click.argument("number")
@click.option("--by", "actor", default="staff (cli)", help="Who saw the money arrive.")
@with_appcontext
def confirm_transfer_command(number: str, actor: str) -> None:
    """The bank transfer for NUMBER arrived: mark it paid and sell its held stock.

    A transfer after the hold expired is re-checked (sold if the units are still there, otherwise
    the order is flagged); one for a cancelled order is recorded and flagged for a refund.
    """
    from shop.orders.services import confirm_bank_transfer

    _run_order_action(number, lambda order: confirm_bank_transfer(order, actor=actor))


@order_group.command("confirm-cod")
@click.argument("number")
@click.option("--note", default="", help="Shown in the order's history.")
@click.option("--force", is_flag=True, help="Go on although a product is no longer certified (needs --note).")
@click.option("--by", "actor", default="staff (cli)", help="Who spoke to the customer.")
@with_appcontext
def confirm_cod_command(number: str, note: str, force: bool, actor: str) -> None:
    """The customer confirmed cash-on-delivery (or pay-at-shop) order NUMBER on the phone:
    it moves to processing and its stock stays held until hand-over."""
    from shop.orders.services import confirm_order

    _run_order_action(number, lambda order: confirm_order(order, actor=actor, note=note, force=force))


def _staff_statuses() -> tuple[str, ...]:
    from shop.orders.services import STAFF_STATUSES

    return tuple(s.value for s in STAFF_STATUSES)  # click shows member names for enums


STAFF_STATUSES = _staff_statuses()


@order_group.command("set-status")
@click.argument("number")
@click.argument("status", type=click.Choice(STAFF_STATUSES))
@click.option("--note", default="", help="Shown in the order's history.")
@click.option("--force", is_flag=True, help="Go on although a product is no longer certified (needs --note).")
@click.option("--by", "actor", default="staff (cli)")
@with_appcontext
def set_status_command(number: str, status: str, note: str, force: bool, actor: str) -> None:
    """Move NUMBER to STATUS. Payments are not touched: money goes back only with `flask refund`.

    A paid order cannot be cancelled (the service refuses): refund it instead. A cash-on-delivery
    parcel refused at the door can be cancelled once shipped; record the goods with
    `flask order return-goods` when they are back.
    """
    from shop.orders.services import transition

    _run_order_action(number, lambda order: transition(order, status, actor=actor, note=note, force=force))
    if status == OrderStatus.CANCELLED:
        from shop.orders.services import get_by_number
        from shop.payments.services import close_open_sessions  # the CLI loads areas when a command runs

        close_open_sessions(get_by_number(number))  # after the commit: a cancelled order cannot be paid


@order_group.command("return-goods")
@click.argument("number")
@click.argument("items", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every unit of the order that is still out.")
@click.option("--note", default="", help="Why (shown in the order's history and the stock ledger).")
@click.option("--by", "actor", default="staff (cli)")
@with_appcontext
def return_goods_command(number: str, items: tuple[str, ...], everything: bool, note: str, actor: str) -> None:
    """Goods of NUMBER came back: put them on the shelf of the shop that sold them.

    ITEMS are PRODUCT_SLUG=UNITS (or PRODUCT_SLUG for all its units still out), e.g.
    `flask order return-goods OC-2026-000123 mien-dong-tai-hoan=1`; or give --all. Money is
    refunded separately with `flask refund`.
    """
    from shop.errors import DomainError
    from shop.extensions import db
    from shop.orders.returns import return_goods, returnable
    from shop.orders.services import get_by_number

    if everything == bool(items):
        raise click.UsageError("Give the goods that came back (PRODUCT_SLUG=UNITS …) or --all, not both.")
    try:
        order = get_by_number(number.strip())
        quantities = None
        if items:
            out = returnable(order)
            by_slug = {line.product_slug: line for line in order.lines}
            quantities = {}
            for item in items:
                slug, _sep, units = item.partition("=")
                line = by_slug.get(slug.strip())
                if line is None:
                    raise click.BadParameter(f"{slug!r} is not a product of {order.number} "
                                             f"(its products: {', '.join(sorted(by_slug))}).", param_hint="ITEMS")
                if units:
                    if not units.isascii() or not units.isdigit() or len(units) > 6:
                        raise click.BadParameter(f"{item!r}: UNITS is a whole number.", param_hint="ITEMS")
                    quantities[line.id] = int(units)
                else:
                    quantities[line.id] = sum(q for _r, q in out.get(line.id, [])) or 0
        done = return_goods(order, quantities, actor=actor, note=note)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    for row in done:
        click.echo(f"{row.quantity} × {row.line.product_name} back at shop {row.shop_id}.")
    click.echo(f"{order.number}: {order.status}")


@click.group("search")
def search_group() -> None:
    """The search's vocabulary (issue 16)."""


@search_group.command("rebuild-terms")
def rebuild_terms_command() -> None:
    """Rebuild the vocabulary typos are looked up in (``search_term``) from every product's text.

    Needed only after products were written around the ORM (bulk SQL); words no product uses any
    more leave the vocabulary here.
    """
    from shop.catalog.search import rebuild_terms
    from shop.extensions import db

    count = rebuild_terms()
    db.session.commit()
    click.echo(f"{count} words in the search vocabulary.")


def init_app(app: Flask) -> None:
    app.cli.add_command(order_group)
    app.cli.add_command(search_group)
    from shop.orders.cli import shipment_group

    app.cli.add_command(shipment_group)
    from shop.payments.cli import payments_review_command, refund_command

    app.cli.add_command(refund_command)
    app.cli.add_command(payments_review_command)
    app.cli.add_command(release_expired_command)
    app.cli.add_command(low_stock_command)
    app.cli.add_command(seed_demo_command)
    from shop.admin.cli import certificates_group

    app.cli.add_command(certificates_group)
    app.cli.add_command(media_variants_command)
    app.cli.add_command(check_ledger_command)
    from shop.inventory.cli import lot_group

    app.cli.add_command(lot_group)
    from shop.outbox.cli import outbox_group

    app.cli.add_command(outbox_group)
    from shop.accounts.cli import users_cli

    app.cli.add_command(users_cli)
    from shop.portal.cli import portal_group

    app.cli.add_command(portal_group)
