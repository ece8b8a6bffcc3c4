"""The daily view counter of challenge pages: views added up in the process, written in one short transaction.

It runs on a separate connection so that counting never commits (or expires) the request's session,
and a failure to count (a locked SQLite file, say) never breaks the page.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from marketplace.analytics.models import ChallengeView
from marketplace.db import utcnow
from marketplace.extensions import db

log = logging.getLogger(__name__)


def count_view(challenge, user) -> None:
    """Count one view of `challenge` today (UTC). Views by the center's own staff are not counted."""
    if not challenge.is_staff(user):
        count_visitor_view(challenge.id)


def count_visitor_view(challenge_id: int) -> None:
    """Count one view by a visitor, also when the page came from the page store (see http_cache).

    Views are added up in this process and written together, at most every
    `VIEW_COUNT_FLUSH_SECONDS` (default 2; 0 writes each view at once, as the tests do): one
    upsert per challenge and day instead of one commit per page view. A worker that dies loses
    the views of its last seconds, which a daily analytics figure can afford.
    """
    key = (challenge_id, utcnow().date())
    with _lock:
        _pending[key] = _pending.get(key, 0) + 1
    if time.monotonic() - _last_flush[0] >= float(current_app.config.get("VIEW_COUNT_FLUSH_SECONDS", 2)):
        flush_views()


_pending: dict[tuple[int, date], int] = {}
_lock = threading.Lock()
_last_flush = [0.0]


def flush_views() -> None:
    """Write the views added up so far (one upsert per challenge and day)."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _last_flush[0] = time.monotonic()
    if not batch:
        return
    table = ChallengeView.__table__
    engine = db.engine
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    try:
        with engine.begin() as connection:
            for (challenge_id, day), views in sorted(batch.items()):
                statement = insert(table).values(challenge_id=challenge_id, day=day, views=views)
                connection.execute(statement.on_conflict_do_update(
                    index_elements=[table.c.challenge_id, table.c.day], set_={"views": table.c.views + views}))
    except SQLAlchemyError:
        log.warning("could not count %d views", sum(batch.values()), exc_info=True)
