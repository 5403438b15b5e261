"""The audit history of administrators' changes (DESIGN.md, "AuditEntry"): who, when, which
object, what was done, and the changed fields before and after. Rows are written by the services
of ``shop.admin.records`` and ``shop.catalog.certificates`` and never change."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.admin.enums import AuditAction, AuditObject
from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin


class AuditEntry(CreatedMixin, db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        check_in("object_type", AuditObject, name="object_type_known"),
        check_in("action", AuditAction, name="action_known"),
        Index("ix_audit_entry_object", "object_type", "object_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The signed-in administrator (filled from the request when the service did not say); the
    # readable ``actor`` stays even if the account is closed later. CLI runs leave user_id empty.
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    object_type: Mapped[AuditObject] = mapped_column(EnumText(AuditObject))
    object_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[AuditAction] = mapped_column(EnumText(AuditAction))
    # {field: value} of the fields that changed, JSON-ready (dates as ISO text).
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
