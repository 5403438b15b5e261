"""``flask outbox …``: deliver what is due (cron), list messages, run a worker, retry dead ones."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from shop.outbox.enums import DispatchMode, OutboxState


@click.group("outbox")
def outbox_group() -> None:
    """E-mails waiting to be sent, sent, or given up (the outbox)."""


@outbox_group.command("deliver")
@click.option("--limit", default=500, show_default=True, help="Most messages to try in this run.")
@with_appcontext
def deliver_command(limit: int) -> None:
    """Send every message that is due (first tries, retries, jobs Redis lost), then delete sent
    messages older than OUTBOX_KEEP_SENT_DAYS. Run it from cron every minute or few."""
    from shop.outbox import services

    report = services.deliver_due(limit=limit)
    purged = services.purge_sent()
    click.echo(f"Sent {len(report.sent)}, to retry later {len(report.retrying)}, given up {len(report.dead)}; "
               f"{purged} old sent message(s) deleted.")


@outbox_group.command("list")
@click.option("--state", type=click.Choice(OutboxState.values()), help="Only messages in this state.")
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_command(state: str | None, limit: int) -> None:
    """The latest messages: id, state, tries, recipient, subject, next try or sent time, last error."""
    from sqlalchemy import select

    from shop.extensions import db
    from shop.outbox import services
    from shop.outbox.models import OutboxMessage

    totals = services.counts()
    click.echo(", ".join(f"{s.value} {totals[s]}" for s in OutboxState))
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state:
        query = query.where(OutboxMessage.state == OutboxState(state))
    for row in db.session.scalars(query):
        when = (f"sent {row.sent_at:%Y-%m-%d %H:%M}" if row.state == OutboxState.SENT
                else f"next {row.next_attempt_at:%Y-%m-%d %H:%M:%S}" if row.state == OutboxState.PENDING else "")
        click.echo(f"#{row.id} {row.state.value:<7} tries {row.attempts:<2} {row.to_address} | {row.subject} | "
                   f"{when} {row.message_id}")
        if row.last_error:
            click.echo(f"    last error: {row.last_error}")


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Every message that was given up.")
@with_appcontext
def retry_command(ids: tuple[int, ...], all_dead: bool) -> None:
    """Give messages that were given up (dead) a fresh set of tries, now."""
    from shop.outbox import services

    if not ids and not all_dead:
        raise click.UsageError("name the messages (ids from `outbox list --state dead`) or pass --all-dead")
    count = services.retry(None if all_dead else list(ids))
    click.echo(f"{count} message(s) will be tried again; `outbox deliver` or the worker sends them.")


@outbox_group.command("worker")
@click.option("--interval", default=10, show_default=True, help="Seconds between sweeps without Redis.")
@click.option("--burst", is_flag=True, help="Stop when nothing is left to do (tests, one-off runs).")
@with_appcontext
def worker_command(interval: int, burst: bool) -> None:
    """Send e-mails as they are queued. With REDIS_URL: an RQ worker on OUTBOX_QUEUE (with its
    scheduler, for retries); without: a loop that delivers what is due every --interval seconds."""
    from shop.outbox import services

    if services.dispatch_mode() == DispatchMode.RQ:
        from rq import SimpleWorker  # jobs run in this process, inside this app context

        from shop.outbox import jobs

        queue = jobs.queue()
        click.echo(f"RQ worker on queue {queue.name!r} at {current_app.config['REDIS_URL']}")
        SimpleWorker([queue], connection=queue.connection).work(with_scheduler=True, burst=burst)
        return
    click.echo(f"Delivering due e-mail every {interval} s (no REDIS_URL)")
    while True:
        report = services.deliver_due()
        if report.sent or report.retrying or report.dead:
            click.echo(f"sent {len(report.sent)}, retrying {len(report.retrying)}, given up {len(report.dead)}")
        if burst:
            return
        time.sleep(interval)
