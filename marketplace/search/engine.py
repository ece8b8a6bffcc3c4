"""Full-text indexes, one per document kind, that answer with ids only.

The caller owns the data: it turns a row into a :class:`SearchDoc` to index it,
and turns the ids of a :class:`SearchPage` back into rows with one query (so a
results page costs the same number of SQL queries whatever the index holds).
The index never decides who may see what: index only public documents (or
filter on a ``status`` facet) and check visibility again on the rows.

    index = SearchIndex(Path(app.instance_path) / "search", "challenges")
    index.upsert([SearchDoc(id=7, texts={"en": "...", "zh_Hans": "..."}, ...)])
    page = index.search("传感器", filters={"status": "open", "min_award": 100_000}, sort="deadline")
    counts = index.facets("传感器", filters={...}, field_names=["field", "challenge_type"])

Whoosh stores the postings; matching and BM25F ranking run on numpy arrays
(``ranking``), filters, sorts and facet counts on in-memory ``columns``, so a
search at 100,000 documents costs a few vectorised operations, not Python code
per matching document; storage, locking and rebuilds are in ``storage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema

from marketplace.search import analysis, queries
from marketplace.search.columns import NUMERIC_FIELDS, Columns, top_by
from marketplace.search.ranking import Matches, Ranker, ScoreCache
from marketplace.search.storage import IndexBusy, IndexStore, Reading

__all__ = ["KINDS", "SORTS", "IndexBusy", "KindSpec", "SearchDoc", "SearchIndex", "SearchPage", "register_kind"]

SORTS = ("relevance", "newest", "deadline", "award")
MAX_PER_PAGE = 100


def search_arguments(query: str | None, sort: str | None, page: int, per_page: int) -> tuple[str, str]:
    """(the stripped text, the sort) of a search, or ValueError; both backends read their arguments here.

    Relevance is the default with text; without text there is no relevance, so newest.
    """
    if sort is not None and sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be >= 1 and per_page within 1..{MAX_PER_PAGE}")
    text = (query or "").strip()
    sort = sort or "relevance"
    return text, ("newest" if not text and sort == "relevance" else sort)
# Bump the first number when the schema changes (the second follows the analysis).
SCHEMA_VERSION = f"1-{analysis.ANALYSIS_VERSION}"

# Stored for documents without one, so that sorting puts them last.
NO_PUBLISHED = datetime(1970, 1, 1)
NO_DEADLINE = datetime(9999, 12, 31)
_CORE_FIELDS = frozenset({"id", "text", "title", "award", "published", "deadline"})


@dataclass(frozen=True)
class KindSpec:
    """The keyword facets a document kind is filtered and counted by."""

    facets: tuple[str, ...]


KINDS: dict[str, KindSpec] = {
    "challenges": KindSpec(facets=("field", "challenge_type", "status", "currency", "organization")),
}


def register_kind(name: str, *, facets: Sequence[str]) -> None:
    """Declare a document kind (open results, experts, ...) and its facet fields."""
    reserved = (_CORE_FIELDS | queries.RANGE_FILTERS.keys()) & set(facets)
    if reserved:
        raise ValueError(f"facet names {sorted(reserved)} are reserved")
    KINDS[name] = KindSpec(facets=tuple(facets))


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One document as the index sees it.

    texts: locale -> all searchable text of that locale (title, summary,
        description, criteria, ...); every locale goes into one analysed field.
    titles: locale -> title, indexed again in a boosted field for ranking.
    facets: keyword values to filter and count by (str or int; None = absent);
        the names must be declared for the kind (see KINDS).
    award: an integer used by min_award/max_award and the award sort; it must
        be in one unit for every document (e.g. minor units of a reference
        currency) for those to compare like with like.
    published, deadline: aware (or naive UTC) datetimes, for sorting and filtering.
    """

    id: int
    texts: Mapping[str, str]
    titles: Mapping[str, str] = field(default_factory=dict)
    facets: Mapping[str, str | int | None] = field(default_factory=dict)
    award: int | None = None
    published: datetime | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    ids: list[int]  # in result order
    total: int  # documents matching, over all pages
    page: int = 1
    per_page: int = 20
    relaxed: bool = False  # no document had every word: these have at least one


def check_doc(doc: SearchDoc, spec: KindSpec, kind: str) -> None:
    """Refuse a document the kind cannot hold (a programming error: ValueError)."""
    if isinstance(doc.id, bool) or not isinstance(doc.id, int):
        raise ValueError(f"SearchDoc.id must be an int, got {doc.id!r}")
    undeclared = set(doc.facets) - set(spec.facets)
    if undeclared:
        raise ValueError(f"facets {sorted(undeclared)} are not declared for {kind!r}")
    if doc.award is not None and (isinstance(doc.award, bool) or not isinstance(doc.award, int)):
        raise ValueError(f"SearchDoc.award must be an int (minor units), got {doc.award!r}")


def _schema(spec: KindSpec) -> Schema:
    # Facets are matched through their postings and the numbers through their
    # columns (see columns.py), so neither needs Whoosh's sortable/range machinery.
    schema = Schema(
        id=ID(stored=True, unique=True),
        # No positions: queries are bags of words, never phrases.
        text=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        title=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        **{name: COLUMN(NumericColumn("q")) for name in NUMERIC_FIELDS},
    )
    for name in spec.facets:
        schema.add(name, ID())
    return schema


class SearchIndex:
    """The index of one document kind under `folder` (e.g. instance/search); cheap to create.

    jieba's cache file is written into `folder` too.
    """

    def __init__(self, folder: Path, kind: str, *, write_timeout: float = 30.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown search kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        self.folder = Path(folder).resolve()
        self.kind = kind
        self.spec = KINDS[kind]
        self.store = IndexStore(self.folder / kind, _schema(self.spec), SCHEMA_VERSION, write_timeout=write_timeout)
        analysis.configure(self.folder)

    # -- writing -----------------------------------------------------------

    def ensure(self) -> None:
        """Create the (empty) index if there is none yet."""
        self.store.ensure()

    def _fields(self, doc: SearchDoc) -> dict:
        check_doc(doc, self.spec, self.kind)
        fields = {
            "id": str(doc.id),
            "text": "\n".join(text for text in doc.texts.values() if text),
            "title": "\n".join(title for title in doc.titles.values() if title),
            "award": doc.award or 0,
            "published": queries.timestamp(doc.published or NO_PUBLISHED),
            "deadline": queries.timestamp(doc.deadline or NO_DEADLINE),
        }
        fields.update((name, str(value)) for name, value in doc.facets.items() if queries.is_set(value))
        return fields

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace documents (by id) in one commit; returns how many.

        Waits for other writers (threads or processes) up to `write_timeout`
        seconds, then raises IndexBusy.
        """
        # One document per id, the last one given: Whoosh would keep both
        # copies of an id added twice before a commit.
        fields = list({doc.id: self._fields(doc) for doc in docs}.values())
        if fields:
            self.store.write({"op": "upsert", "docs": fields})
        return len(fields)

    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        ids = [int(doc_id) for doc_id in ids]
        if ids:
            self.store.write({"op": "delete", "ids": ids})

    def clear(self) -> None:
        """Remove every document."""
        self.store.write({"op": "clear"})

    def rebuild(self, batches: Iterable[Iterable[SearchDoc]], *,
                progress: Callable[[int], None] | None = None) -> int:
        """Index every document into a fresh index and swap it in; returns the count.

        Searches and writes keep working on the old index meanwhile; writes made
        during the rebuild are replayed into the new one before the swap.
        `progress(n)` is called after each batch of n documents.
        """
        seen: set[int] = set()

        def field_batches() -> Iterator[list[dict]]:
            for batch in batches:
                batch = list(batch)
                fields = [self._fields(doc) for doc in batch]
                for doc in batch:
                    if doc.id in seen:
                        raise ValueError(f"document {doc.id} was given twice to the rebuild")
                    seen.add(doc.id)
                yield fields

        return self.store.rebuild(field_batches(), progress)

    # -- reading -----------------------------------------------------------

    def doc_count(self) -> int:
        with self.store.reading() as reading:
            return 0 if reading is None else reading.searcher.doc_count()

    def _columns(self, reading: Reading) -> Columns:
        columns = reading.cache.get("columns")
        if columns is None:
            columns = Columns(reading.searcher, self.spec.facets, reading.segment_cache)
            columns = reading.cache.setdefault("columns", columns)
        return columns

    @staticmethod
    def _ranker(reading: Reading, columns: Columns) -> Ranker:
        scores = reading.cache.get("scores")
        if scores is None:
            scores = reading.cache.setdefault("scores", ScoreCache())
        return Ranker(reading.searcher, reading.segment_cache, columns.size, scores)

    def search(self, query: str = "", *, filters: Mapping[str, object] | None = None, sort: str | None = None,
               page: int = 1, per_page: int = 20) -> SearchPage:
        """One page of matching ids, best first.

        `query` is user text, never parsed as syntax, so it never raises; an
        empty one lists every document passing the filters, one with no
        searchable word (only punctuation, emoji or stop words) matches
        nothing. Documents must contain every word; when none does, those with
        any word are returned and `relaxed` is set. `sort` is one of SORTS,
        by default relevance with a query and newest without (relevance
        without a query means newest). Filters: see `Columns.matching`.
        The total is exact: the number of documents set in the match mask.
        """
        text, sort = search_arguments(query, sort, page, per_page)
        self._check_filters(filters)
        empty = SearchPage([], 0, page, per_page)
        with self.store.reading() as reading:
            if reading is None:
                return empty
            columns = self._columns(reading)
            allowed = columns.matching(filters)
            if not allowed.any():
                return empty
            if not text:
                docnums = columns.top(allowed, sort, page * per_page)[(page - 1) * per_page:]
                return SearchPage(self._ids(reading, docnums), int(np.count_nonzero(allowed)), page, per_page)
            plan = queries.word_plan(text)
            if plan is None:
                return empty
            ranker = self._ranker(reading, columns)
            matches = ranker.every_word(plan)
            matched = matches.mask & allowed
            relaxed = len(plan) > 1 and not matched.any()
            if relaxed:
                matches = ranker.any_word(plan)
                matched = matches.mask & allowed
            docnums = self._page_of(columns, matches, matched, sort, page * per_page)[(page - 1) * per_page:]
            total = int(np.count_nonzero(matched))
            return SearchPage(self._ids(reading, docnums), total, page, per_page, relaxed=relaxed and total > 0)

    def _check_filters(self, filters: Mapping[str, object] | None) -> None:
        unknown = set(filters or ()) - set(self.spec.facets) - queries.RANGE_FILTERS.keys()
        if unknown:
            raise ValueError(f"unknown search filter {sorted(unknown)[0]!r}")

    @staticmethod
    def _ids(reading: Reading, docnums: Iterable[int]) -> list[int]:
        return [int(reading.searcher.stored_fields(docnum)["id"]) for docnum in docnums]

    @staticmethod
    def _page_of(columns: Columns, matches: Matches, matched: np.ndarray, sort: str, limit: int) -> list[int]:
        """The first `limit` matched document numbers: best score first (ties by document number) or by `sort`."""
        if sort != "relevance":
            return columns.top(matched, sort, limit)
        return top_by(np.flatnonzero(matched), -matches.scores[matched], limit)

    def facets(self, query: str = "", *, filters: Mapping[str, object] | None = None,
               field_names: Sequence[str] = (),
               ranges: Mapping[str, Mapping[str, tuple[object, object]]] | None = None) -> dict[str, dict[str, int]]:
        """Counts per facet value over the documents `search` would match.

        field_names: facet fields -> {value (str): count} for values present.
        ranges: "award" | "deadline" | "published" -> {label: (low, high)},
            inclusive bounds, None for open-ended -> {label: count} (every label).
        A facet's own filter is left out when counting it, so a browse page can
        show what choosing another value would give.
        """
        undeclared = (set(field_names) - set(self.spec.facets)) | (set(ranges or ()) - queries.RANGE_FIELDS)
        if undeclared:
            raise ValueError(f"cannot count facets {sorted(undeclared)}")
        self._check_filters(filters)
        filters = filters or {}
        counts: dict[str, dict[str, int]] = {name: {} for name in field_names}
        counts.update((name, dict.fromkeys(buckets, 0)) for name, buckets in (ranges or {}).items())
        with self.store.reading() as reading:
            if reading is None:
                return counts
            columns = self._columns(reading)
            matched = self._facet_matches(reading, columns, (query or "").strip(), columns.matching(filters))
            if matched is not None and not matched.any():
                return counts

            def candidates(own_filters: Iterable[str]) -> np.ndarray:
                allowed = columns.matching(filters, skip=own_filters)
                return allowed if matched is None else allowed & matched

            for name in field_names:
                counts[name] = columns.count_values(name, candidates([name]))
            for name, buckets in (ranges or {}).items():
                docs = candidates([key for key, (target, _) in queries.RANGE_FILTERS.items() if target == name])
                for label, (low, high) in buckets.items():
                    counts[name][label] = columns.count_range(name, low, high, docs)
        return counts

    def _facet_matches(self, reading: Reading, columns: Columns, text: str, allowed: np.ndarray) -> np.ndarray | None:
        """The documents the text matches the way `search` would (None: no text, all do)."""
        if not text:
            return None
        plan = queries.word_plan(text)
        if plan is None:
            return np.zeros(columns.size, dtype=bool)
        ranker = self._ranker(reading, columns)
        matched = ranker.every_word(plan).mask
        if len(plan) > 1 and not (matched & allowed).any():
            matched = ranker.any_word(plan).mask
        return matched
