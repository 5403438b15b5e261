from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from sqlalchemy import Boolean, ForeignKey, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.shops.enums import ShopKind

if TYPE_CHECKING:
    from shop.places.models import Locality

# The vocabulary lives in shop/shops/enums.py; the name stays importable from here.
SHOP_KINDS = ShopKind.values()


class Shop(db.Model):
    """A physical OCOP outlet (or warehouse) that holds stock."""

    __tablename__ = "shop"
    __table_args__ = (check_in("kind", ShopKind, name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ShopKind] = mapped_column(EnumText(ShopKind), default=ShopKind.SHOP)
    address: Mapped[str] = mapped_column(String(300), default="")
    locality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("locality.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    opening_hours_en: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[Optional[float]] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Optional[float]] = mapped_column(Numeric(9, 6))
    offers_pickup: Mapped[bool] = mapped_column(Boolean, default=True)
    ships_online: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff workspace settings (issue 13): the manager's choice that clerks count blind (the count
    # sheet hides what the books say), and the low-stock list last e-mailed to the managers
    # (SHA-256 of its product ids and units; the daily e-mail goes only when it changes).
    blind_count: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    low_stock_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")

    locality: Mapped[Optional["Locality"]] = relationship()

    @property
    def map_url(self) -> str | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (
            "https://www.openstreetmap.org/?mlat={0}&mlon={1}#map=17/{0}/{1}".format(
                self.latitude, self.longitude
            )
        )

    def __repr__(self) -> str:
        return f"<Shop {self.slug}>"
