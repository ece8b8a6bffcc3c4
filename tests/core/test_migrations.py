"""Migrations and models agree, and the migrations run down to nothing and up again."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marketplace import create_app
from marketplace.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def schema_diff(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        assert schema_diff(connection) == []


@pytest.fixture
def scratch_url(app, tmp_path):
    """A database of its own, never the shared test database: a file, or a new PostgreSQL database."""
    if app.config["BACKEND"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    server = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"test_migr_{server.database}_{uuid.uuid4().hex[:8]}"[:63]
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_downgrade_to_base_and_upgrade_again(scratch_url, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    scratch = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_url, "SECRET_KEY": "scratch",
                          "RATELIMIT_STORAGE_URI": "memory://"})
    with scratch.app_context():
        try:
            upgrade(directory=MIGRATIONS)
            with db.engine.connect() as conn:
                assert schema_diff(conn) == []
            downgrade(directory=MIGRATIONS, revision="base")
            with db.engine.connect() as conn:
                left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
                assert left == set()
                if conn.dialect.name == "postgresql":  # the append-only trigger function went too
                    assert conn.scalar(sa.text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'audit_%'")) == 0
            upgrade(directory=MIGRATIONS)
            with db.engine.connect() as conn:
                assert schema_diff(conn) == []
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO audit_entries (created_at, action, entity_type, data, prev_hash, hash) "
                    "VALUES (CURRENT_TIMESTAMP, 'x', 'y', '{}', 'p', 'h')"))
                conn.execute(sa.text("DELETE FROM audit_entries"))
        finally:
            db.session.remove()
            db.engine.dispose()
