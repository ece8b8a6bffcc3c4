"""Platform-wide figures read every proposal (about a second at 100,000 proposals), and they are the
same for every viewer. They are kept as snapshots in the database: `flask analytics refresh`, run
by a scheduler every few minutes, recomputes them, and pages only read the latest snapshot.

A snapshot older than ANALYTICS_CACHE_SECONDS (default 300) is still served: the request that finds
it stale starts one background refresh (one per process, and one across instances under an advisory
lock, see marketplace.locks), so no request waits for the figures and a site without the scheduler
still gets fresh ones. Only when no snapshot exists at all does a request compute it.
0 turns snapshots off (tests). Per-challenge and per-program figures are always computed live.
"""

from __future__ import annotations

import logging
import pickle  # noqa: S403 - snapshots are written only by this module, from our own figures
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace import http_cache
from marketplace.db import utcnow
from marketplace.extensions import db

DEFAULT_SECONDS = 300


def max_age() -> int:
    default = 0 if current_app.testing else DEFAULT_SECONDS
    return int(current_app.config.get("ANALYTICS_CACHE_SECONDS", default))


def store(name: str, value: object) -> datetime:
    """Save `value` as the snapshot `name`, on its own connection and transaction.

    The request's session is neither committed nor expired: a page that finds no snapshot computes it,
    and reads still write nothing through the request (see tests/core/test_reads_do_not_write.py).
    """
    from marketplace.analytics.models import AnalyticsSnapshot

    computed_at = utcnow()
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    table = AnalyticsSnapshot.__table__
    engine = db.engine
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(name=name, computed_at=computed_at, payload=payload)
    # Another worker storing it at the same moment: the later one wins, theirs is as good.
    statement = statement.on_conflict_do_update(index_elements=[table.c.name],
                                                set_={"computed_at": computed_at, "payload": payload})
    with engine.begin() as connection:
        connection.execute(statement)
    http_cache.public_data_changed()  # public pages show these figures: answers stored before are out of date
    return computed_at


def cached(name: str, compute: Callable[[], object]) -> tuple[object, datetime]:
    """(value, computed_at): the snapshot if younger than max_age(), else freshly computed and stored."""
    from marketplace.analytics.models import AnalyticsSnapshot

    seconds = max_age()
    if seconds <= 0:
        return compute(), utcnow()
    row = db.session.get(AnalyticsSnapshot, name)
    if row is None:  # nothing to serve yet
        value = compute()
        return value, store(name, value)
    if is_stale(row.computed_at, seconds):
        schedule_refresh(name, compute)
    return pickle.loads(row.payload), row.computed_at  # noqa: S301 - our own snapshot, see store()


def is_stale(computed_at: datetime, seconds: int) -> bool:
    return (utcnow() - computed_at).total_seconds() >= seconds


# --- one background refresh at a time ------------------------------------------------------------

_refreshing: set[str] = set()
_guard = threading.Lock()
log = logging.getLogger(__name__)


def start_in_background(job: Callable[[], None]) -> None:
    """How a refresh is started: a daemon thread (tests replace this to run it when they choose)."""
    threading.Thread(target=job, name="analytics-refresh", daemon=True).start()


def schedule_refresh(name: str, compute: Callable[[], object]) -> bool:
    """Start refreshing `name` unless this process already is; True if this call started it."""
    with _guard:
        if name in _refreshing:
            return False
        _refreshing.add(name)
    app = current_app._get_current_object()
    try:
        start_in_background(lambda: _refresh(app, name, compute))
    except Exception:
        _done(name)
        raise
    return True


def _refresh(app: Flask, name: str, compute: Callable[[], object]) -> None:
    """Recompute `name` in its own app context, if no other instance is already doing it."""
    from marketplace import locks
    from marketplace.analytics.models import AnalyticsSnapshot

    try:
        with app.app_context():
            try:
                with locks.run_once(f"analytics-snapshot:{name}") as mine:
                    row = db.session.get(AnalyticsSnapshot, name)
                    if mine and (row is None or is_stale(row.computed_at, max_age())):
                        store(name, compute())
            except Exception:
                log.exception("background refresh of the %s snapshot failed", name)
                db.session.rollback()
            finally:
                db.session.remove()
    finally:
        _done(name)


def _done(name: str) -> None:
    with _guard:
        _refreshing.discard(name)


def refresh_all() -> dict[str, datetime]:
    """Recompute every platform-wide snapshot (the scheduler's job)."""
    from marketplace.analytics import stats
    from marketplace.analytics.figures import Scope, figures_for

    sources = {"platform": lambda: figures_for(Scope.platform()), "stats": stats.public_stats}
    return {name: store(name, compute()) for name, compute in sources.items()}


def clear() -> None:
    from marketplace.analytics.models import AnalyticsSnapshot

    db.session.query(AnalyticsSnapshot).delete()
    db.session.commit()
