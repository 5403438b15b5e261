"""The producer portal's records: a product's photos, and producers' proposals.

``ProductPhoto``: one stored picture of a product (a JPEG re-encoded by ``shop.portal.photos``),
in the order the producer chose; the first one is the product's picture (``Product.image``, kept in
step by the photo services). ``Proposal``: a change a producer asks for — a price, other fields of
a listed product, a description, the story, or a new product — until an administrator approves or
rejects it, the producer withdraws it, or a newer proposal for the same field replaces it.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin
from shop.portal.enums import ProposalKind, ProposalState
from shop.timeutil import UTCDateTime

if TYPE_CHECKING:
    from shop.accounts.models import User
    from shop.catalog.models import Product
    from shop.producers.models import Producer


class ProductPhoto(CreatedMixin, db.Model):
    __tablename__ = "product_photo"
    __table_args__ = (Index("ix_product_photo_product_position", "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    # Relative to the upload folder (``photos/<product slug>-<random>.jpg``), like ``Product.image``.
    path: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    product: Mapped["Product"] = relationship()


class Proposal(CreatedMixin, db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        check_in("kind", ProposalKind, name="kind_known"),
        check_in("state", ProposalState, name="state_known"),
        Index("ix_proposal_producer_state", "producer_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"))
    # The product changed (None for the story, and for a new product until it is approved: then the
    # product created).
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("product.id"), index=True)
    kind: Mapped[ProposalKind] = mapped_column(EnumText(ProposalKind))
    # {field: proposed value} and {field: value when proposed} (JSON-ready: text and whole numbers).
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[ProposalState] = mapped_column(EnumText(ProposalState), default=ProposalState.PENDING, index=True)
    proposed_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # The administrator's note with an approval or a rejection (shown to the producer).
    note: Mapped[str] = mapped_column(Text, default="")
    superseded_by: Mapped[Optional[int]] = mapped_column(ForeignKey("proposal.id"))

    producer: Mapped["Producer"] = relationship()
    product: Mapped[Optional["Product"]] = relationship()
    proposer: Mapped[Optional["User"]] = relationship(foreign_keys=[proposed_by])
    decider: Mapped[Optional["User"]] = relationship(foreign_keys=[decided_by])
