"""``flask shipment …``: each source shop's staff prepare and send their part of orders, until the
back office has screens for it (the same service calls, ``shop.orders.services.move_shipment``).

    flask shipment list [--shop ID] [--state to_prepare …]
    flask shipment pack 12
    flask shipment ship 12 --carrier "Viettel Post" --tracking VTP123456
    flask shipment deliver 12 | ready 12 | collect 12
    flask shipment cancel 12 --note "customer refused at the door"
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from shop.errors import DomainError
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.enums import ShipmentState


def _line(shipment) -> str:
    items = ", ".join(f"{r.quantity} × {r.line.product_slug}" for r in shipment.reservations
                      if r.quantity and r.line is not None)
    tracking = f" [{shipment.carrier} {shipment.tracking_number}]".rstrip() if shipment.tracking_number else ""
    return (f"#{shipment.id} {shipment.order.number} {shipment.shop.name}: {shipment.state}{tracking} — "
            f"{items} (order {shipment.order.shown_status()})")


def shipment_details(shipment) -> list[str]:
    """The lines ``flask order show`` prints for one shipment: its shop, state, carrier and
    tracking number, then one line per order line it carries (quantity × product as sold, the
    product's slug, and whether its units are held, sold or released)."""
    out = [f"  shipment #{shipment.id} from {shipment.shop.name} (shop {shipment.shop_id}): {shipment.state}"
           f" · carrier {shipment.carrier or '—'} · tracking {shipment.tracking_number or '—'}"]
    for reservation in shipment.reservations:
        line = reservation.line
        out.append(f"    {reservation.quantity} × {line.product_name} ({line.product_slug or '—'}) "
                   f"[{reservation.state}]")
    if len(out) == 1:
        out.append("    (no lines)")
    return out


@click.group("shipment")
def shipment_group() -> None:
    """A shop's part of orders: list, pack, ship, deliver, ready, collect, cancel."""


@shipment_group.command("list")
@click.option("--shop", "shop_id", type=click.IntRange(1), default=None, help="Only this shop's shipments (shop id).")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in ShipmentState]),
              help="Only shipments in this state (repeatable; default: every unfinished one).")
@with_appcontext
def list_command(shop_id: int | None, states: tuple[str, ...]) -> None:
    """Shipments to work on, oldest order first, with their lines."""
    rows = orders.list_shipments(shop_id=shop_id, states=states)
    for shipment in rows:
        click.echo(_line(shipment))
    click.echo(f"{len(rows)} shipment(s).")


def _move(shipment_id: str, state: ShipmentState, **kwargs) -> None:
    try:
        shipment = orders.move_shipment(orders.get_shipment(shipment_id), state, **kwargs)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(_line(shipment))
    for warning in orders.staff_warnings(shipment.order):
        click.echo(f"WARNING: {warning}", err=True)


def _step(name: str, state: ShipmentState, help_text: str, tracking: bool = False):
    @click.argument("shipment_id")
    @click.option("--note", default="", help="Shown in the order's history.")
    @click.option("--force", is_flag=True, help="Go on although a product is no longer certified (needs --note).")
    @click.option("--by", "actor", default="staff (cli)")
    @with_appcontext
    def command(shipment_id: str, note: str, force: bool, actor: str, carrier: str = "", tracking: str = "") -> None:
        _move(shipment_id, state, actor=actor, note=note, force=force, carrier=carrier, tracking_number=tracking)

    command.__doc__ = help_text
    if tracking:
        command = click.option("--tracking", default="", help="The carrier's tracking number.")(command)
        command = click.option("--carrier", default="", help="Who carries the parcel.")(command)
    shipment_group.command(name)(command)


_step("pack", ShipmentState.PACKED, "SHIPMENT_ID is packed and waits for the courier or the customer.")
_step("ship", ShipmentState.SHIPPED, "SHIPMENT_ID left with the courier (delivery): its stock is sold now for "
      "cash-on-delivery orders.", tracking=True)
_step("deliver", ShipmentState.DELIVERED, "SHIPMENT_ID reached the customer.")
_step("ready", ShipmentState.READY_FOR_PICKUP, "SHIPMENT_ID waits at the shop for the customer (pick-up).")
_step("collect", ShipmentState.COLLECTED, "The customer collected SHIPMENT_ID: its stock is sold now when paid "
      "at the shop.")
_step("cancel", ShipmentState.CANCELLED, "Cancel SHIPMENT_ID of a cash order (needs --note); its units not yet "
      "gone go back on the shelf.")
