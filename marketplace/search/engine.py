"""Whoosh full-text indexes, one per document kind, that answer with ids only.

The caller owns the data: it turns a row into a :class:`SearchDoc` to index it,
and turns the ids of a :class:`SearchPage` back into rows with one query. The
index never decides who may see what; index only public documents (or filter on
a ``status`` facet) and check visibility again on the rows.

On disk, under ``folder/kind/``::

    CURRENT          name of the live generation (replaced atomically)
    v1.<time>.<hex>/  a Whoosh index: one generation
    write.lock       serialises writers across threads and processes
    REBUILDING       present while `rebuild` fills a new generation
    journal.jsonl    writes made meanwhile, replayed into it before the swap

Writers: every write takes an in-process lock and then an OS file lock
(``write.lock``), waiting up to ``write_timeout`` seconds, and only then opens
the Whoosh writer. Concurrent writers in threads or processes therefore queue
instead of raising Whoosh's ``LockError``, and a write is visible to searches as
soon as the call returns. Whoosh's ``AsyncWriter`` was not used: it commits
later in a background thread when the index is busy, so a caller cannot know
when (or whether) its write landed.

Rebuilds fill a fresh generation while searches and writes keep using the live
one; the writes made meanwhile are journaled and replayed into the new
generation, which then becomes live by rewriting ``CURRENT`` (an atomic rename).
The generation before it is kept (a search may still be opening it) and older
ones are deleted.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.fields import DATETIME, ID, NUMERIC, TEXT, Schema
from whoosh.query import And, DateRange, Every, NullQuery, NumericRange, Or, Query, Require, Term
from whoosh.util.filelock import FileLock, try_for
from whoosh.writing import CLEAR

from marketplace.search import analysis

logger = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "deadline", "award")
MAX_QUERY_CHARS = 500  # longer user input is cut (a query is a few words)
MAX_QUERY_WORDS = 24
TITLE_BOOST = 3.0
MAX_PER_PAGE = 100

# Stored for documents without one, so that sorting puts them last.
_NO_PUBLISHED = datetime(1970, 1, 1)
_NO_DEADLINE = datetime(9999, 12, 31)

_CORE_FIELDS = frozenset({"id", "text", "title", "award", "published", "deadline"})
# filter key -> (indexed field, which end of the inclusive range it sets)
_RANGE_FILTERS = {
    "min_award": ("award", "low"),
    "max_award": ("award", "high"),
    "deadline_after": ("deadline", "low"),
    "deadline_before": ("deadline", "high"),
    "published_after": ("published", "low"),
    "published_before": ("published", "high"),
}
_RANGE_FIELDS = frozenset(name for name, _ in _RANGE_FILTERS.values())

SCHEMA_VERSION = f"{1}-{analysis.ANALYSIS_VERSION}"


class IndexBusy(RuntimeError):
    """Another writer held the index for longer than the write timeout."""


@dataclass(frozen=True)
class KindSpec:
    """What a document kind may be filtered and counted by (besides the core fields)."""

    facets: tuple[str, ...]


KINDS: dict[str, KindSpec] = {
    "challenges": KindSpec(facets=("field", "challenge_type", "status", "currency", "organization")),
}


def register_kind(name: str, *, facets: Sequence[str]) -> None:
    """Declare a document kind (open results, experts, ...) and its facet fields."""
    clashes = _CORE_FIELDS.intersection(facets) | _RANGE_FILTERS.keys() & set(facets)
    if clashes:
        raise ValueError(f"facet names {sorted(clashes)} are reserved")
    KINDS[name] = KindSpec(facets=tuple(facets))


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One document as the index sees it.

    texts: locale -> all searchable text of that locale (title, summary,
        description, ...); every locale goes into one analysed field.
    titles: locale -> title, indexed again in a boosted field for ranking.
    facets: keyword values to filter and count by (str or int; None = absent);
        the names must be declared for the kind (see KINDS).
    award: an integer amount used by min_award/max_award and the award sort;
        it must be in one unit for all documents (e.g. minor units of a
        reference currency) for those to compare like with like.
    published, deadline: aware (or naive UTC) datetimes for sorting/filtering.
    """

    id: int
    texts: Mapping[str, str]
    titles: Mapping[str, str] = field(default_factory=dict)
    facets: Mapping[str, str | int | None] = field(default_factory=dict)
    award: int | None = None
    published: datetime | None = None
    deadline: datetime | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id, "texts": dict(self.texts), "titles": dict(self.titles), "facets": dict(self.facets),
            "award": self.award,
            "published": self.published.isoformat() if self.published else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> SearchDoc:
        def when(value):
            return datetime.fromisoformat(value) if value else None

        return cls(id=data["id"], texts=data["texts"], titles=data["titles"], facets=data["facets"],
                   award=data["award"], published=when(data["published"]), deadline=when(data["deadline"]))


@dataclass(frozen=True, slots=True)
class SearchPage:
    ids: list[int]  # in result order; load the rows with one query
    total: int  # documents matching, over all pages
    page: int = 1
    per_page: int = 20
    relaxed: bool = False  # no document had every word: these have at least one


def _utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _schema(spec: KindSpec) -> Schema:
    schema = Schema(
        id=ID(stored=True, unique=True),
        # No positions: queries are bags of words, never phrases, and the
        # index is half the size without them.
        text=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        title=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        award=NUMERIC(numtype=int, bits=64, sortable=True),
        published=DATETIME(sortable=True),
        deadline=DATETIME(sortable=True),
    )
    for name in spec.facets:
        schema.add(name, ID(sortable=True))
    return schema


_SORT_FACETS = {
    "newest": sorting.MultiFacet([sorting.FieldFacet("published", reverse=True)]),
    "deadline": sorting.MultiFacet([sorting.FieldFacet("deadline"), sorting.FieldFacet("award", reverse=True)]),
    "award": sorting.MultiFacet([sorting.FieldFacet("award", reverse=True), sorting.FieldFacet("deadline")]),
}


class _Shared:
    """Per-process state of one index folder, shared by every SearchIndex on it."""

    def __init__(self) -> None:
        self.write_lock = threading.Lock()
        self.read_lock = threading.Lock()
        self.generation: str | None = None
        self.index = None
        self.idle: list = []  # searchers ready for reuse (one thread at a time each)


_shared_lock = threading.Lock()
_shared: dict[Path, _Shared] = {}


def _shared_for(root: Path) -> _Shared:
    with _shared_lock:
        return _shared.setdefault(root, _Shared())


class SearchIndex:
    """A handle on the index of one document kind; cheap to create."""

    MAX_IDLE_SEARCHERS = 8

    def __init__(self, folder: Path, kind: str, *, write_timeout: float = 30.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown search kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        self.folder = Path(folder).resolve()
        self.kind = kind
        self.spec = KINDS[kind]
        self.schema = _schema(self.spec)
        self.root = self.folder / kind
        self.write_timeout = write_timeout
        self._shared = _shared_for(self.root)
        analysis.configure(self.folder)

    # -- generations -------------------------------------------------------

    def _current(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def _set_current(self, generation: str) -> None:
        temporary = self.root / f"CURRENT.{secrets.token_hex(4)}"
        with open(temporary, "w") as handle:
            handle.write(generation)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / "CURRENT")

    def _new_generation(self) -> str:
        name = f"v{SCHEMA_VERSION}.{time.time_ns()}.{secrets.token_hex(3)}"
        (self.root / name).mkdir(parents=True)
        whoosh_index.create_in(str(self.root / name), self.schema)
        return name

    def _open(self, generation: str):
        # Our schema, not the one pickled in the index, so that the analyzer's
        # code is always the current one.
        return whoosh_index.open_dir(str(self.root / generation), schema=self.schema)

    def ensure(self) -> None:
        """Create the index if there is none yet."""
        self.root.mkdir(parents=True, exist_ok=True)
        current = self._current()
        if current is not None:
            if not current.startswith(f"v{SCHEMA_VERSION}."):
                logger.warning("search index %s was built by another version: run `flask search reindex`", self.root)
            return
        with self._writing():
            if self._current() is None:
                self._set_current(self._new_generation())

    # -- writing -----------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the index's write lock: threads queue on a lock, processes on a file lock."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._shared.write_lock.acquire(timeout=self.write_timeout):
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
            self._shared.write_lock.release()

    @contextmanager
    def _writer(self, generation: str, **kwargs):
        writer = self._open(generation).writer(timeout=self.write_timeout, **kwargs)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    def _document(self, doc: SearchDoc) -> dict:
        if isinstance(doc.id, bool) or not isinstance(doc.id, int):
            raise ValueError(f"SearchDoc.id must be an int, got {doc.id!r}")
        unknown = set(doc.facets) - set(self.spec.facets)
        if unknown:
            raise ValueError(f"facets {sorted(unknown)} are not declared for {self.kind!r}")
        if doc.award is not None and (isinstance(doc.award, bool) or not isinstance(doc.award, int)):
            raise ValueError(f"SearchDoc.award must be an int (minor units), got {doc.award!r}")
        fields = {
            "id": str(doc.id),
            "text": "\n".join(text for text in doc.texts.values() if text),
            "title": "\n".join(title for title in doc.titles.values() if title),
            "award": doc.award or 0,
            "published": _utc_naive(doc.published) if doc.published else _NO_PUBLISHED,
            "deadline": _utc_naive(doc.deadline) if doc.deadline else _NO_DEADLINE,
        }
        for name, value in doc.facets.items():
            if value is not None and value != "":
                fields[name] = str(value)
        return fields

    def _apply(self, generation: str, operation: dict) -> None:
        """Write one operation (upsert/delete/clear) into a generation and commit."""
        with self._writer(generation) as writer:
            if operation["op"] == "upsert":
                for doc in operation["docs"]:
                    writer.update_document(**doc)
                writer.commit()
            elif operation["op"] == "delete":
                for doc_id in operation["ids"]:
                    writer.delete_by_term("id", str(doc_id))
                writer.commit()
            else:
                writer.commit(mergetype=CLEAR)

    def _write(self, operation: dict, journal_entry: dict) -> None:
        with self._writing():
            generation = self._current()
            if generation is None:
                self._set_current(generation := self._new_generation())
            self._apply(generation, operation)
            if (self.root / "REBUILDING").exists():
                with open(self.root / "journal.jsonl", "a", encoding="utf-8") as journal:
                    journal.write(json.dumps(journal_entry, ensure_ascii=False) + "\n")

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace documents (by id), all in one commit; returns how many."""
        docs = list(docs)
        if not docs:
            return 0
        fields = [self._document(doc) for doc in docs]
        self._write({"op": "upsert", "docs": fields}, {"op": "upsert", "docs": [doc.to_json() for doc in docs]})
        return len(docs)

    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        ids = [int(doc_id) for doc_id in ids]
        if ids:
            self._write({"op": "delete", "ids": ids}, {"op": "delete", "ids": ids})

    def clear(self) -> None:
        """Remove every document."""
        self._write({"op": "clear"}, {"op": "clear"})

    def rebuild(self, batches: Iterable[Iterable[SearchDoc]], *,
                progress: Callable[[int], None] | None = None) -> int:
        """Index every document into a fresh generation and make it live.

        Searches and writes keep using the live generation meanwhile; writes are
        journaled and replayed before the swap. `progress(n)` is called after
        each batch with its size. Returns the number of documents indexed.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self._writing():
            self._discard_unfinished_rebuild()
            generation = self._new_generation()
            (self.root / "REBUILDING").write_text(generation)
        try:
            count = 0
            with self._writer(generation, limitmb=256) as writer:
                for batch in batches:
                    batch = list(batch)
                    for doc in batch:
                        writer.add_document(**self._document(doc))
                    count += len(batch)
                    if progress:
                        progress(len(batch))
                writer.commit()
            with self._writing():
                previous = self._current()
                self._replay_journal(generation)
                self._set_current(generation)
                (self.root / "REBUILDING").unlink()
                (self.root / "journal.jsonl").unlink(missing_ok=True)
        except BaseException:
            with self._writing():
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
            entry = json.loads(line)
            if entry["op"] == "upsert":
                entry = {"op": "upsert", "docs": [self._document(SearchDoc.from_json(doc)) for doc in entry["docs"]]}
            self._apply(generation, entry)
        logger.info("search index %s: replayed %d write(s) made during the rebuild", self.root, len(lines))

    def _discard_unfinished_rebuild(self) -> None:
        marker = self.root / "REBUILDING"
        if marker.exists():
            unfinished = marker.read_text().strip()
            if unfinished and unfinished != self._current():
                shutil.rmtree(self.root / unfinished, ignore_errors=True)
            marker.unlink()
        (self.root / "journal.jsonl").unlink(missing_ok=True)

    def _prune(self, keep: set[str | None]) -> None:
        for path in self.root.iterdir():
            if path.is_dir() and path.name.startswith("v") and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # -- reading -----------------------------------------------------------

    @contextmanager
    def _searcher(self):
        """A searcher on the live generation (None when there is no index yet)."""
        generation = self._current()
        if generation is None:
            yield None
            return
        shared = self._shared
        with shared.read_lock:
            if shared.generation != generation:
                for stale in shared.idle:
                    stale.close()
                shared.idle = []
                shared.index = self._open(generation)
                shared.generation = generation
            searcher = shared.idle.pop() if shared.idle else None
            ix = shared.index
        if searcher is not None and not searcher.up_to_date():
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = ix.searcher()
        try:
            yield searcher
        finally:
            with shared.read_lock:
                if shared.generation == generation and len(shared.idle) < self.MAX_IDLE_SEARCHERS:
                    shared.idle.append(searcher)
                    searcher = None
            if searcher is not None:
                searcher.close()

    def doc_count(self) -> int:
        with self._searcher() as searcher:
            return 0 if searcher is None else searcher.doc_count()

    def _filter_query(self, filters: Mapping[str, object] | None, *, skip: Iterable[str] = ()) -> Query | None:
        """A query for the filters: facet -> value or list of values (any of);
        min_/max_award, deadline_/published_after/before -> inclusive bounds.
        None and "" values are ignored; an empty list matches nothing."""
        skip = set(skip)
        parts: list[Query] = []
        bounds: dict[str, dict[str, object]] = {}
        for key, value in (filters or {}).items():
            if value is None or value == "" or key in skip:
                continue
            if key in self.spec.facets:
                values = [value] if isinstance(value, str | int) else [v for v in value if v not in (None, "")]
                parts.append(Or([Term(key, str(v)) for v in values]) if values else NullQuery)
            elif key in _RANGE_FILTERS:
                name, end = _RANGE_FILTERS[key]
                bounds.setdefault(name, {})[end] = value
            else:
                raise ValueError(f"unknown search filter {key!r}")
        for name, ends in bounds.items():
            low, high = ends.get("low"), ends.get("high")
            if name == "award":
                if any(isinstance(v, bool) or not isinstance(v, int | None) for v in (low, high)):
                    raise ValueError("award bounds must be integers (minor units)")
                parts.append(NumericRange("award", low, high))
            else:
                parts.append(DateRange(name, low and _utc_naive(low), high and _utc_naive(high)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(parts)

    @staticmethod
    def _word_query(word: str) -> Query:
        alternatives: list[Query] = [Term("text", word), Term("title", word, boost=TITLE_BOOST)]
        parts = analysis.word_parts(word)
        if parts:
            alternatives.append(And([Term("text", part) for part in parts]))
        return Or(alternatives)

    def _text_queries(self, text: str) -> tuple[Query, Query | None] | None:
        """(all words, any word) for user text, or None when it has no searchable word.

        User text is never parsed as query syntax: quotes, colons, brackets and
        AND/OR are just characters, dropped or kept by the analyzer like any other.
        """
        words = analysis.query_words(text[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
        if not words:
            return None
        groups = [self._word_query(word) for word in words]
        if len(groups) == 1:
            return groups[0], None
        return And(groups), Or(groups, scale=0.9)

    @staticmethod
    def _restricted(query: Query, filter_query: Query | None) -> Query:
        """`query` limited to the documents matching `filter_query`, scored by `query` alone.

        (Not Whoosh's `filter=` argument: with a filter that matches nothing,
        its result count wrongly includes every match of the query.)
        """
        if filter_query is None:
            return query
        if isinstance(query, Every):
            return filter_query
        return Require(query, filter_query)

    def _run(self, searcher, query: Query, filter_query: Query | None, sort: str, page: int, per_page: int):
        query = self._restricted(query, filter_query)
        # optimize=False: block-quality skipping saves nothing when the exact
        # total is needed anyway (counting re-runs the query), and Whoosh's
        # Require matcher trips an assertion in it.
        kwargs = {"limit": page * per_page, "optimize": False}
        if sort != "relevance":
            kwargs["sortedby"] = _SORT_FACETS[sort]
        results = searcher.search(query, **kwargs)
        hits = results[(page - 1) * per_page: page * per_page]
        return [int(hit["id"]) for hit in hits], len(results)

    def search(self, query: str = "", *, filters: Mapping[str, object] | None = None, sort: str | None = None,
               page: int = 1, per_page: int = 20) -> SearchPage:
        """One page of matching ids, best first.

        `query` is user text, never parsed as syntax, so it never raises. An
        empty query lists every document that passes the filters. Documents
        must contain every word; when none does, documents with any word are
        returned instead and `relaxed` is set. `sort` is one of SORTS; the
        default is relevance with a query and newest without (relevance
        without a query also means newest).
        """
        if sort is not None and sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page must be >= 1 and per_page within 1..{MAX_PER_PAGE}")
        text = (query or "").strip()
        sort = sort or "relevance"
        if not text and sort == "relevance":
            sort = "newest"
        empty = SearchPage([], 0, page, per_page)
        filter_query = self._filter_query(filters)
        with self._searcher() as searcher:
            if searcher is None:
                return empty
            if not text:
                ids, total = self._run(searcher, Every(), filter_query, sort, page, per_page)
                return SearchPage(ids, total, page, per_page)
            queries = self._text_queries(text)
            if queries is None:
                return empty
            all_words, any_word = queries
            ids, total = self._run(searcher, all_words, filter_query, sort, page, per_page)
            if total == 0 and any_word is not None:
                ids, total = self._run(searcher, any_word, filter_query, sort, page, per_page)
                return SearchPage(ids, total, page, per_page, relaxed=total > 0)
            return SearchPage(ids, total, page, per_page)

    def facets(self, query: str = "", *, filters: Mapping[str, object] | None = None,
               field_names: Sequence[str] = (),
               ranges: Mapping[str, Mapping[str, tuple[object, object]]] | None = None) -> dict[str, dict[str, int]]:
        """Counts per facet value of the documents `search` would match.

        field_names: facet fields -> {value: count} for values present.
        ranges: "award" | "deadline" | "published" -> {label: (low, high)},
            inclusive bounds, None for open-ended -> {label: count} (every label).
        A facet's own filter is left out when counting it, so the browse page
        can show what choosing another value would give.
        """
        unknown = (set(field_names) - set(self.spec.facets)) | (set(ranges or ()) - _RANGE_FIELDS)
        if unknown:
            raise ValueError(f"cannot count facets {sorted(unknown)}")
        counts: dict[str, dict[str, int]] = {}
        for name in field_names:
            counts[name] = {}
        for name, buckets in (ranges or {}).items():
            counts[name] = dict.fromkeys(buckets, 0)
        text = (query or "").strip()
        with self._searcher() as searcher:
            if searcher is None:
                return counts
            main = self._facet_query(searcher, text, self._filter_query(filters))
            if main is None:
                return counts
            # Facets whose own filter is not set share one pass; the others
            # need one pass each without their own filter.
            passes: dict[tuple[str, ...], dict[str, sorting.FacetType]] = {}
            for name in field_names:
                own = (name,) if (filters or {}).get(name) not in (None, "") else ()
                passes.setdefault(own, {})[name] = sorting.FieldFacet(name)
            for name, buckets in (ranges or {}).items():
                own = tuple(key for key, (target, _) in _RANGE_FILTERS.items()
                            if target == name and (filters or {}).get(key) not in (None, ""))
                passes.setdefault(own, {})[name] = sorting.QueryFacet(
                    {label: self._range_query(name, low, high) for label, (low, high) in buckets.items()},
                    allow_overlap=True)
            for skipped, facets in passes.items():
                filter_query = self._filter_query(filters, skip=skipped)
                results = searcher.search(self._restricted(main, filter_query), groupedby=facets,
                                          maptype=sorting.Count, limit=1, scored=False)
                for name in facets:
                    for value, count in results.groups(name).items():
                        if value not in (None, ""):
                            counts[name][value] = count
        return counts

    def _facet_query(self, searcher, text: str, filter_query: Query | None) -> Query | None:
        """The text query `search` would use for these filters (None: matches nothing)."""
        if not text:
            return Every()
        queries = self._text_queries(text)
        if queries is None:
            return None
        all_words, any_word = queries
        if any_word is not None and searcher.search(self._restricted(all_words, filter_query), limit=1).is_empty():
            return any_word
        return all_words

    @staticmethod
    def _range_query(name: str, low, high) -> Query:
        if name == "award":
            return NumericRange("award", low, high)
        return DateRange(name, low and _utc_naive(low), high and _utc_naive(high))
