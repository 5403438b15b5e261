"""Flask CLI commands: ``flask seed-demo`` and friends."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the catalogue already has products.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the Bắc Kạn demo catalogue (safe to run again: existing rows are kept)."""
    from sqlalchemy import func, select

    from shop.catalog.models import Product
    from shop.extensions import db
    from shop.seed.demo import seed_demo

    if if_empty and db.session.scalar(select(func.count(Product.id))):
        click.echo("The catalogue already has products: demo seed skipped.")
        return
    summary = seed_demo()
    click.echo(summary)


@click.command("check-ledger")
@with_appcontext
def check_ledger_command() -> None:
    """Fail if any stock level differs from the sum of its ledger rows."""
    from shop.inventory.services import ledger_mismatches

    mismatches = ledger_mismatches()
    for shop_id, product_id, on_hand, total in mismatches:
        click.echo(f"shop {shop_id} product {product_id}: on_hand {on_hand} but ledger says {total}")
    if mismatches:
        raise SystemExit(1)
    click.echo("Stock levels agree with the ledger.")


@click.command("release-expired")
@with_appcontext
def release_expired_command() -> None:
    """Cancel unpaid orders whose stock hold has expired and release their stock."""
    from shop.extensions import db
    from shop.orders.services import release_expired

    numbers = release_expired()
    db.session.commit()
    click.echo(f"Released {len(numbers)} expired order(s){': ' + ', '.join(numbers) if numbers else ''}.")


def init_app(app: Flask) -> None:
    from shop.payments.cli import refund_command

    app.cli.add_command(refund_command)
    app.cli.add_command(release_expired_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(check_ledger_command)
