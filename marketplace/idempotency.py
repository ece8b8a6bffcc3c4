"""Idempotency-Key: a repeated API write from the same caller replays the first answer.

The key is reserved BEFORE the view runs: a row (user, key) with `status_code = PENDING` is
inserted in the request's own transaction, so it is committed together with the view's effect
(or disappears with it when the view rolls back). The unique constraint on (user_id, key) makes
a concurrent duplicate wait on PostgreSQL (its INSERT blocks until the first transaction ends)
and on SQLite (the database write lock), then fail; it then waits for the first answer and
replays it, or answers 409 when the first request is still running after
`IDEMPOTENCY_WAIT_SECONDS`. Never a second effect.

Decisions:
- Same key, different method, path or body: 422 (the key was used for another request).
- 4xx answers are stored and replayed like 2xx ones (as before); an answer of 500 or more is
  stored only when the view had already committed something (its outcome is then uncertain and
  must not be repeated); otherwise the reservation goes with the rollback and a retry runs again.
- 429 (rate limited) means "try again later", not an outcome: like a 5xx it is stored only when
  the view had committed something, so normally the same key works once the limit allows.
- Which requests take a key at all: marketplace.api.idempotency_applies (every API write).
- Whatever a view left uncommitted is rolled back before the answer is stored, exactly as it
  would be without a key.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import db

PENDING = 0  # status_code of a reserved key whose first request has not answered yet
MAX_KEY_LENGTH = 200  # characters of an Idempotency-Key (the column's size)
POLL_SECONDS = 0.05


class IdempotencyRecord(IdMixin, db.Model):
    """The first response to an API write sent with an Idempotency-Key (PENDING while it runs)."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    mimetype: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key"),)

    @property
    def pending(self) -> bool:
        return self.status_code == PENDING


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user_id, key=key)
                             .execution_options(populate_existing=True))


def reserve(user_id: int, key: str, fingerprint: str) -> bool:
    """Insert the PENDING row in the current transaction; False when another request holds the key.

    On PostgreSQL the INSERT waits for a concurrent holder's transaction to end.
    """
    # A plain flush, no savepoint: pysqlite would commit a savepoint opened outside a transaction.
    db.session.add(IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint,
                                     status_code=PENDING, mimetype="", body=""))
    try:
        db.session.flush()
    except (IntegrityError, OperationalError):  # OperationalError: SQLite's lock wait ran out
        db.session.rollback()
        return False
    return True


def wait_for_first(user_id: int, key: str, timeout: float) -> IdempotencyRecord | None:
    """The holder's row once it has an answer (or still PENDING after `timeout`); None if it vanished."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()  # a fresh snapshot for each look
        found = _find(user_id, key)
        if found is None or not found.pending or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_SECONDS)


def store_answer(user_id: int, key: str, fingerprint: str, response) -> None:
    """Keep the view's answer for replays; uncommitted leftovers of the view are discarded first."""
    db.session.rollback()
    row = _find(user_id, key)
    if (response.status_code >= 500 or response.status_code == 429) and row is None:
        return  # nothing was committed: the key is free again for a retry
    if row is None:
        row = IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint)
        db.session.add(row)
    elif not row.pending:
        return  # answered already (a duplicate ran after this request rolled back)
    row.status_code, row.mimetype = response.status_code, response.mimetype or ""
    row.body = response.get_data(as_text=True)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def release(user_id: int, key: str) -> None:
    """After an exception in the view: free an uncommitted reservation, keep a committed one answered."""
    db.session.rollback()
    row = _find(user_id, key)
    if row is not None and row.pending:
        row.status_code, row.mimetype, row.body = 500, "application/problem+json", (
            '{"type": "about:blank", "title": "Internal Server Error", "status": 500}')
        db.session.commit()
