"""Small helpers for tests."""

from __future__ import annotations

import re
from contextlib import contextmanager


def csrf_token_from(response) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data) or re.search(
        rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def outbox(app):
    from marketplace.extensions import db
    from marketplace.mail.models import OutboxMail

    with app.app_context():
        return db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id)).all()


def link_in_mail(body: str) -> str:
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


@contextmanager
def counting_queries(app):
    """Collect the SQL statements the app runs inside the block (for query-count and cache tests)."""
    from sqlalchemy import event

    from marketplace.extensions import db

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
