"""Every engine test that takes `index` runs on Whoosh and, when TEST_DATABASE_URL answers, on the
PostgreSQL backend too (a database of its own per xdist worker, `<test database>_search_<worker>`, holding only
the search table). Tests marked `postgres_only` run on the PostgreSQL backend alone."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from marketplace.config import normalise_database_url
from marketplace.search.engine import SearchIndex
from marketplace.search.models import SearchDocument, SearchGeneration
from marketplace.search.postgres import PostgresIndex
from tests.conftest import _postgres_url


def pytest_generate_tests(metafunc):
    if "search_backend" in metafunc.fixturenames:
        postgres = ["postgres"] if _postgres_url() else []
        only_postgres = metafunc.definition.get_closest_marker("postgres_only") is not None
        metafunc.parametrize("search_backend", postgres if only_postgres else ["whoosh", *postgres])


@pytest.fixture(scope="session")
def search_engine_pg():
    server = sa.engine.make_url(normalise_database_url(_postgres_url()))
    # One per xdist worker: two workers clearing and filling one table would see each other's documents.
    name = f"{server.database}_search_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(server.set(database=name))
    for table in (SearchDocument.__table__, SearchGeneration.__table__):
        table.drop(engine, checkfirst=True)
        table.create(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def index(search_backend, tmp_path, request):
    """An empty challenges index on the backend under test."""
    if search_backend == "whoosh":
        return SearchIndex(tmp_path / "search", "challenges")
    engine = request.getfixturevalue("search_engine_pg")
    with engine.begin() as conn:  # no generation row: nothing is kept from an earlier test (pg_counts)
        conn.execute(SearchDocument.__table__.delete())
        conn.execute(SearchGeneration.__table__.delete())
    return PostgresIndex(engine, "challenges", cache_dir=tmp_path / "search")


def reopen(index):
    """Another handle on the same index (as another request or process would open it)."""
    if isinstance(index, PostgresIndex):
        return PostgresIndex(index.engine, index.kind)
    return SearchIndex(index.folder, index.kind)


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL search backend cannot run on SQLite: leave that pair out (it is refused, see the tests)."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        pair = (params.get("backend"), params.get("search_backend"))
        (drop if pair == ("sqlite", "postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def search_app(app, search_backend):
    """The session's app, searching through `search_backend` for this test."""
    previous = app.config.get("SEARCH_BACKEND")
    app.config["SEARCH_BACKEND"] = search_backend
    yield app
    app.config["SEARCH_BACKEND"] = previous
