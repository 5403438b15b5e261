"""Queueing e-mails in the caller's transaction, and delivering them with retries.

Life of a message (``OutboxMessage``):

1. ``queue_mail`` adds the row to the current session: it is committed with the change that
   caused it, or rolled back with it (a failed checkout leaves no e-mail).
2. When that transaction commits, ``dispatch`` hands the new rows on (``DispatchMode``): a job on
   Redis per row (``REDIS_URL``), or delivery at once in the same process.
3. ``deliver_one`` claims a due row (``claim``), sends it outside any transaction, then records
   the outcome: ``sent``; or, on failure, the next try after an exponential back-off
   (``backoff``); or ``dead`` once the tries are used up (``OUTBOX_MAX_ATTEMPTS`` for temporary
   failures, ``OUTBOX_MAX_PERMANENT_ATTEMPTS`` for 5xx answers), logged as an error.
4. ``deliver_due`` (``flask outbox deliver``, from cron) sends every due row, whatever left it
   behind: a failed try, a job Redis lost, a worker killed mid-send; ``purge_sent`` forgets sent
   rows after ``OUTBOX_KEEP_SENT_DAYS``.

Delivery is at least once: a worker killed after the server accepted a message but before the row
was marked sent sends it again after the lease; the stable ``Message-ID`` lets receivers drop the
copy. Two deliverers never send the same row at the same time (the claim).
"""
from __future__ import annotations

import itertools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from shop.extensions import db
from shop.outbox.enums import DispatchMode, OutboxState
from shop.outbox.models import OutboxMessage
from shop.outbox.transport import DeliveryFailed, send
from shop.timeutil import utcnow

log = logging.getLogger(__name__)

# Keys in ``Session.info`` (one session = one unit of work):
_QUEUED = "outbox.queued"  # ids of rows queued in the open transaction
_READY = "outbox.ready"  # ids whose transaction committed, dispatched when it has ended
_OTHER_WRITES = "outbox.other_writes"  # the open transaction wrote something besides outbox rows


# ---- queueing -----------------------------------------------------------------------------------


def new_message_id() -> str:
    """A ``Message-ID`` (RFC 5322) unique to one row: ``<32 hex digits@domain of MAIL_FROM>``."""
    domain = "ocop.invalid"
    if has_app_context():
        address = parseaddr(current_app.config.get("MAIL_FROM") or "")[1]
        domain = address.rpartition("@")[2] or domain
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_mail(to: str, subject: str, body: str, *, session: Session | None = None) -> OutboxMessage:
    """Add a plain-text e-mail to the outbox in ``session`` (default: ``db.session``) and flush.

    Nothing is sent now: the row is committed or rolled back with the caller's transaction, and
    delivered after the commit (``dispatch``). ``to`` is one address. Returns the row (its
    ``message_id`` is final).
    """
    session = session if session is not None else db.session()
    now = utcnow()
    row = OutboxMessage(message_id=new_message_id(), to_address=to, subject=subject, body=body,
                        state=OutboxState.PENDING, attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    session.info.setdefault(_QUEUED, []).append(row.id)
    return row


def _writes_other_than_outbox(session: Session) -> bool:
    """Does the session hold unflushed changes to anything but outbox rows?"""
    changed = itertools.chain(session.new, session.deleted,
                              (obj for obj in session.dirty if session.is_modified(obj)))
    return any(not isinstance(obj, OutboxMessage) for obj in changed)


@event.listens_for(Session, "before_flush")
def _note_other_writes(session, _flush_context, _instances):
    if not session.info.get(_OTHER_WRITES) and _writes_other_than_outbox(session):
        session.info[_OTHER_WRITES] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.in_nested_transaction():  # a savepoint released: the rows are not committed yet
        return
    session.info.pop(_OTHER_WRITES, None)
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info.setdefault(_READY, []).extend(queued)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    if session.in_nested_transaction():  # rows queued before the savepoint may still commit
        return
    session.info.pop(_OTHER_WRITES, None)
    session.info.pop(_QUEUED, None)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    # Dispatch once the committing transaction has given its connection back: inline delivery
    # opens a session of its own, and must not hold two connections per request.
    if transaction.parent is not None or transaction.nested:
        return
    # Ended without a commit (a rollback, or ``Session.close``): what it queued is gone.
    session.info.pop(_QUEUED, None)
    session.info.pop(_OTHER_WRITES, None)
    ready = session.info.pop(_READY, None)
    if ready and has_app_context():
        dispatch(ready)


def commit_late_mail(exc: BaseException | None = None) -> None:
    """At the end of a request or CLI command: commit mail queued *after* the last commit.

    ``send_mail`` is meant to be called before the commit of the change it reports. Code that
    calls it afterwards (or where nothing else is written, e.g. "forgot my password") would leave
    the row uncommitted, and the session's end would drop it; so if the open transaction holds
    outbox rows and nothing else, it is committed here. If it holds other uncommitted writes, the
    caller chose not to commit them: the mail goes with them, and that is logged.
    """
    if exc is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.info.get(_QUEUED):
        return
    if session.info.get(_OTHER_WRITES) or _writes_other_than_outbox(session):
        log.error("%d queued e-mail(s) dropped: their transaction was never committed",
                  len(session.info[_QUEUED]))
        return
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - the page has been answered; say so, do not fail it
        session.rollback()
        log.exception("Could not commit queued e-mail")


# ---- handing new rows on ------------------------------------------------------------------------


def dispatch_mode() -> DispatchMode:
    """``OUTBOX_DISPATCH`` if set, else RQ when ``REDIS_URL`` is set, else inline."""
    config = current_app.config
    chosen = (config.get("OUTBOX_DISPATCH") or "").strip().lower()
    if chosen:
        return DispatchMode(chosen)
    return DispatchMode.RQ if config.get("REDIS_URL") else DispatchMode.INLINE


def dispatch(ids: list[int]) -> None:
    """Hand rows just committed on: enqueue one job each, or deliver them now. Never raises: a
    row that could not be handed on waits for ``outbox deliver``."""
    try:
        mode = dispatch_mode()
        if mode == DispatchMode.RQ:
            from shop.outbox import jobs

            jobs.enqueue(ids)
        elif mode == DispatchMode.INLINE:
            for pk in ids:
                deliver_one(pk)
    except Exception:  # noqa: BLE001 - the change is committed; its mail waits for the sweeper
        log.exception("Could not hand on queued e-mail %s; `flask outbox deliver` will send it", ids)


# ---- delivering ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one try did: the row's ``state`` after it, ``attempts`` so far, and for a message to
    try again, ``retry_at`` (when)."""

    id: int
    state: OutboxState
    attempts: int
    retry_at: datetime | None = None
    error: str | None = None


@dataclass
class Report:
    """What ``deliver_due`` did: ids sent, to retry later, given up."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: ``OUTBOX_BACKOFF_SECONDS`` doubled per try
    (1, 2, 4… minutes by default), at most ``OUTBOX_BACKOFF_MAX_SECONDS`` (1 hour)."""
    config = current_app.config
    base, ceiling = config["OUTBOX_BACKOFF_SECONDS"], config["OUTBOX_BACKOFF_MAX_SECONDS"]
    return timedelta(seconds=min(ceiling, base * 2 ** min(max(attempts - 1, 0), 30)))


def claim(session: Session, now: datetime, pk: int | None = None) -> OutboxMessage | None:
    """Take one due pending row (the oldest due, or row ``pk`` if it is due) for one try, and commit.

    One statement: ``UPDATE … WHERE id = (SELECT id … FOR UPDATE SKIP LOCKED) RETURNING id``. On
    PostgreSQL a row another deliverer is claiming is skipped, not waited for; SQLite lets one
    writer at a time through, and the second finds the row no longer due. The claim counts the
    try (``attempts + 1``) and moves ``next_attempt_at`` to the end of a lease
    (``OUTBOX_LEASE_SECONDS``), so no one else takes the row while it is being sent, and a
    deliverer that dies mid-send leaves it due again when the lease ends.
    """
    due = (OutboxMessage.state == OutboxState.PENDING) & (OutboxMessage.next_attempt_at <= now)
    candidate = select(OutboxMessage.id).where(due)
    if pk is not None:
        candidate = candidate.where(OutboxMessage.id == pk)
    candidate = candidate.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1)
    candidate = candidate.with_for_update(skip_locked=True).scalar_subquery()
    lease = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    claimed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == candidate, due)
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=lease)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if claimed is None:
        session.rollback()
        return None
    row = session.get(OutboxMessage, claimed, populate_existing=True)
    session.commit()
    return row


def deliver_one(pk: int | None = None, *, now: datetime | None = None) -> Outcome | None:
    """One try: claim a due row (``pk``, or the oldest due), send it, record what happened.

    Returns ``None`` when there was nothing to claim (not due, already sent or dead, being sent
    by someone else, gone). Uses a session of its own, so it can run right after another
    session's commit, in a worker, or from cron. Never raises for a failed send.
    """
    now = now or utcnow()
    with Session(db.engine, expire_on_commit=False) as session:
        row = claim(session, now, pk)
        if row is None:
            return None
        try:
            send(row)
        except DeliveryFailed as failure:
            return _failed(session, row, failure, now)
        except Exception as exc:  # noqa: BLE001 - a bug is a permanent failure, not a lost row
            log.exception("Unexpected error while sending e-mail %s", row.message_id)
            return _failed(session, row, DeliveryFailed(f"{type(exc).__name__}: {exc}"[:1000], True), now)
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            state=OutboxState.SENT, sent_at=utcnow(), last_error=None))
        session.commit()
        return Outcome(row.id, OutboxState.SENT, row.attempts)


def _failed(session: Session, row: OutboxMessage, failure: DeliveryFailed, now: datetime) -> Outcome:
    config = current_app.config
    limit = config["OUTBOX_MAX_PERMANENT_ATTEMPTS"] if failure.permanent else config["OUTBOX_MAX_ATTEMPTS"]
    kind = "permanent" if failure.permanent else "temporary"
    error = f"{kind}: {failure.reason}"[:1000]
    if row.attempts >= limit:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            state=OutboxState.DEAD, last_error=error))
        session.commit()
        log.error("E-mail %s to %s given up after %d tries (first queued %s): %s", row.message_id,
                  row.to_address, row.attempts, row.created_at.isoformat(timespec="seconds"), error)
        return Outcome(row.id, OutboxState.DEAD, row.attempts, error=error)
    retry_at = now + backoff(row.attempts)
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        next_attempt_at=retry_at, last_error=error))
    session.commit()
    log.warning("E-mail %s to %s not sent (try %d of %d), next try at %s: %s", row.message_id,
                row.to_address, row.attempts, limit, retry_at.isoformat(timespec="seconds"), error)
    return Outcome(row.id, OutboxState.PENDING, row.attempts, retry_at=retry_at, error=error)


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> Report:
    """Try every row due at ``now`` once (at most ``limit`` rows), oldest first. Safe to run in
    several processes at once (each row is claimed). ``now`` is for tests."""
    now = now or utcnow()
    report = Report()
    for _ in range(limit):
        outcome = deliver_one(now=now)
        if outcome is None:
            break
        {OutboxState.SENT: report.sent, OutboxState.PENDING: report.retrying,
         OutboxState.DEAD: report.dead}[outcome.state].append(outcome.id)
    return report


def purge_sent(*, now: datetime | None = None) -> int:
    """Delete sent rows older than ``OUTBOX_KEEP_SENT_DAYS`` (their bodies hold order links);
    dead rows stay until someone deals with them. Returns how many were deleted."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["OUTBOX_KEEP_SENT_DAYS"])
    with Session(db.engine) as session:
        deleted = session.execute(delete(OutboxMessage).where(
            OutboxMessage.state == OutboxState.SENT, OutboxMessage.sent_at < cutoff)).rowcount
        session.commit()
    return deleted or 0


def retry(ids: list[int] | None = None, *, now: datetime | None = None) -> int:
    """Give dead rows (``ids``, or all of them) a fresh set of tries, due now. Returns how many."""
    now = now or utcnow()
    with Session(db.engine) as session:
        query = update(OutboxMessage).where(OutboxMessage.state == OutboxState.DEAD)
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        count = session.execute(query.values(state=OutboxState.PENDING, attempts=0, next_attempt_at=now)).rowcount
        session.commit()
    return count or 0


def counts() -> dict[OutboxState, int]:
    """Rows per state, for ``outbox list``."""
    rows = db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    found = {state: 0 for state in OutboxState}
    found.update({OutboxState(state): count for state, count in rows})
    return found
