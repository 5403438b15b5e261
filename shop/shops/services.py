"""Reading the physical OCOP outlets for the public pages."""
from __future__ import annotations

from sqlalchemy import select

from shop.extensions import db
from shop.places.services import with_lineage
from shop.shops.enums import ShopKind
from shop.shops.models import Shop


def public_shops(limit: int | None = None) -> list[Shop]:
    """Active outlets that visitors can walk into (not warehouses), by name: one query.

    Localities are loaded with their parents and successors so that ``place_label`` needs no
    further queries.
    """
    stmt = (
        select(Shop)
        .where(Shop.active.is_(True), Shop.kind == ShopKind.SHOP)
        .options(*with_lineage(Shop.locality))
        .order_by(Shop.name, Shop.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt).unique())


def set_blind_count(shop_id: int, blind: bool) -> Shop:
    """The manager's choice for a shop's shelf counts: ``blind`` makes clerks count without seeing
    what the books say (``/staff/shops/<shop>/count``). The caller commits."""
    from shop.extensions import db

    shop = db.session.get(Shop, shop_id)
    shop.blind_count = bool(blind)
    db.session.flush()
    return shop
