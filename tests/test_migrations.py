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


def assert_upgrade_matches_models(uri: str, tmp_path) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            diff = compare_metadata(context, db.metadata)
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
