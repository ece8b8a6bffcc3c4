"""Failed sign-in counting: one counter per account and one per address, shared by every path.

The sign-in page, `POST /api/v1/auth/tokens` and the wrong-current-password checks (password and
e-mail change) all ask this module. The count lives in Redis when `REDIS_URL` is set and in the
database otherwise, so every worker process and every app instance sees the same figure.
Limit and window come from `LOGIN_RATE_LIMIT` (default "5 per minute", a sliding window).

A failure is written in its own short transaction: it counts even when the request's
transaction is rolled back. SQLite has a single writer: when the request's own transaction has
already written (an Idempotency-Key reservation), that write would wait for the request and fail,
so it is written as the request ends instead (`write_deferred_failures`, a teardown hook).
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

import limits
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from marketplace.accounts.models import SignInFailure
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.extensions import db


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, retry_after: int):
        super().__init__(_l("Too many attempts. Please wait %(seconds)d seconds and try again.",
                            seconds=retry_after))
        self.retry_after = retry_after


def _keys(email: str | None, address: str | None) -> list[str]:
    keys = []
    if email:
        keys.append("account:" + email.strip().lower()[:254])
    if address:
        keys.append("address:" + address[:64])
    return [hashlib.sha256(key.encode()).hexdigest() for key in keys]


def _limit() -> limits.RateLimitItem:
    return limits.parse(current_app.config["LOGIN_RATE_LIMIT"])


# --- database backend: one row per failure, counted over a sliding window --------------------

def _db_retry_after(key: str, item: limits.RateLimitItem) -> int:
    now = utcnow()
    since = now - timedelta(seconds=item.get_expiry())
    in_window = select(SignInFailure.created_at).where(SignInFailure.key_hash == key, SignInFailure.created_at > since)
    count = db.session.scalar(select(func.count()).select_from(in_window.subquery()))
    if count < item.amount:
        return 0
    # The window admits another attempt once enough of the oldest failures have aged out.
    freeing = db.session.scalar(in_window.order_by(SignInFailure.created_at).offset(count - item.amount).limit(1))
    return max(1, math.ceil((freeing + timedelta(seconds=item.get_expiry()) - now).total_seconds()))


def _db_fail(keys: list[str], item: limits.RateLimitItem, now=None) -> None:
    now = now or utcnow()
    if _request_holds_sqlite_write_lock():
        g.setdefault("deferred_sign_in_failures", []).append((keys, item, now))
        return
    with db.engine.begin() as connection:
        connection.execute(delete(SignInFailure).where(
            SignInFailure.created_at <= now - timedelta(seconds=item.get_expiry())))
        connection.execute(SignInFailure.__table__.insert(), [{"key_hash": key, "created_at": now} for key in keys])


def _request_holds_sqlite_write_lock() -> bool:
    session = db.session()
    if db.engine.dialect.name != "sqlite" or not session.in_transaction():
        return False
    return bool(session.connection().connection.driver_connection.in_transaction)


def write_deferred_failures(_error: BaseException | None = None) -> None:
    """When a request ends: write the failures it could not write while it held SQLite's write lock."""
    deferred = g.pop("deferred_sign_in_failures", None)
    if deferred:
        db.session.rollback()  # the request is over; this ends its transaction and frees the lock
        for keys, item, now in deferred:
            _db_fail(keys, item, now)


def _db_clear(key: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(delete(SignInFailure).where(SignInFailure.key_hash == key))


# --- Redis backend (any `limits` storage URI) ---------------------------------------------------

def _window():
    state = current_app.extensions.get("sign_in_throttle")
    uri = current_app.config.get("LOGIN_THROTTLE_STORAGE_URI")
    if state is None or state[0] != uri:
        storage = limits.storage.storage_from_string(uri)
        state = (uri, limits.strategies.MovingWindowRateLimiter(storage))
        current_app.extensions["sign_in_throttle"] = state
    return state[1]


def _uses_database() -> bool:
    return (current_app.config.get("LOGIN_THROTTLE_STORAGE_URI") or "database") == "database"


# --- the service ----------------------------------------------------------------------------------

def check(email: str | None, address: str | None) -> None:
    """Raise TooManyAttempts when the account or the address has used up its failed attempts."""
    item = _limit()
    waits = []
    for key in _keys(email, address):
        if _uses_database():
            waits.append(_db_retry_after(key, item))
        elif not _window().test(item, key):
            reset_at = _window().get_window_stats(item, key).reset_time
            waits.append(max(1, math.ceil(reset_at - utcnow().timestamp())))
    if any(waits):
        raise TooManyAttempts(max(waits))


def record_failure(email: str | None, address: str | None) -> None:
    keys = _keys(email, address)
    if _uses_database():
        _db_fail(keys, _limit())
        return
    for key in keys:
        _window().hit(_limit(), key)


def clear_account(email: str | None) -> None:
    """A successful sign-in forgives the account's failures (the address keeps its count)."""
    for key in _keys(email, None):
        if _uses_database():
            _db_clear(key)
        else:
            _window().clear(_limit(), key)
