"""Test fixtures: one app per session, a clean database per test, and builder functions.

The same suite runs on SQLite (default) and PostgreSQL (``TEST_DATABASE_URL``). Tests marked
``postgres`` need real row locks and are skipped on SQLite; in CI (``CI=true``) PostgreSQL must be
reachable, so a missing server fails the run instead of skipping silently.
"""
from __future__ import annotations

import itertools
import os
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from config import TestingConfig
from shop import create_app
from shop.extensions import db
from shop.timeutil import today_vn

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
_skipped_pg: list[str] = []


def pytest_configure(config):
    if ON_POSTGRES:
        import sqlalchemy as sa

        try:
            sa.create_engine(TEST_DATABASE_URL).connect().close()
        except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
            raise pytest.UsageError(f"PostgreSQL at {TEST_DATABASE_URL} is not reachable: {exc}")


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (make test-postgres)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
            _skipped_pg.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    db_name = "PostgreSQL" if ON_POSTGRES else "SQLite"
    terminalreporter.write_line(f"Database under test: {db_name}")
    if _skipped_pg:
        terminalreporter.write_line(
            f"{len(_skipped_pg)} PostgreSQL-only tests were skipped; run `make test-postgres` for them."
        )


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ocop")
    uri = TEST_DATABASE_URL or f"sqlite:///{tmp / 'test.db'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp / "uploads"))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        from shop import pagecache

        pagecache.clear()  # kept pages belong to the database just wiped
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _app_context(app, request):
    """Each test runs inside an app context on an empty database.

    After each test that passed, the listing read models must agree with the certificates, stock
    and holds they are read from (the fast way == the slow way, ``shop.catalog.listing``), so every
    scenario of the suite checks them.
    """
    ctx = app.app_context()
    ctx.push()
    try:
        yield
        if not request.node.get_closest_marker("no_read_model_check"):
            _check_read_models()
    finally:
        db.session.remove()
        ctx.pop()
        _wipe(app)


def _check_read_models() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from shop.catalog.listing import read_model_mismatches

    try:
        problems = read_model_mismatches(db.session)
    except SQLAlchemyError:  # the test left its transaction failed: check what was committed
        db.session.rollback()
        problems = read_model_mismatches(db.session)
    assert problems == [], "listing read models disagree with their sources: " + "; ".join(problems[:5])
    from shop.inventory.services import lot_ledger_mismatches

    problems = lot_ledger_mismatches()
    assert problems == [], "lot stock disagrees with the ledger: " + "; ".join(problems[:5])


class IsolatedClient(FlaskClient):
    """Each request sees a fresh ``g``, as it would in production.

    Tests keep one app context open (so they can use ``db.session``); Flask reuses it for the
    client's requests, which would otherwise carry ``g`` (the chosen locale, cached lookups) from
    one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: ...`` then ``q.count`` is the number of SQL statements run."""

    class Counter:
        count = 0
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, *args):
            if statement.strip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                return
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# ---- builders -------------------------------------------------------------------------------

_seq = itertools.count(1)


@pytest.fixture
def make_locality():
    from shop.places.models import Locality

    def build(name: str = "Na Rì", kind: str = "district", parent=None, successor=None, slug=None):
        from shop.text import slugify

        place = Locality(name=name, kind=kind, parent=parent, successor=successor,
                         slug=slug or f"{slugify(name)}-{next(_seq)}")
        db.session.add(place)
        db.session.flush()
        return place

    return build


@pytest.fixture
def make_group():
    from shop.catalog.models import ProductGroup

    def build(code: str | None = None, name: str = "Thực phẩm", name_en: str = "Food", parent=None):
        n = next(_seq)
        group = ProductGroup(code=code or f"G{n}", slug=f"group-{n}", name=name, name_en=name_en, parent=parent)
        db.session.add(group)
        db.session.flush()
        return group

    return build


@pytest.fixture
def make_producer(make_locality):
    from shop.producers.models import Producer

    def build(name: str = "HTX Tài Hoan", locality=None, kind: str = "cooperative", **fields):
        producer = Producer(name=name, slug=f"producer-{next(_seq)}", kind=kind,
                            locality=locality, **fields)
        db.session.add(producer)
        db.session.flush()
        return producer

    return build


@pytest.fixture
def make_certificate():
    from shop.catalog.models import Certificate

    def build(product, stars: int = 4, status: str = "active", issued_on: date | None = None,
              expires_on: date | None = None, **fields):
        issued_on = issued_on or today_vn() - timedelta(days=100)
        expires_on = expires_on or issued_on + timedelta(days=3 * 365)
        cert = Certificate(
            product=product, stars=stars, status=status, issued_on=issued_on, expires_on=expires_on,
            decision_number=fields.pop("decision_number", f"{next(_seq)}/QĐ-UBND"),
            issuing_body=fields.pop("issuing_body", "UBND tỉnh Bắc Kạn"),
            level=fields.pop("level", "province"), **fields,
        )
        db.session.add(cert)
        db.session.flush()
        return cert

    return build


@pytest.fixture
def make_product(make_producer, make_group, make_certificate):
    from shop.catalog.models import Product

    defaults: dict = {}

    def build(name: str = "Miến dong Tài Hoan", stars: int | None = 4, price: int = 100_000,
              producer=None, group=None, cert_status: str = "active", **fields):
        if producer is None:
            producer = defaults.get("producer") or make_producer()
            defaults.setdefault("producer", producer)
        if group is None:
            group = defaults.get("group") or make_group()
            defaults.setdefault("group", group)
        cert_fields = {k: fields.pop(k) for k in ("issued_on", "expires_on") if k in fields}
        product = Product(name=name, slug=fields.pop("slug", f"product-{next(_seq)}"), price=price,
                          producer=producer, group=group, unit=fields.pop("unit", "túi 500 g"), **fields)
        db.session.add(product)
        db.session.flush()
        if stars is not None:
            make_certificate(product, stars=stars, status=cert_status, **cert_fields)
        return product

    return build


@pytest.fixture
def make_shop(make_locality):
    from shop.shops.models import Shop

    def build(name: str = "Cửa hàng OCOP Ba Bể", ships_online: bool = True, offers_pickup: bool = True, **fields):
        shop = Shop(name=name, slug=fields.pop("slug", f"shop-{next(_seq)}"), ships_online=ships_online,
                    offers_pickup=offers_pickup, address=fields.pop("address", "Ba Bể, Bắc Kạn"), **fields)
        db.session.add(shop)
        db.session.flush()
        return shop

    return build
