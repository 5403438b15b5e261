"""The outbox on Redis: one RQ job per message (production, ``REDIS_URL``).

Why RQ (not Celery or Dramatiq): the outbox table is the source of truth (state, tries, back-off,
the claim), so the queue only has to wake a worker up when a message is due. RQ does that with
Redis alone (already required in production for the rate limits), jobs are plain functions, a
delayed job is ``enqueue_in`` (run by the worker's built-in scheduler), and it has no broker
abstraction, beat process or middleware to configure. A job Redis loses (a restart without
persistence) costs nothing but time: ``flask outbox deliver`` from cron sends what is due.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache

from flask import current_app, has_app_context

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _redis(url: str):
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def queue():
    """The RQ queue named ``OUTBOX_QUEUE`` on ``REDIS_URL``."""
    from rq import Queue

    config = current_app.config
    return Queue(config["OUTBOX_QUEUE"], connection=_redis(config["REDIS_URL"]))


def enqueue(ids: list[int]) -> None:
    """One job per row id, to run now. Raises if Redis cannot be reached (the caller logs it)."""
    q = queue()
    for pk in ids:
        q.enqueue(deliver_job, pk, result_ttl=3600, failure_ttl=7 * 24 * 3600)


_app = None


def _app_context():
    """The app context a job runs in: the worker's (``flask outbox worker``), or, under a plain
    ``rq worker``, an app built once per process from the environment (``OCOP_ENV``…)."""
    global _app
    if has_app_context():
        return nullcontext()
    if _app is None:
        from shop import create_app

        _app = create_app()
    return _app.app_context()


def deliver_job(pk: int) -> str:
    """RQ job: one try at row ``pk``. A failed try schedules the next one at its back-off time
    (``enqueue_in``: the worker must run its scheduler, ``--with-scheduler``). Returns the row's
    state after the try, or ``skipped`` (sent, dead, claimed by someone else, or gone)."""
    from shop.extensions import db
    from shop.outbox.enums import OutboxState
    from shop.outbox.models import OutboxMessage
    from shop.outbox.services import deliver_one
    from shop.timeutil import utcnow

    with _app_context():
        outcome = deliver_one(pk)
        retry_at = outcome.retry_at if outcome is not None else None
        if outcome is None:
            # Not claimable: maybe not due yet (a delayed job run a little early); follow it up.
            row = db.session.get(OutboxMessage, pk)
            if row is not None and row.state == OutboxState.PENDING:
                retry_at = row.next_attempt_at
            db.session.remove()
        if retry_at is not None:
            delay = max(timedelta(seconds=1), retry_at - utcnow())
            try:
                queue().enqueue_in(delay, deliver_job, pk, result_ttl=3600, failure_ttl=7 * 24 * 3600)
            except Exception:  # noqa: BLE001 - `outbox deliver` sends it when due
                log.exception("Could not schedule the next try of e-mail %s", pk)
        return str(outcome.state) if outcome is not None else "skipped"
