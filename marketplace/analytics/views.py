"""The daily view counter of challenge pages: one upsert per view, on its own short transaction.

It runs on a separate connection so that counting never commits (or expires) the request's session,
and a failure to count (a locked SQLite file, say) never breaks the page.
"""

from __future__ import annotations

import logging

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from marketplace.analytics.models import ChallengeView
from marketplace.db import utcnow
from marketplace.extensions import db

log = logging.getLogger(__name__)


def count_view(challenge, user) -> None:
    """Count one view of `challenge` today (UTC). Views by the center's own staff are not counted."""
    if challenge.is_staff(user):
        return
    table = ChallengeView.__table__
    engine = db.engine
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(challenge_id=challenge.id, day=utcnow().date(), views=1)
    statement = statement.on_conflict_do_update(index_elements=[table.c.challenge_id, table.c.day],
                                                set_={"views": table.c.views + 1})
    try:
        with engine.begin() as connection:
            connection.execute(statement)
    except SQLAlchemyError:
        log.warning("could not count a view of challenge %s", challenge.id, exc_info=True)
