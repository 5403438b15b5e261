"""One row per e-mail to send: ``OutboxMessage``."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin
from shop.outbox.enums import OutboxState
from shop.timeutil import UTCDateTime, utcnow


class OutboxMessage(CreatedMixin, db.Model):
    """A plain-text e-mail, queued in the transaction of the change that caused it.

    ``message_id`` (``<hex@domain>``) is fixed when the row is written and sent as the
    ``Message-ID`` header on every try, so a receiver that sees a message twice (a worker killed
    after the server accepted it, before the row was marked sent) can drop the copy.
    ``attempts`` counts tries started (a claim counts one); ``next_attempt_at`` is when the next
    try may start (while a try runs it is the end of that try's lease, see ``services.claim``).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        check_in("state", OutboxState, name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The deliverer's question: which pending messages are due, oldest first.
        Index("ix_outbox_message_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(EnumText(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.state} to={self.to_address!r} attempts={self.attempts}>"
