"""Migrations build the same schema as the models, from empty, on SQLite and PostgreSQL."""
import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from shop import create_app
from shop.catalog.search import include_object
from shop.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _expression_indexes() -> dict[str, tuple[str, list[str]]]:
    """{name: (table, columns)} of indexes with expressions (``current_stars DESC``), which Alembic
    cannot compare; the test checks those by name and columns itself."""
    found = {}
    for table in db.metadata.tables.values():
        for index in table.indexes:
            if any(not isinstance(e, sa.Column) for e in index.expressions):
                columns = [e.name if isinstance(e, sa.Column) else str(e).split()[0] for e in index.expressions]
                found[index.name] = (table.name, columns)
    return found


def assert_upgrade_matches_models(uri: str, tmp_path) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        expression_indexes = _expression_indexes()

        def include(obj, name, type_, reflected, compare_to):
            if type_ == "index" and name in expression_indexes:
                return False
            return include_object(obj, name, type_, reflected, compare_to)

        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include})
            diff = compare_metadata(context, db.metadata)
            inspector = sa.inspect(conn)
            for name, (table, columns) in expression_indexes.items():
                reflected = {ix["name"]: ix for ix in inspector.get_indexes(table)}
                assert name in reflected, f"index {name} is missing after the migrations"
                got = [c or e.split()[0] for c, e in zip(reflected[name]["column_names"],
                                                        reflected[name].get("expressions") or reflected[name]["column_names"])]
                assert [g.strip('"') for g in got] == columns, f"index {name}: {got} != {columns}"
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_upgrade_from_empty_on_sqlite(tmp_path):
    assert_upgrade_matches_models(f"sqlite:///{tmp_path / 'migrations.db'}", tmp_path)


@pytest.mark.postgres
def test_upgrade_from_empty_on_postgresql(tmp_path):
    name = f"ocop_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(PG_URL).set(database=name)
        assert_upgrade_matches_models(url.render_as_string(hide_password=False), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_listing_migration_fills_the_read_model_of_existing_products(tmp_path):
    """Upgrading a shop that already has products shows the same products on sale after it."""
    from datetime import timedelta

    from shop.catalog.listing import read_model_mismatches
    from shop.catalog.models import Certificate, Product, ProductGroup
    from shop.producers.models import Producer
    from shop.timeutil import today_vn

    uri = f"sqlite:///{tmp_path / 'listing.db'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        product = Product(slug="mien", name="Miến", price=1, unit="túi",
                          producer=Producer(slug="htx", name="HTX", kind="cooperative"),
                          group=ProductGroup(code="I", slug="thuc-pham", name="Thực phẩm"))
        issued = today_vn() - timedelta(days=10)
        db.session.add(Certificate(product=product, stars=4, decision_number="1/QĐ", issuing_body="UBND",
                                   level="province", issued_on=issued, expires_on=issued + timedelta(days=100)))
        db.session.commit()
        downgrade(revision="0006_h2_cart_order_phone")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_stars FROM product")).scalar_one() == 4
        assert read_model_mismatches(db.session) == []
        db.session.remove()
        db.engine.dispose()


def test_the_vocabulary_migration_settles_unknown_kinds_and_names_the_rows_it_cannot(tmp_path):
    """0011_vocabulary_checks: a producer, outlet or decision of an unknown kind gets the safe word;
    an unknown place level stops the upgrade with the row named; afterwards the database refuses
    unknown codes."""
    uri = f"sqlite:///{tmp_path / 'vocabulary.db'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade(revision="0010_lots")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO locality (id, slug, name, kind) VALUES (1, 'bk', 'Bắc Kạn', 'tinh')"))
            conn.execute(sa.text("INSERT INTO producer (id, slug, name, kind, address, phone, story, story_en, "
                                 "created_at) VALUES (1, 'htx', 'HTX', 'coop', '', '', '', '', '2026-01-01')"))
            conn.execute(sa.text("INSERT INTO shop (id, slug, name, kind, address, phone, opening_hours, "
                                 "opening_hours_en, offers_pickup, ships_online, active) "
                                 "VALUES (1, 'kho', 'Kho', 'depot', '', '', '', '', 1, 1, 1)"))
        from alembic import command
        from flask import current_app

        config = current_app.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError, match=r"locality 1: kind = 'tinh'"):
            command.upgrade(config, "head")  # (flask_migrate.upgrade would log it and exit)
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE locality SET kind = 'province'"))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT kind FROM producer")).scalar_one() == "other"
            assert conn.execute(sa.text("SELECT kind FROM shop")).scalar_one() == "shop"
        with pytest.raises(sa.exc.IntegrityError, match="ck_locality_kind_known"), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE locality SET kind = 'tinh'"))
        db.engine.dispose()


def test_migrations_run_on_a_database_full_of_data_on_sqlite(tmp_path):
    """The newest migrations, down and up again, on the demo's data: batch migrations rebuild
    tables that other rows point at (foreign keys are off during migrations, checked before the
    commit), and a migration that fails leaves nothing half done (one transaction)."""
    from shop.seed.demo import seed_demo

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'full.db'}",
                     UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        counts = lambda: {t: db.session.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()  # noqa: E731
                          for t in ("producer", "product", "certificate", "stock_movement", "shop")}
        before = counts()
        db.session.remove()
        db.engine.dispose()  # new connections: foreign keys on, as in `flask db upgrade`
        downgrade(revision="0015_transfers")  # through every migration after issue 13's transfers
        db.engine.dispose()
        upgrade()
        assert counts() == before
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
        db.session.remove()

        # A migration that fails half-way leaves the database as it was: 0017_portal creates
        # product_photo, then proposal — a stray "proposal" table makes it fail after the first.
        downgrade(revision="0016_search_terms")
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE proposal (id INTEGER PRIMARY KEY)"))
        with pytest.raises(Exception, match="already exists"):
            upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0016_search_terms"
            assert "product_photo" not in sa.inspect(conn).get_table_names()  # rolled back with the rest
            conn.execute(sa.text("DROP TABLE proposal"))
        upgrade()  # and it runs again cleanly
        db.engine.dispose()
