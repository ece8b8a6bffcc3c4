"""Platform-wide figures read every proposal (about a second at 100,000 proposals), and they are the
same for every viewer. They are kept as snapshots in the database: `flask analytics refresh`, run
by a scheduler every few minutes, recomputes them, and pages only read the latest snapshot.

A snapshot older than ANALYTICS_CACHE_SECONDS (default 300) is recomputed by the request that finds
it (so a site without the scheduler still shows fresh figures); 0 turns snapshots off (tests).
Per-challenge and per-program figures are always computed live.
"""

from __future__ import annotations

import pickle  # noqa: S403 - snapshots are written only by this module, from our own figures
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace.db import utcnow
from marketplace.extensions import db

DEFAULT_SECONDS = 300


def max_age() -> int:
    default = 0 if current_app.testing else DEFAULT_SECONDS
    return int(current_app.config.get("ANALYTICS_CACHE_SECONDS", default))


def store(name: str, value: object) -> datetime:
    """Save `value` as the snapshot `name` (its own short transaction)."""
    from marketplace.analytics.models import AnalyticsSnapshot

    computed_at = utcnow()
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    row = db.session.get(AnalyticsSnapshot, name)
    if row is None:
        db.session.add(AnalyticsSnapshot(name=name, computed_at=computed_at, payload=payload))
    else:
        row.computed_at, row.payload = computed_at, payload
    try:
        db.session.commit()
    except IntegrityError:  # another worker stored it at the same moment: theirs is as good
        db.session.rollback()
    return computed_at


def cached(name: str, compute: Callable[[], object]) -> tuple[object, datetime]:
    """(value, computed_at): the snapshot if younger than max_age(), else freshly computed and stored."""
    from marketplace.analytics.models import AnalyticsSnapshot

    seconds = max_age()
    if seconds <= 0:
        return compute(), utcnow()
    row = db.session.get(AnalyticsSnapshot, name)
    if row is not None and (utcnow() - row.computed_at).total_seconds() < seconds:
        return pickle.loads(row.payload), row.computed_at  # noqa: S301 - our own snapshot, see store()
    value = compute()
    return value, store(name, value)


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
