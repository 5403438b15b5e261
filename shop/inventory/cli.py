"""``flask --app wsgi lot …``: lots, recalls and the "to withdraw" list until staff screens exist.

Each command calls the same service the back office will call (shop/inventory/services.py and
recalls.py), commits on success, and prints a refusal (nothing changed) on a domain error.
Products and shops are named by slug, lots by their code; dates as 2026-12-31 or 31/12/2026.
"""
from __future__ import annotations

import re
from datetime import date

import click
from flask.cli import with_appcontext

from shop.timeutil import VN_TZ

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_VN = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_day(text: str | None) -> date | None:
    """``2026-12-31`` or ``31/12/2026`` (as printed on Vietnamese labels); ``BadParameter`` otherwise."""
    if text is None or text == "":
        return None
    iso, vn = _ISO.match(text.strip()), _VN.match(text.strip())
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if vn:
            return date(int(vn[3]), int(vn[2]), int(vn[1]))
    except ValueError:
        pass
    raise click.BadParameter(f"{text!r} is not a date: write 2026-12-31 or 31/12/2026.")


def _product(slug: str):
    from sqlalchemy import select

    from shop.catalog.models import Product
    from shop.extensions import db

    product = db.session.scalar(select(Product).where(Product.slug == slug[:160]))
    if product is None:
        raise click.ClickException(f"No product {slug!r} (give its slug, as in /products/<slug>).")
    return product


def _shop(slug: str):
    from sqlalchemy import select

    from shop.extensions import db
    from shop.shops.models import Shop

    shop = db.session.scalar(select(Shop).where(Shop.slug == slug[:160]))
    if shop is None:
        raise click.ClickException(f"No shop {slug!r} (give its slug).")
    return shop


def _lot(product, code: str):
    from shop.errors import DomainError
    from shop.inventory.services import find_lot

    try:
        return find_lot(product.id, code)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


def _run(action):
    """Run a service call, commit, return its result; a domain error rolls back and is printed."""
    from shop.errors import DomainError
    from shop.extensions import db

    try:
        result = action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    return result


def _day(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


@click.group("lot")
def lot_group() -> None:
    """Lots and best-before dates: receive, list, recall, buyers, withdraw."""


@lot_group.command("list")
@click.argument("product_slug")
@with_appcontext
def list_command(product_slug: str) -> None:
    """Every lot of a product: code, production and best-before dates, state, units per shop."""
    from sqlalchemy import select

    from shop.extensions import db
    from shop.inventory.models import Lot, LotStock
    from shop.inventory.services import fefo_order, lot_state
    from shop.shops.models import Shop

    product = _product(product_slug)
    lots = db.session.scalars(select(Lot).where(Lot.product_id == product.id).order_by(*fefo_order())).all()
    for lot in lots:
        units = db.session.execute(
            select(Shop.slug, LotStock.on_hand).join(Shop, Shop.id == LotStock.shop_id)
            .where(LotStock.lot_id == lot.id, LotStock.on_hand > 0).order_by(Shop.slug)).all()
        where = ", ".join(f"{slug} {n}" for slug, n in units) or "none on hand"
        click.echo(f"{lot.code}: NSX {_day(lot.produced_on)}, HSD {_day(lot.best_before)}, "
                   f"{lot_state(lot)}; {where}")
    click.echo(f"{len(lots)} lot(s) of {product.name}.")


@lot_group.command("create")
@click.argument("product_slug")
@click.option("--code", default=None, help="The producer's lot code (generated when left out).")
@click.option("--produced", default=None, help="Production date (NSX).")
@click.option("--best-before", default=None, help="Best-before date (HSD); leave out for crafts.")
@click.option("--note", default="")
@with_appcontext
def create_command(product_slug: str, code: str | None, produced: str | None, best_before: str | None,
                   note: str) -> None:
    """Record a new lot of a product (before receiving it at shops)."""
    from shop.inventory.services import create_lot

    product = _product(product_slug)
    produced_on, best = parse_day(produced), parse_day(best_before)
    lot = _run(lambda: create_lot(product.id, code, produced_on=produced_on, best_before=best, note=note))
    click.echo(f"Lot {lot.code} of {product.name}: NSX {_day(lot.produced_on)}, HSD {_day(lot.best_before)}.")


@lot_group.command("receive")
@click.argument("shop_slug")
@click.argument("product_slug")
@click.argument("lot_code")
@click.argument("quantity", type=click.IntRange(1, 100_000))
@click.option("--note", default="")
@with_appcontext
def receive_command(shop_slug: str, product_slug: str, lot_code: str, quantity: int, note: str) -> None:
    """QUANTITY units of lot LOT_CODE arrive at a shop (ledger ``receive``)."""
    from shop.inventory.services import receive

    shop, product = _shop(shop_slug), _product(product_slug)
    lot = _lot(product, lot_code)
    _run(lambda: receive(shop.id, product.id, quantity, lot_id=lot.id, note=note))
    click.echo(f"Received {quantity} × {product.name}, lot {lot.code}, at {shop.name}.")


@lot_group.command("recall")
@click.argument("product_slug")
@click.argument("lot_code")
@click.option("--reason", required=True, help="Why (e.g. the food-safety finding).")
@click.option("--reference", default=None, help="The decision or notice ordering the recall.")
@click.option("--by", "actor", default="staff (cli)")
@with_appcontext
def recall_command(product_slug: str, lot_code: str, reason: str, reference: str | None, actor: str) -> None:
    """Recall a lot: off sale everywhere at once; open orders it concerns are flagged."""
    from shop.inventory.recalls import buyers, recall_lot

    product = _product(product_slug)
    lot = _lot(product, lot_code)
    result = _run(lambda: recall_lot(lot.id, reason, reference=reference, actor=actor))
    click.echo(f"Lot {lot.code} of {product.name} recalled: it is off sale in every shop.")
    if result.flagged:
        click.echo(f"Flagged {len(result.flagged)} open order(s) for staff: {', '.join(result.flagged)}.")
    for shop_id, units in result.on_shelves:
        click.echo(f"To withdraw: {units} unit(s) at shop {shop_id} (flask --app wsgi lot to-withdraw).")
    click.echo(f"{len(buyers(lot.id))} order(s) received units of this lot "
               f"(flask --app wsgi lot buyers {product.slug} {lot.code} --csv -).")


@lot_group.command("buyers")
@click.argument("product_slug")
@click.argument("lot_code")
@click.option("--csv", "csv_path", default=None, help="Write CSV to this file ('-': to the screen).")
@with_appcontext
def buyers_command(product_slug: str, lot_code: str, csv_path: str | None) -> None:
    """Every order and customer that received units of a lot (for a call or an email)."""
    from shop.inventory.recalls import buyers, buyers_csv

    lot = _lot(_product(product_slug), lot_code)
    if csv_path:
        text = buyers_csv(lot.id)
        if csv_path == "-":
            click.echo(text, nl=False)
        else:
            with open(csv_path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            click.echo(f"Wrote {len(text.splitlines()) - 1} row(s) to {csv_path}.")
        return
    rows = buyers(lot.id)
    for b in rows:
        back = f", {b.returned} returned" if b.returned else ""
        click.echo(f"{b.order_number} ({b.status}, {b.ordered_at.astimezone(VN_TZ):%d/%m/%Y}): "
                   f"{b.customer_name}, {b.phone}, {b.email}: {b.units} unit(s) from shop {b.shop_id}{back}")
    click.echo(f"{len(rows)} order(s) received units of lot {lot.code}.")


@lot_group.command("to-withdraw")
@click.option("--shop", "shop_slug", default=None, help="One shop (slug); all shops when left out.")
@click.option("--short-dated", is_flag=True, help="Also lots inside the online margin (counter only).")
@with_appcontext
def to_withdraw_command(shop_slug: str | None, short_dated: bool) -> None:
    """Per shop, the units of recalled or expired lots still on the shelves."""
    from sqlalchemy import select

    from shop.extensions import db
    from shop.inventory.recalls import to_withdraw
    from shop.shops.models import Shop

    shop_id = _shop(shop_slug).id if shop_slug else None
    rows = to_withdraw(shop_id, short_dated=short_dated)
    names = dict(db.session.execute(select(Shop.id, Shop.slug)).all())
    for row in rows:
        click.echo(f"{names.get(row.shop_id)}: {row.units} × {row.lot.product.name}, lot {row.lot.code}, "
                   f"HSD {_day(row.lot.best_before)}: {row.state}")
    click.echo(f"{len(rows)} lot(s) to take off the shelves." if not short_dated
               else f"{len(rows)} lot(s) to take off the shelves or sell at the counter.")


@lot_group.command("withdraw")
@click.argument("shop_slug")
@click.argument("product_slug")
@click.argument("lot_code")
@click.option("--qty", type=click.IntRange(1, 100_000), default=None, help="Units taken off (all when left out).")
@click.option("--note", default="")
@with_appcontext
def withdraw_command(shop_slug: str, product_slug: str, lot_code: str, qty: int | None, note: str) -> None:
    """Units of a recalled or expired lot were taken off a shop's shelf (ledger ``recall`` / ``write_off``)."""
    from shop.inventory.recalls import withdraw

    shop, product = _shop(shop_slug), _product(product_slug)
    lot = _lot(product, lot_code)
    movement = _run(lambda: withdraw(shop.id, lot.id, qty, note=note))
    if movement is None:
        click.echo(f"{shop.name} has no units of lot {lot.code}.")
    else:
        click.echo(f"{-movement.delta} unit(s) of lot {lot.code} taken off at {shop.name} ({movement.reason}).")


@lot_group.command("history")
@click.argument("product_slug")
@click.argument("lot_code")
@with_appcontext
def history_command(product_slug: str, lot_code: str) -> None:
    """The lot's ledger rows and its recall, oldest first."""
    from shop.inventory.recalls import lot_history

    lot = _lot(_product(product_slug), lot_code)
    for when, what, shop_id, units, note in lot_history(lot.id):
        where = f" at shop {shop_id}" if shop_id else ""
        click.echo(f"{when.astimezone(VN_TZ):%d/%m/%Y %H:%M} {what}{where} {units:+d} {note}".rstrip())
