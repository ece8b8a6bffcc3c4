"""Exact counts of the PostgreSQL search backend, kept while a kind's documents stay the same.

Counting every open challenge (a browse page's total, facet counts without text) reads the whole
table: 50-250 ms at 100,000 documents, where a page of them is read from an index in under one.
Every transaction that writes a kind's documents sets a new random *generation* for the kind
(`renew`, in ``search_generations``). A reader reads the generation in the same snapshot as its
counts (`snapshot`: one REPEATABLE READ transaction), so a count stored under a generation is the
exact count of every snapshot that reads that generation: never an estimate, and shared by no
other state of the documents. No generation row (a table emptied by hand): nothing is kept.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from marketplace.search.models import SearchGeneration

GENERATIONS = SearchGeneration.__table__
MAX_KEPT = 1_000  # answers kept per (database, kind) and generation

_lock = threading.Lock()
_kept: dict[tuple[str, str], tuple[int, dict[Hashable, object]]] = {}


def renew(connection, kind: str) -> None:
    """A new generation for `kind`, in the writing transaction (committed with the documents)."""
    statement = postgresql.insert(GENERATIONS).values(kind=kind, generation=random.getrandbits(63))
    connection.execute(statement.on_conflict_do_update(index_elements=[GENERATIONS.c.kind],
                                                       set_={"generation": statement.excluded.generation}))


@contextmanager
def snapshot(engine: sa.engine.Engine):
    """A connection whose statements all see one snapshot (REPEATABLE READ, read only)."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True) as connection:
        yield connection


def kept(connection, kind: str, key: Hashable, compute: Callable[[], object]) -> object:
    """The answer stored for `key` under the kind's current generation, else `compute()` (then stored).

    `connection` must come from `snapshot` and `compute` must read through it.
    """
    generation = connection.scalar(sa.select(GENERATIONS.c.generation).where(GENERATIONS.c.kind == kind))
    if generation is None:
        return compute()
    place = (connection.engine.url.render_as_string(hide_password=True), kind)
    with _lock:
        stored = _kept.get(place)
        if stored is not None and stored[0] == generation and key in stored[1]:
            return stored[1][key]
    answer = compute()
    with _lock:
        stored = _kept.get(place)
        if stored is None or stored[0] != generation or len(stored[1]) >= MAX_KEPT:
            stored = _kept[place] = (generation, {})
        stored[1][key] = answer
    return answer


def filters_key(filters) -> tuple:
    """A hashable, order-free form of search filters (values: str, int, datetime or lists of them)."""
    def value_key(value):
        if isinstance(value, str | int | datetime) or value is None:
            return value
        return tuple(sorted(map(str, value)))

    return tuple(sorted((key, value_key(value)) for key, value in (filters or {}).items()))
