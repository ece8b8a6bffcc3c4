"""Work that waits for a commit: mails to send, challenges and results to (re)index.

Services call `add(queue, id)` while their transaction runs. When the session commits, the ids
are handed to the request (flask.g); after the response is ready, each queue's handler gets them
once. A rollback drops them, so nothing is sent or indexed for a change that never happened.
Commands, which have no request, call `take(queue)` and handle the ids themselves.

Each queue is registered once by its package's register(): `register_queue(name, handler, what)`.
A failing handler never fails the request (the database is the truth: `mail flush` and
`search reindex` repair); it is logged and its session rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, g, has_app_context
from sqlalchemy import event

from marketplace.extensions import db

_PENDING = "after_commit:pending:"  # session.info key prefix: ids of the running transaction
_COMMITTED = "after_commit_committed"  # flask.g: {queue: ids} committed during this request


@dataclass(frozen=True)
class Queue:
    name: str
    handle: Callable[[list], None]
    what: str  # for the log line when the handler fails, e.g. "mails" or "challenges to index"


_queues: dict[str, Queue] = {}


def register_queue(name: str, handle: Callable[[list], None], what: str) -> None:
    _queues[name] = Queue(name, handle, what)


def add(name: str, item) -> None:
    """Do `item` in queue `name` once the current transaction commits."""
    db.session.info.setdefault(_PENDING + name, set()).add(item)


def add_all(name: str, items: Iterable) -> None:
    db.session.info.setdefault(_PENDING + name, set()).update(items)


def take(name: str) -> set:
    """Everything queued for `name` and not yet handled (pending and committed): for commands."""
    items = set(db.session.info.pop(_PENDING + name, set()))
    if has_app_context():
        items |= g.get(_COMMITTED, {}).pop(name, set())
    return items


def _on_commit(session) -> None:
    for key in [k for k in session.info if isinstance(k, str) and k.startswith(_PENDING)]:
        items = session.info.pop(key)
        if items and has_app_context():
            g.setdefault(_COMMITTED, {}).setdefault(key[len(_PENDING):], set()).update(items)


def _on_rollback(session) -> None:
    for key in [k for k in session.info if isinstance(k, str) and k.startswith(_PENDING)]:
        session.info.pop(key)


def install(app: Flask) -> None:
    """One listener pair on the session and one after_request hook for every queue."""
    if app.extensions.get("after_commit"):
        return
    app.extensions["after_commit"] = True
    if not event.contains(db.session, "after_commit", _on_commit):  # one pair for every app of the process
        event.listen(db.session, "after_commit", _on_commit)
        event.listen(db.session, "after_rollback", _on_rollback)

    @app.after_request
    def _handle_committed(response):
        committed = g.pop(_COMMITTED, {})
        for name, items in sorted(committed.items()):
            if items and name in _queues:
                _handle(app, _queues[name], sorted(items))
        return response


def _handle(app: Flask, queue: Queue, items: list) -> None:
    try:
        queue.handle(items)
    except Exception:  # noqa: BLE001 - a failed follow-up must not fail the request; the database is the truth
        app.logger.exception("could not handle %s %s", queue.what, items)
        db.session.rollback()
