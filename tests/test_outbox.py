"""Nothing lost when something fails: e-mails (issue 17).

Messages go into the outbox in the transaction of the change that causes them and are delivered
afterwards with retries, against a real SMTP server on 127.0.0.1 (aiosmtpd) that refuses (4xx or
5xx) when told to. Time is moved by passing ``now`` to the deliverer, never by sleeping.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
import uuid
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.inventory import services as inventory
from shop.mail import send_mail
from shop.outbox import services as outbox
from shop.outbox.enums import OutboxState
from shop.outbox.models import OutboxMessage
from shop.timeutil import utcnow

GUEST = {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn"}
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}
REFUSE_LATER = "451 4.3.0 Try again later"
NO_SUCH_USER = "550 5.1.1 No such user here"


class Mailbox:
    """An SMTP server's handler: answers the next ``refusals`` DATA commands with their reply (or
    every one with ``always``), accepts the others and keeps them."""

    def __init__(self):
        self.received = []
        self.refusals: list[str] = []
        self.always: str | None = None
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.always:
                return self.always
            if self.refusals:
                return self.refusals.pop(0)
            self.received.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 2.0.0 OK"

    def message_ids(self) -> Counter:
        return Counter(message["Message-ID"] for message in self.received)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """A local SMTP server the shop is configured to use; yields its ``Mailbox``."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port, "MAIL_USE_TLS": False,
                       "MAIL_USERNAME": "", "OUTBOX_DISPATCH": "", "REDIS_URL": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def stocked(make_product, make_shop):
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong", unit="túi 500 g")
    central = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True)
    inventory.receive(central.id, mien.id, 10)
    db.session.commit()
    return {"mien": mien, "central": central}


def place_order(client, product, quantity=1, email="lan@example.vn"):
    client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})
    response = client.post("/orders/checkout", data={**GUEST, "email": email, **ADDRESS,
                                                     "fulfilment": "delivery", "payment_method": "cod"})
    client.delete_cookie("cart")
    return response


def rows() -> list[OutboxMessage]:
    db.session.rollback()  # read what the deliverers committed through their own sessions
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ---- every e-mail arrives exactly once ----------------------------------------------------------


def test_every_email_arrives_exactly_once_when_the_server_refuses_then_accepts(client, stocked, smtp):
    smtp.refusals = [REFUSE_LATER] * 4  # the three first tries, and one retry
    for n in range(3):
        assert place_order(client, stocked["mien"], email=f"khach{n}@example.vn").status_code == 302
    queued = rows()
    assert [(r.state, r.attempts) for r in queued] == [(OutboxState.PENDING, 1)] * 3
    assert all(r.last_error.startswith("temporary: 451") for r in queued)
    assert smtp.received == []

    start = utcnow()
    report = outbox.deliver_due(now=start)  # nothing is due before its back-off ends
    assert (report.sent, report.retrying) == ([], [])
    report = outbox.deliver_due(now=start + timedelta(seconds=61))
    assert len(report.sent) == 2 and len(report.retrying) == 1  # the fourth refusal
    report = outbox.deliver_due(now=start + timedelta(seconds=61 + 121))
    assert len(report.sent) == 1
    for later in (1, 24, 24 * 30):  # nothing is ever sent again
        assert outbox.deliver_due(now=start + timedelta(hours=later)).sent == []

    delivered = rows()
    assert [r.state for r in delivered] == [OutboxState.SENT] * 3
    assert smtp.message_ids() == Counter({r.message_id: 1 for r in delivered})
    assert sorted(m["To"] for m in smtp.received) == [f"khach{n}@example.vn" for n in range(3)]
    numbers = {re.search(r"OC-\d{4}-\d{6}", str(m["Subject"])).group() for m in smtp.received}
    assert len(numbers) == 3


def test_a_refused_connection_is_retried_and_the_message_keeps_its_id(app, client, stocked, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    assert place_order(client, stocked["mien"]).status_code == 302
    [row] = rows()
    assert row.state == OutboxState.PENDING and "ConnectionRefusedError" in row.last_error

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    assert outbox.deliver_due(now=utcnow() + timedelta(minutes=2)).sent == [row.id]
    [message] = smtp.received
    assert message["Message-ID"] == row.message_id and message["Auto-Submitted"] == "auto-generated"
    assert "OC-" in message.get_content()


# ---- a rolled-back change leaves no e-mail ------------------------------------------------------


def test_a_rolled_back_order_leaves_no_email(app, stocked, smtp):
    from shop.cart import services as carts
    from shop.orders import services as orders
    from shop.orders.notifications import send_order_confirmation

    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, stocked["mien"].id, 2)
    db.session.commit()
    with app.test_request_context("/orders/checkout", method="POST"):
        order = orders.place_order(cart.token, orders.Customer(**GUEST),
                                   orders.Fulfilment(type="delivery", **ADDRESS), "cod")
        send_order_confirmation(order)
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1  # in the transaction…
        db.session.rollback()  # …which fails (say, the database went away before the commit)
    assert rows() == []
    assert outbox.deliver_due(now=utcnow() + timedelta(days=1)).sent == []
    assert smtp.received == []


def test_a_checkout_that_fails_queues_nothing(client, stocked, smtp):
    response = place_order(client, stocked["mien"], quantity=11)  # 10 in stock
    assert response.status_code in (302, 409)
    assert rows() == [] and smtp.received == []


# ---- how a message ends -------------------------------------------------------------------------


def test_a_permanent_failure_ends_dead_after_its_tries_and_is_logged(app, client, stocked, smtp, caplog):
    smtp.always = NO_SUCH_USER
    assert place_order(client, stocked["mien"]).status_code == 302  # the order stands
    start = utcnow()
    outbox.deliver_due(now=start + timedelta(seconds=61))
    with caplog.at_level(logging.ERROR, logger="shop.outbox.services"):
        report = outbox.deliver_due(now=start + timedelta(seconds=61 + 121))
    [row] = rows()
    assert report.dead == [row.id]
    assert (row.state, row.attempts) == (OutboxState.DEAD, app.config["OUTBOX_MAX_PERMANENT_ATTEMPTS"]) == (
        OutboxState.DEAD, 3)
    assert row.last_error.startswith("permanent: 550")
    assert f"{row.message_id} to lan@example.vn given up after 3 tries" in caplog.text
    assert outbox.deliver_due(now=start + timedelta(days=2)).sent == [] and smtp.received == []

    # Someone fixes the address book; `outbox retry` gives it new tries, and it arrives once.
    smtp.always = None
    runner = app.test_cli_runner()
    assert "1 message(s)" in runner.invoke(args=["outbox", "retry", "--all-dead"]).output
    assert "Sent 1," in runner.invoke(args=["outbox", "deliver"]).output
    assert smtp.message_ids() == Counter({row.message_id: 1})


def test_temporary_failures_end_dead_after_twelve_tries_over_about_six_hours(app, smtp):
    smtp.always = REFUSE_LATER
    waits = [outbox.backoff(n) for n in range(1, app.config["OUTBOX_MAX_ATTEMPTS"])]
    assert [w.total_seconds() for w in waits[:7]] == [60, 120, 240, 480, 960, 1920, 3600]
    assert sum(waits, timedelta()) == timedelta(hours=6, minutes=3)  # as the README says

    send_mail("lan@example.vn", "Xin chào", "Nội dung")
    db.session.commit()  # delivered at once: try 1 refused
    now = utcnow()
    for wait in waits:
        now += wait
        outcome = outbox.deliver_one(now=now)
    [row] = rows()
    assert outcome.state == OutboxState.DEAD and row.attempts == 12 and row.last_error.startswith("temporary: 451")


def test_sent_messages_are_purged_after_the_keeping_period_and_dead_ones_are_kept(app, smtp):
    send_mail("a@example.vn", "một", "1")
    db.session.commit()
    smtp.always = NO_SUCH_USER
    send_mail("b@example.vn", "hai", "2")
    db.session.commit()
    db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.to_address == "b@example.vn")
                       .values(state=OutboxState.DEAD))
    db.session.commit()
    keep = app.config["OUTBOX_KEEP_SENT_DAYS"]
    assert outbox.purge_sent(now=utcnow() + timedelta(days=keep - 1)) == 0
    assert outbox.purge_sent(now=utcnow() + timedelta(days=keep, minutes=1)) == 1
    assert [(r.to_address, r.state) for r in rows()] == [("b@example.vn", OutboxState.DEAD)]


def test_a_deliverer_killed_mid_send_leaves_the_message_due_after_its_lease(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "sweeper")
    send_mail("lan@example.vn", "Xin chào", "Nội dung")
    db.session.commit()
    now = utcnow()
    from sqlalchemy.orm import Session

    with Session(db.engine) as session:
        assert outbox.claim(session, now) is not None  # …and the process dies before sending
    assert outbox.deliver_due(now=now + timedelta(seconds=30)).sent == []  # leased to the dead one
    lease = app.config["OUTBOX_LEASE_SECONDS"]
    [sent] = outbox.deliver_due(now=now + timedelta(seconds=lease + 1)).sent
    assert rows()[0].attempts == 2 and len(smtp.received) == 1


# ---- send_mail keeps its signature; the transaction decides -------------------------------------


def test_mail_queued_after_the_last_commit_is_committed_when_the_request_ends(app, smtp):
    """Account e-mails (issue 12) may call ``send_mail`` after committing, or where nothing else is
    written ("forgot my password"): the request's end commits them on their own."""
    with app.test_request_context("/account/forgot-password", method="POST"):
        send_mail("lan@example.vn", "Đặt lại mật khẩu", "https://example.vn/reset/abc")
        assert smtp.received == []
    [row] = rows()
    assert row.state == OutboxState.SENT
    assert [m["Subject"] for m in smtp.received] == ["Đặt lại mật khẩu"]


def test_mail_is_not_committed_behind_the_back_of_uncommitted_work(app, smtp, make_product, caplog):
    with caplog.at_level(logging.ERROR, logger="shop.outbox.services"):
        with app.test_request_context("/", method="POST"):
            make_product("Trà nụ vối")  # flushed, never committed by the view
            send_mail("lan@example.vn", "Xin chào", "Nội dung")
    assert "1 queued e-mail(s) dropped" in caplog.text
    assert rows() == [] and smtp.received == []


def test_send_mail_without_a_mail_server_writes_the_message_to_the_log(app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "")
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    with caplog.at_level(logging.INFO):
        send_mail("lan@example.vn", "Xin chào", "Nội dung thư")
        db.session.commit()
    [record] = [r for r in caplog.records if "Email (not sent: MAIL_SERVER unset)" in r.getMessage()]
    logged = message_from_bytes(record.getMessage().split("\n", 1)[1].encode(), policy=default_policy)
    assert logged.get_content() == "Nội dung thư\n" and logged["Message-ID"] == rows()[0].message_id
    assert rows()[0].state == OutboxState.SENT


def test_the_outbox_commands_list_and_deliver(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "sweeper")
    send_mail("lan@example.vn", "Xin chào", "Nội dung")
    db.session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["outbox", "list"]).output
    assert "pending 1, sent 0, dead 0" in listed and "lan@example.vn | Xin chào" in listed
    assert "Sent 1, to retry later 0, given up 0" in runner.invoke(args=["outbox", "deliver"]).output
    assert "pending 0, sent 1, dead 0" in runner.invoke(args=["outbox", "list", "--state", "sent"]).output
    assert runner.invoke(args=["outbox", "worker", "--burst"]).exit_code == 0
    assert len(smtp.received) == 1


# ---- two deliverers at once (PostgreSQL row locks) ----------------------------------------------


@pytest.mark.postgres
def test_concurrent_deliverers_never_send_the_same_message_twice(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "sweeper")
    smtp.delay = 0.01  # keep each send open long enough for the deliverers to overlap
    for n in range(40):
        send_mail(f"khach{n}@example.vn", f"Thư {n}", "Nội dung")
    db.session.commit()
    reports, errors = [], []
    barrier = threading.Barrier(4)

    def deliver():
        try:
            with app.app_context():
                barrier.wait()
                reports.append(outbox.deliver_due())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(len(r.sent) for r in reports) == 40
    assert sum(1 for r in reports if r.sent) >= 2, "the deliverers did not overlap"
    delivered = rows()
    assert smtp.message_ids() == Counter({r.message_id: 1 for r in delivered})
    assert {(r.state, r.attempts) for r in delivered} == {(OutboxState.SENT, 1)}


@pytest.mark.postgres
def test_a_deliverer_skips_a_message_another_one_holds_instead_of_waiting(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "sweeper")
    send_mail("first@example.vn", "Một", "1")
    send_mail("second@example.vn", "Hai", "2")
    db.session.commit()
    first, second = rows()
    done = []
    with db.engine.connect() as other:  # another deliverer, in the middle of claiming the oldest
        other.execute(select(OutboxMessage.id).where(OutboxMessage.id == first.id).with_for_update())
        thread = threading.Thread(target=lambda: done.append(_deliver_in(app)))
        thread.start()
        thread.join(15)
        assert not thread.is_alive(), "the deliverer waited for the locked row"
        other.rollback()
    assert done[0].sent == [second.id]
    assert [m["To"] for m in smtp.received] == ["second@example.vn"]


def _deliver_in(app):
    with app.app_context():
        return outbox.deliver_due()


# ---- RQ on the local Redis ----------------------------------------------------------------------


@pytest.fixture
def redis_queue(app, smtp, monkeypatch):
    """A queue of its own on the local Redis; skipped where Redis is not running, except in CI."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    from redis import Redis

    connection = Redis.from_url(url, socket_connect_timeout=1)
    try:
        connection.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means Redis is not usable
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is required in CI and is not reachable: {exc}")
        pytest.skip(f"Redis at {url} is not reachable")
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "OUTBOX_QUEUE", f"ocop-test-mail-{uuid.uuid4().hex[:8]}")
    from shop.outbox import jobs

    queue = jobs.queue()
    yield queue
    from rq import registry

    for kind in (registry.ScheduledJobRegistry, registry.FinishedJobRegistry, registry.FailedJobRegistry):
        jobs_left = kind(queue=queue)
        for job_id in jobs_left.get_job_ids():
            jobs_left.remove(job_id, delete_job=True)
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(match=f"rq:*{queue.name}*"):
        connection.delete(key)


def run_worker(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_with_redis_the_order_enqueues_a_job_and_the_worker_sends_it_once(app, client, stocked, smtp, redis_queue):
    assert place_order(client, stocked["mien"]).status_code == 302
    [row] = rows()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)  # not sent by the request
    assert redis_queue.count == 1 and smtp.received == []

    result = app.test_cli_runner().invoke(args=["outbox", "worker", "--burst"])  # the production worker
    assert result.exit_code == 0, result.output
    assert f"RQ worker on queue '{redis_queue.name}'" in result.output
    [row] = rows()
    assert row.state == OutboxState.SENT
    assert smtp.message_ids() == Counter({row.message_id: 1})
    assert outbox.deliver_due(now=utcnow() + timedelta(hours=1)).sent == []  # the sweeper adds nothing


def test_with_redis_a_refused_try_is_scheduled_again_and_the_sweeper_covers_lost_jobs(app, smtp, redis_queue):
    from rq.registry import ScheduledJobRegistry

    from shop.outbox.jobs import deliver_job

    smtp.refusals = [REFUSE_LATER]
    send_mail("lan@example.vn", "Xin chào", "Nội dung")
    db.session.commit()
    run_worker(redis_queue)  # try 1: refused, the next try scheduled at its back-off
    [row] = rows()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
    assert len(ScheduledJobRegistry(queue=redis_queue)) == 1

    # Redis forgets the scheduled job (a restart): the cron sweeper sends the message when due…
    assert outbox.deliver_due(now=utcnow() + timedelta(seconds=61)).sent == [row.id]
    # …and a job that survived after all finds nothing to do.
    assert deliver_job(row.id) == "skipped"
    assert smtp.message_ids() == Counter({row.message_id: 1})


def test_with_redis_down_the_order_still_commits_and_the_sweeper_sends_its_email(app, client, stocked, smtp,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert place_order(client, stocked["mien"]).status_code == 302
    [row] = rows()
    assert row.state == OutboxState.PENDING and smtp.received == []
    assert outbox.deliver_due().sent == [row.id]
    assert len(smtp.received) == 1
