from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from sqlalchemy import Boolean, ForeignKey, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin
from shop.producers.enums import ProducerKind

if TYPE_CHECKING:
    from shop.catalog.models import Product
    from shop.places.models import Locality

# The vocabulary lives in shop/producers/enums.py; the name stays importable from here.
PRODUCER_KINDS = ProducerKind.values()


class Producer(CreatedMixin, db.Model):
    """An OCOP producer (chủ thể OCOP): cooperative, cooperative group, company or household."""

    __tablename__ = "producer"
    __table_args__ = (check_in("kind", ProducerKind, name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProducerKind] = mapped_column(EnumText(ProducerKind), default=ProducerKind.COOPERATIVE)
    locality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("locality.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Stories are Markdown; they are sanitised when rendered (see shop.markup).
    story: Mapped[str] = mapped_column(Text, default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    cover_image: Mapped[Optional[str]] = mapped_column(String(200))
    # Off once an administrator retires the producer (shop.admin.producers): it leaves the public
    # directory and its products are unlisted; nothing that orders or the ledger refer to is deleted.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Set by an administrator: this producer's small text edits (story, product descriptions) are
    # published at once from the portal; otherwise they wait as proposals (shop/portal/proposals.py).
    text_edits_publish: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    locality: Mapped[Optional["Locality"]] = relationship()
    products: Mapped[list["Product"]] = relationship(back_populates="producer", order_by="Product.name")

    def __repr__(self) -> str:
        return f"<Producer {self.slug}>"
