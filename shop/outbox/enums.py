"""The outbox's vocabulary: where one queued e-mail stands (``OutboxMessage.state``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class OutboxState(LabelledEnum):
    """pending: waiting for its first or next try (``next_attempt_at``); sent: accepted by the SMTP
    server (or written to the log when ``MAIL_SERVER`` is unset); dead: given up after too many
    failed tries (``last_error`` says why). Only ``outbox retry`` brings a dead message back."""

    PENDING = "pending", _l("Waiting to be sent")
    SENT = "sent", _l("Sent")
    DEAD = "dead", _l("Given up")


class DispatchMode(LabelledEnum):
    """What happens to new messages once their transaction commits (``OUTBOX_DISPATCH``).

    rq: a job per message on Redis (``REDIS_URL``), run by ``outbox worker`` or ``rq worker``;
    inline: delivered at once in the process that committed (the embedded default: no Redis);
    sweeper: nothing at once, ``outbox deliver`` (cron) or ``outbox worker`` sends them.
    """

    RQ = "rq", _l("Redis queue (RQ)")
    INLINE = "inline", _l("At once, in the same process")
    SWEEPER = "sweeper", _l("By the sweeper only")
