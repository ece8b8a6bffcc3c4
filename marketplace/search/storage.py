"""Where an index lives on disk: generations, the write lock, rebuild and swap.

Under ``root`` (``<search folder>/<kind>``)::

    CURRENT          name of the live generation (replaced atomically)
    v1-1.<ns>.<hex>/ a Whoosh index: one generation
    write.lock       serialises writers across threads and processes
    REBUILDING       present while a rebuild fills a new generation
    journal.jsonl    writes made meanwhile, replayed into it before the swap

Writers: every write takes an in-process lock and then an OS file lock on
``write.lock``, waiting up to ``write_timeout`` seconds, and only then opens the
Whoosh writer. Concurrent writers in threads or processes therefore queue
instead of raising Whoosh's ``LockError``, and a write is visible to searches
as soon as the call returns. Whoosh's ``AsyncWriter`` was not used: when the
index is busy it commits later in a background thread, so a caller could not
know when (or whether) its write landed.

Rebuilds fill a fresh generation while searches and writes keep using the live
one; writes made meanwhile are journaled and replayed into the new generation,
which then becomes live by replacing ``CURRENT`` (an atomic rename). The
generation before it is kept (a search may still be opening it); older ones
are deleted.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import Schema
from whoosh.searching import Searcher
from whoosh.util.filelock import FileLock, try_for
from whoosh.writing import CLEAR

logger = logging.getLogger(__name__)

# An operation is {"op": "upsert", "docs": [whoosh fields]}, {"op": "delete",
# "ids": [...]} or {"op": "clear"}; the "id" field is the unique key. Fields
# hold only strings and integers, so operations journal as JSON.
Operation = dict


class IndexBusy(RuntimeError):
    """Another writer held the index for longer than the write timeout."""


@dataclass(frozen=True)
class Reading:
    """A searcher on one version of the index, and a cache shared by every
    reading of that version in this process (document numbers are only
    stable within a version)."""

    searcher: Searcher
    version: tuple[str, int]  # (generation, Whoosh TOC generation)
    cache: dict
    segment_cache: dict  # per Whoosh segment id, shared by every version (segments never change)


class _ProcessState:
    """Per-process state of one index folder, shared by every store on it."""

    def __init__(self) -> None:
        self.write_lock = threading.Lock()
        self.read_lock = threading.Lock()
        self.generation: str | None = None
        self.index = None
        self.idle: list[Searcher] = []  # ready for reuse, each used by one thread at a time
        self.caches: dict[tuple[str, int], dict] = {}  # the latest versions' caches
        self.segment_cache: dict = {}


_states_lock = threading.Lock()
_states: dict[Path, _ProcessState] = {}


class IndexStore:
    MAX_IDLE_SEARCHERS = 8

    def __init__(self, root: Path, schema: Schema, version: str, *, write_timeout: float = 30.0) -> None:
        self.root = root
        self.schema = schema
        self.version = version
        self.write_timeout = write_timeout
        with _states_lock:
            self._state = _states.setdefault(root, _ProcessState())

    # -- generations -------------------------------------------------------

    def _pointer(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> str | None:
        """The live generation's name; None when there is no index yet, or only
        one built by another schema or analysis version (it may not be read with
        this code: searches find nothing and the next write starts a new one)."""
        name = self._pointer()
        if name is None or not name.startswith(f"v{self.version}.") or not (self.root / name).is_dir():
            return None
        return name

    def _set_current(self, generation: str) -> None:
        temporary = self.root / f"CURRENT.{secrets.token_hex(4)}"
        with open(temporary, "w") as handle:
            handle.write(generation)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / "CURRENT")

    def _new_generation(self) -> str:
        name = f"v{self.version}.{time.time_ns()}.{secrets.token_hex(3)}"
        (self.root / name).mkdir(parents=True)
        whoosh_index.create_in(str(self.root / name), self.schema)
        return name

    def _open(self, generation: str):
        # Our schema, not the one pickled in the index: the analyzer's code is
        # always the current one.
        return whoosh_index.open_dir(str(self.root / generation), schema=self.schema)

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.current() is not None:
            return
        if self._pointer() is not None:
            logger.warning("search index %s was built by another version of the code and is set aside: "
                           "run `flask search reindex`", self.root)
        with self._locked():
            if self.current() is None:
                self._set_current(self._new_generation())

    # -- writing -----------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the write lock: threads queue on a lock, processes on a file lock."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._state.write_lock.acquire(timeout=self.write_timeout):
            raise IndexBusy(f"search index {self.root} is busy")
        try:
            file_lock = FileLock(str(self.root / "write.lock"))
            if not try_for(file_lock.acquire, timeout=self.write_timeout, delay=0.02):
                raise IndexBusy(f"search index {self.root} is locked by another process")
            try:
                yield
            finally:
                file_lock.release()
        finally:
            self._state.write_lock.release()

    @contextmanager
    def _writer(self, generation: str, **kwargs):
        writer = self._open(generation).writer(timeout=self.write_timeout, **kwargs)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    def _apply(self, generation: str, operation: Operation) -> None:
        with self._writer(generation) as writer:
            if operation["op"] == "upsert":
                for fields in operation["docs"]:
                    writer.update_document(**fields)
                writer.commit()
            elif operation["op"] == "delete":
                for doc_id in operation["ids"]:
                    writer.delete_by_term("id", str(doc_id))
                writer.commit()
            elif operation["op"] == "clear":
                writer.commit(mergetype=CLEAR)
            else:
                raise ValueError(f"unknown index operation {operation['op']!r}")

    def write(self, operation: Operation) -> None:
        """Apply one operation to the live generation, in one commit."""
        with self._locked():
            generation = self.current()
            if generation is None:
                generation = self._new_generation()
                self._set_current(generation)
            self._apply(generation, operation)
            if (self.root / "REBUILDING").exists():
                with open(self.root / "journal.jsonl", "a", encoding="utf-8") as journal:
                    journal.write(json.dumps(operation, ensure_ascii=False) + "\n")

    def rebuild(self, batches: Iterable[list[dict]], progress: Callable[[int], None] | None = None) -> int:
        """Fill a fresh generation with `batches` of documents and make it live."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._discard_unfinished_rebuild()
            generation = self._new_generation()
            (self.root / "REBUILDING").write_text(generation)
        try:
            count = 0
            with self._writer(generation, limitmb=256) as writer:
                for batch in batches:
                    for fields in batch:
                        writer.add_document(**fields)
                    count += len(batch)
                    if progress:
                        progress(len(batch))
                writer.commit()
            with self._locked():
                previous = self.current()
                self._replay_journal(generation)
                self._set_current(generation)
                (self.root / "REBUILDING").unlink()
                (self.root / "journal.jsonl").unlink(missing_ok=True)
        except BaseException:
            with self._locked():
                self._discard_unfinished_rebuild()
            raise
        self._prune(keep={generation, previous})
        return count

    def _replay_journal(self, generation: str) -> None:
        try:
            lines = (self.root / "journal.jsonl").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            self._apply(generation, json.loads(line))
        logger.info("search index %s: replayed %d write(s) made during the rebuild", self.root, len(lines))

    def _discard_unfinished_rebuild(self) -> None:
        marker = self.root / "REBUILDING"
        if marker.exists():
            unfinished = marker.read_text().strip()
            if unfinished and unfinished != self.current():
                shutil.rmtree(self.root / unfinished, ignore_errors=True)
            marker.unlink()
        (self.root / "journal.jsonl").unlink(missing_ok=True)

    def _prune(self, keep: set[str | None]) -> None:
        for path in self.root.iterdir():
            if path.is_dir() and path.name.startswith("v") and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # -- reading -----------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Reading | None]:
        """A reading of the live generation (None when there is no index yet).

        Searchers are pooled per process: opening one costs more than a search.
        """
        generation = self.current()
        if generation is None:
            yield None
            return
        state = self._state
        with state.read_lock:
            if state.generation != generation:
                for stale in state.idle:
                    stale.close()
                state.idle = []
                state.index = self._open(generation)
                state.generation = generation
            searcher = state.idle.pop() if state.idle else None
            index = state.index
        if searcher is not None and not searcher.up_to_date():
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = index.searcher()
        version = (generation, searcher.reader().generation())
        with state.read_lock:
            cache = state.caches.get(version)
            if cache is None:
                cache = state.caches[version] = {}
                for old in list(state.caches)[:-2]:  # keep this version and the one before
                    del state.caches[old]
        try:
            yield Reading(searcher, version, cache, state.segment_cache)
        finally:
            with state.read_lock:
                if state.generation == generation and len(state.idle) < self.MAX_IDLE_SEARCHERS:
                    state.idle.append(searcher)
                    searcher = None
            if searcher is not None:
                searcher.close()
