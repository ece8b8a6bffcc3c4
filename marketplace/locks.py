"""Run-once guards for work that many instances would otherwise do at the same time.

Scheduled commands (close-due, analytics refresh, reminders, reconcile, mail flush, digests) run from
a scheduler on every instance; `scheduled_once` lets one of them work and the others skip. On
PostgreSQL it is a session-level advisory lock (`pg_try_advisory_lock`) held on its own connection
for the duration; on SQLite (one machine, development and tests) the guard always lets you in.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import text

from marketplace.extensions import db


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for the lock `name` (the same on every instance)."""
    return int.from_bytes(hashlib.sha256(f"innobridge:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def run_once(name: str) -> Iterator[bool]:
    """Yield True if this process holds the lock `name` (released on exit), False if another one does."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with db.engine.connect() as connection:
        acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def scheduled_once(name: str):
    """Decorate a CLI command so that only one instance runs it at a time; the others say so and exit 0."""
    def decorate(command):
        @functools.wraps(command)
        def guarded(*args, **kwargs):
            with run_once(name) as mine:
                if not mine:
                    click.echo(f"{name}: already running on another instance; skipped.")
                    return None
                return command(*args, **kwargs)
        return guarded
    return decorate
