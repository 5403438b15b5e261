from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.timeutil import UTCDateTime, utcnow

PRODUCER_KINDS = ("cooperative", "cooperative_group", "company", "household", "other")


class Producer(db.Model):
    """An OCOP producer (chủ thể OCOP): cooperative, cooperative group, company or household."""

    __tablename__ = "producer"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="cooperative")
    locality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("locality.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Stories are Markdown; they are sanitised when rendered (see shop.markup).
    story: Mapped[str] = mapped_column(Text, default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    cover_image: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    locality = relationship("Locality")
    products = relationship("Product", back_populates="producer", order_by="Product.name")

    def __repr__(self) -> str:
        return f"<Producer {self.slug}>"
