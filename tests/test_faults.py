"""Faults while checkouts flow, on PostgreSQL: a gunicorn worker killed with SIGKILL, and every
database connection cut. Afterwards nothing is half written, the ledger agrees, every committed
order is reachable by its customer, and the app serves again without a restart.

The app runs in gunicorn (2 sync workers) on 127.0.0.1 against the test database; 40 buyers check
out over real HTTP for 10 units. Bounded: each request times out after 20 s, the whole test after
about a minute, and the server is always stopped.
"""
from __future__ import annotations

import http.client
import os
import random
import signal
import subprocess
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, func, select, text

from shop.catalog.listing import read_model_mismatches
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.orders.models import Order, OrderLine
from gunicorn_server import gunicorn

BUYERS = 40
UNITS = 10
TIMEOUT = 20  # seconds per request

pytestmark = pytest.mark.postgres


class Browser:
    """A minimal cookie-keeping HTTP client (no redirects followed)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict[str, str]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            for raw in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(raw).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers)
        finally:
            connection.close()


@pytest.fixture
def server(app, tmp_path):
    """gunicorn serving a testing app on the test database; yields (port, master process)."""
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
              "UPLOAD_FOLDER": str(tmp_path / "uploads"),
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 4, "max_overflow": 4}}
    with gunicorn(tmp_path, config) as (base, master):
        yield int(base.rsplit(":", 1)[1]), master


def _workers(master: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def _stock(make_product, make_shop):
    product = make_product("Miến dong Tài Hoan", stars=5, price=110_000, slug="mien-dong")
    shop = make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, UNITS)
    db.session.commit()
    return product.id, shop.id


def _buy(port: int, product_id: int, n: int, outcomes: list, lock: threading.Lock) -> None:
    time.sleep(random.Random(n).uniform(0, 1.5))  # arrivals spread over the fault
    browser = Browser(port)
    try:
        browser.request("POST", "/cart/add", {"product_id": product_id, "quantity": 1})
        status, headers = browser.request("POST", "/orders/checkout", {
            "name": f"Khách {n}", "phone": f"09123456{n:02d}", "email": f"guest{n}@example.vn",
            "fulfilment": "delivery", "street": "1 Phố Cũ", "ward": "Phường Nam Mẫu",
            "province": "Thái Nguyên", "payment_method": "cod"})
        result = (status, headers.get("Location", ""))
    except (OSError, http.client.HTTPException) as exc:  # the worker died under this request
        result = ("connection", repr(exc))
    with lock:
        outcomes.append(result)


def _run_buyers(port: int, product_id: int, fault) -> list:
    outcomes: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_buy, args=(port, product_id, n, outcomes, lock)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    fault()
    for thread in threads:
        thread.join(timeout=3 * TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a buyer never got an answer"
    return outcomes


def _assert_consistent(port: int, product_id: int, outcomes: list) -> None:
    from collections import Counter

    print("outcomes:", Counter(status for status, _ in outcomes))  # shown with -s
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    # Nothing half written: every order has lines, every line is held or sold exactly.
    for order in orders:
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert lines, f"order {order.number} has no lines"
        for line in lines:
            reserved = db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                Reservation.order_line_id == line.id))
            assert reserved == line.quantity, (order.number, line.quantity, reserved)
    held = db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
        Reservation.product_id == product_id))
    assert held <= UNITS, f"oversold: {held} reserved of {UNITS}"
    assert inventory.ledger_mismatches() == []
    assert read_model_mismatches(db.session) == []
    # Every answer the buyers got is true: a redirect to an order means the order exists.
    placed = {urlsplit(location).path.rsplit("/", 1)[-1] for status, location in outcomes
              if status == 302 and urlsplit(location).path.startswith("/orders/")}
    assert placed <= {order.number for order in orders}
    assert all(status in (302, 409, 503, "connection") for status, _ in outcomes), outcomes
    # Every committed order has its confirmation e-mail, once (written in the order's transaction),
    # and no e-mail names an order that was rolled back.
    from shop.outbox.models import OutboxMessage

    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    for order in orders:
        assert sum(order.number in subject for subject in subjects) == 1, order.number
    assert len(subjects) == len(orders)
    # Every committed order is reachable by its customer (the link in their e-mail).
    for order in orders:
        status, _ = Browser(port).request("GET", f"/orders/{order.number}?token={order.access_token}")
        assert status == 200, order.number
    # And the app serves again, without a restart.
    assert Browser(port).request("GET", "/products")[0] == 200
    assert Browser(port).request("GET", "/readyz")[0] in (200, 503)  # 503 only: tests do not migrate


def test_a_worker_killed_in_the_middle_of_forty_checkouts_loses_nothing(server, make_product, make_shop):
    port, master = server
    product_id, _ = _stock(make_product, make_shop)
    killed: list[int] = []

    def kill_a_worker():
        time.sleep(0.6)
        workers = _workers(master)
        assert workers, "no gunicorn worker to kill"
        os.kill(workers[0], signal.SIGKILL)
        killed.append(workers[0])

    outcomes = _run_buyers(port, product_id, kill_a_worker)
    assert killed
    assert sum(1 for status, location in outcomes if status == 302 and "/orders/" in location) >= 1
    _assert_consistent(port, product_id, outcomes)
    # The master replaced the dead worker.
    deadline = time.monotonic() + 20
    while len(_workers(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_workers(master)) == 2 and killed[0] not in _workers(master)


def test_database_connections_cut_while_checkouts_flow(app, server, make_product, make_shop):
    port, _ = server
    product_id, _ = _stock(make_product, make_shop)
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    cuts: list[int] = []

    def cut_connections():
        for _ in range(3):
            time.sleep(0.4)
            with admin.begin() as conn:
                cut = conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
            cuts.append(cut)

    try:
        outcomes = _run_buyers(port, product_id, cut_connections)
    finally:
        admin.dispose()
    assert sum(cuts) >= 1, "no connection was cut"
    db.session().invalidate()  # the test's own connection was cut too: drop it without a rollback
    db.session.remove()
    db.engine.dispose()
    _assert_consistent(port, product_id, outcomes)
