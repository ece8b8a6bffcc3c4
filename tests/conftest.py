"""Shared fixtures. Every test that uses `app` runs once on SQLite and once on PostgreSQL.

The application, its database and clients live here; what tests build (people, challenges, worlds) lives in
tests/factories.py, whose fixtures are exposed below to every test package.

PostgreSQL comes from TEST_DATABASE_URL; with REQUIRE_POSTGRES=1 an unreachable
server fails the run instead of leaving the PostgreSQL half out.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from marketplace import create_app, http_cache
from marketplace.config import normalise_database_url
from marketplace.extensions import db as _db
from marketplace.extensions import limiter
from tests.factories import (  # noqa: F401 - the shared builders, exposed to every test package as fixtures
    TEST_PASSWORD,
    api_center,
    api_token,
    browser,
    build_world,
    center,
    challenge_factory,
    login,
    make_org,
    make_user,
    pricing_rates,
    profile_factory,
    s3_bucket,
    s3_endpoint,
    world,
)

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        return None
    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise pytest.UsageError(f"PostgreSQL at {url} is required but unreachable: {error}") from error
        return None
    finally:
        engine.dispose()
    return url


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"] + (["postgresql"] if _postgres_url() else [])
        metafunc.parametrize("backend", backends, scope="session")


def pytest_report_header(config):
    return f"database backends: sqlite{', postgresql' if _postgres_url() else ' (PostgreSQL not configured)'}"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own database (test_gw0, test_gw1, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(normalise_database_url(url))
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    """One migrated database per backend for the whole session."""
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{instance / 'test.sqlite'}"
    else:
        url = _worker_database(_postgres_url())
        _reset_postgres(url)
    application = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "MAIL_SERVER": None,
        "PUBLIC_URL": "http://localhost",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "VIEW_COUNT_FLUSH_SECONDS": 0,  # each view written at once: tests read the counts right away
        "PASSWORD_HASH_FAST": True,
    })
    application.config["BACKEND"] = backend
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        if backend == "sqlite":
            _db.engine.dispose()
            shutil.copy(instance / "test.sqlite", instance / "pristine.sqlite")
    yield application
    if backend == "postgresql":
        with application.app_context():
            _db.engine.dispose()


def _wipe(app) -> None:
    shutil.rmtree(Path(app.instance_path) / "search", ignore_errors=True)  # ids restart with the database
    if app.config["BACKEND"] == "sqlite":
        # The audit log refuses DELETE even in tests, so restore the pristine file instead.
        _db.engine.dispose()
        folder = Path(app.instance_path)
        shutil.copy(folder / "pristine.sqlite", folder / "test.sqlite")
    else:
        # DELETE is ~100x faster than TRUNCATE on small tables; replica mode skips the triggers
        # (the audit log's append-only guard) and foreign keys for this one transaction.
        deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(_db.metadata.sorted_tables))  # noqa: S608
        with _db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(deletes))
            conn.execute(sa.text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Each test starts from an empty, migrated database and fresh rate limits."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _wipe(app)
        limiter.reset()
        http_cache.public_data_changed()  # the wipe bypasses the session, so say it
    yield
    with app.app_context():
        _db.session.remove()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests (no HTTP)."""
    with app.test_request_context():
        yield
        _db.session.rollback()


@pytest.fixture
def db(ctx):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()
