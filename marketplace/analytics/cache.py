"""Platform-wide figures are the same for every viewer and read every proposal: each process computes
them at most once per ANALYTICS_CACHE_SECONDS (default 300; 0 turns the cache off, as in tests).

Per-challenge and per-program figures are always computed live.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from marketplace.db import utcnow

DEFAULT_SECONDS = 300
_entries: dict[tuple, tuple[float, datetime, object]] = {}
_lock = threading.Lock()


def max_age() -> int:
    default = 0 if current_app.testing else DEFAULT_SECONDS
    return int(current_app.config.get("ANALYTICS_CACHE_SECONDS", default))


def cached(name: str, compute: Callable[[], object]) -> tuple[object, datetime]:
    """(value, computed_at): the cached value if younger than max_age(), else freshly computed."""
    seconds = max_age()
    if seconds <= 0:
        return compute(), utcnow()
    key = (current_app.import_name, current_app.config["SQLALCHEMY_DATABASE_URI"], name)
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
    if entry is not None and now - entry[0] < seconds:
        return entry[2], entry[1]
    value, computed_at = compute(), utcnow()
    with _lock:
        _entries[key] = (now, computed_at, value)
    return value, computed_at


def clear() -> None:
    with _lock:
        _entries.clear()
