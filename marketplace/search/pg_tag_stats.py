"""Which facet tags are in most search documents, from PostgreSQL's own column statistics.

A facet filter is matched through its tag in the GIN index (``'f:status=open'``) so that only
the final matches are read from the table. A tag that nearly every document holds (every
indexed challenge is open) narrows nothing: intersecting its posting list of every document
costs milliseconds for each search. Such a filter is checked on the rows the text finds instead,
with the same result. The shares come from ``pg_stats`` (kept by ANALYZE and autovacuum) and are
read again every STATS_SECONDS; a stale share only changes the plan, never the answer.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

COMMON_SHARE = 0.5  # a filter whose tags are in at least this share of the documents is checked on rows
STATS_SECONDS = 300.0

_lock = threading.Lock()
_shares: dict[str, tuple[float, dict[str, float]]] = {}

_STATEMENT = sa.text(
    "SELECT element, share FROM pg_stats, "
    "unnest(most_common_elems::text::text[], most_common_elem_freqs) AS found(element, share) "
    "WHERE schemaname = current_schema() AND tablename = 'search_documents' AND attname = 'document' "
    "AND element LIKE 'f:%'")


def tag_shares(engine: sa.engine.Engine) -> dict[str, float]:
    """Tag -> share of the documents holding it, for the common tags (others are absent)."""
    place = engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _lock:
        found = _shares.get(place)
    if found is not None and now - found[0] < STATS_SECONDS:
        return found[1]
    with engine.connect() as connection:
        shares = {element: share for element, share in connection.execute(_STATEMENT) if share is not None}
    with _lock:
        _shares[place] = (now, shares)
    return shares


def is_common(shares: dict[str, float], tags: list[str]) -> bool:
    """Whether documents holding any of `tags` are at least COMMON_SHARE of all."""
    return sum(shares.get(tag, 0.0) for tag in tags) >= COMMON_SHARE
