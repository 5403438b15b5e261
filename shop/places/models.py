from __future__ import annotations

from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.places.enums import PlaceKind


class Locality(db.Model):
    """A province, district, commune, ward or town.

    The hierarchy is free (province → district → commune before 1/7/2025, province → commune
    after) because the map changed; ``successor`` points at the unit a place was merged into, so
    products keep their origin as certified and are still found by today's names.
    """

    __tablename__ = "locality"
    __table_args__ = (check_in("kind", PlaceKind, name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[PlaceKind] = mapped_column(EnumText(PlaceKind))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("locality.id"), index=True)
    successor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("locality.id"))

    parent: Mapped[Optional["Locality"]] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list["Locality"]] = relationship(
        foreign_keys=[parent_id], back_populates="parent"
    )
    successor: Mapped[Optional["Locality"]] = relationship(remote_side=[id], foreign_keys=[successor_id])

    def lineage(self) -> list["Locality"]:
        """This place and its ancestors, nearest first."""
        chain, node, seen = [], self, set()
        while node is not None and id(node) not in seen:  # by object: unsaved places have no id
            seen.add(id(node))
            chain.append(node)
            node = node.parent
        return chain

    def current_unit(self) -> "Locality | None":
        """The unit this place belongs to today, if it or a place above it was merged since
        (Côn Minh → Na Rì → Bắc Kạn, merged into Thái Nguyên → Thái Nguyên); None if unchanged.

        The nearest merged place in the lineage decides; a chain of mergers is followed to its end.
        """
        merged = next((place for place in self.lineage() if place.successor is not None), None)
        if merged is None:
            return None
        node, seen = merged.successor, {id(merged)}
        while node.successor is not None and id(node.successor) not in seen | {id(node)}:
            seen.add(id(node))
            node = node.successor
        return node

    @property
    def full_name(self) -> str:
        return ", ".join(place.name for place in self.lineage())

    def __repr__(self) -> str:
        return f"<Locality {self.slug}>"
