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

Storage, locking and rebuilds: see ``storage``; query building: ``queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whoosh import sorting
from whoosh.fields import DATETIME, ID, NUMERIC, TEXT, Schema
from whoosh.query import Every, Query

from marketplace.search import analysis, queries
from marketplace.search.storage import IndexBusy, IndexStore

__all__ = ["KINDS", "SORTS", "IndexBusy", "KindSpec", "SearchDoc", "SearchIndex", "SearchPage", "register_kind"]

SORTS = ("relevance", "newest", "deadline", "award")
MAX_PER_PAGE = 100
# Bump the first number when the schema changes (the second follows the analysis).
SCHEMA_VERSION = f"1-{analysis.ANALYSIS_VERSION}"

# Stored for documents without one, so that sorting puts them last.
_NO_PUBLISHED = datetime(1970, 1, 1)
_NO_DEADLINE = datetime(9999, 12, 31)
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


def _schema(spec: KindSpec) -> Schema:
    schema = Schema(
        id=ID(stored=True, unique=True),
        # No positions: queries are bags of words, never phrases.
        text=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        title=TEXT(analyzer=analysis.ANALYZER, phrase=False),
        award=NUMERIC(numtype=int, bits=64, sortable=True),
        published=DATETIME(sortable=True),
        deadline=DATETIME(sortable=True),
    )
    for name in spec.facets:
        schema.add(name, ID(sortable=True))
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
        if isinstance(doc.id, bool) or not isinstance(doc.id, int):
            raise ValueError(f"SearchDoc.id must be an int, got {doc.id!r}")
        undeclared = set(doc.facets) - set(self.spec.facets)
        if undeclared:
            raise ValueError(f"facets {sorted(undeclared)} are not declared for {self.kind!r}")
        if doc.award is not None and (isinstance(doc.award, bool) or not isinstance(doc.award, int)):
            raise ValueError(f"SearchDoc.award must be an int (minor units), got {doc.award!r}")
        fields = {
            "id": str(doc.id),
            "text": "\n".join(text for text in doc.texts.values() if text),
            "title": "\n".join(title for title in doc.titles.values() if title),
            "award": doc.award or 0,
            "published": queries.utc_naive(doc.published) if doc.published else _NO_PUBLISHED,
            "deadline": queries.utc_naive(doc.deadline) if doc.deadline else _NO_DEADLINE,
        }
        fields.update((name, str(value)) for name, value in doc.facets.items() if queries.is_set(value))
        return fields

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace documents (by id) in one commit; returns how many.

        Waits for other writers (threads or processes) up to `write_timeout`
        seconds, then raises IndexBusy.
        """
        fields = [self._fields(doc) for doc in docs]
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
        def field_batches() -> Iterator[list[dict]]:
            for batch in batches:
                yield [self._fields(doc) for doc in batch]

        return self.store.rebuild(field_batches(), progress)

    # -- reading -----------------------------------------------------------

    def doc_count(self) -> int:
        with self.store.searcher() as searcher:
            return 0 if searcher is None else searcher.doc_count()

    def search(self, query: str = "", *, filters: Mapping[str, object] | None = None, sort: str | None = None,
               page: int = 1, per_page: int = 20) -> SearchPage:
        """One page of matching ids, best first.

        `query` is user text, never parsed as syntax, so it never raises; an
        empty one lists every document passing the filters, one with no
        searchable word (only punctuation, emoji or stop words) matches
        nothing. Documents must contain every word; when none does, those with
        any word are returned and `relaxed` is set. `sort` is one of SORTS,
        by default relevance with a query and newest without (relevance
        without a query means newest). Filters: see `queries.filter_query`.
        """
        if sort is not None and sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page must be >= 1 and per_page within 1..{MAX_PER_PAGE}")
        text = (query or "").strip()
        sort = sort or "relevance"
        if not text and sort == "relevance":
            sort = "newest"
        filtering = queries.filter_query(filters, self.spec.facets)
        empty = SearchPage([], 0, page, per_page)
        with self.store.searcher() as searcher:
            if searcher is None:
                return empty
            if not text:
                ids, total = self._page(searcher, Every(), filtering, sort, page, per_page)
                return SearchPage(ids, total, page, per_page)
            text_queries = queries.text_queries(text)
            if text_queries is None:
                return empty
            every_word, any_word = text_queries
            ids, total = self._page(searcher, every_word, filtering, sort, page, per_page)
            if total == 0 and any_word is not None:
                ids, total = self._page(searcher, any_word, filtering, sort, page, per_page)
                return SearchPage(ids, total, page, per_page, relaxed=total > 0)
            return SearchPage(ids, total, page, per_page)

    @staticmethod
    def _page(searcher, query: Query, filtering: Query | None, sort: str, page: int, per_page: int):
        # optimize=False: block-quality skipping saves nothing when the exact
        # total is needed anyway (counting re-runs the query), and Whoosh's
        # Require matcher trips an assertion with it.
        kwargs = {"limit": page * per_page, "optimize": False}
        if sort != "relevance":
            kwargs["sortedby"] = queries.SORT_FACETS[sort]
        results = searcher.search(queries.restricted(query, filtering), **kwargs)
        hits = results[(page - 1) * per_page: page * per_page]
        return [int(hit["id"]) for hit in hits], len(results)

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
        filters = filters or {}
        counts: dict[str, dict[str, int]] = {name: {} for name in field_names}
        counts.update((name, dict.fromkeys(buckets, 0)) for name, buckets in (ranges or {}).items())

        # Facets whose own filter is not set share one pass; each other one
        # needs a pass without its own filter.
        passes: dict[tuple[str, ...], dict[str, sorting.FacetType]] = {}
        for name in field_names:
            own = (name,) if queries.is_set(filters.get(name)) else ()
            passes.setdefault(own, {})[name] = sorting.FieldFacet(name)
        for name, buckets in (ranges or {}).items():
            own = tuple(key for key, (target, _) in queries.RANGE_FILTERS.items()
                        if target == name and queries.is_set(filters.get(key)))
            buckets_query = {label: queries.range_query(name, low, high) for label, (low, high) in buckets.items()}
            passes.setdefault(own, {})[name] = sorting.QueryFacet(buckets_query, allow_overlap=True)

        text = (query or "").strip()
        with self.store.searcher() as searcher:
            if searcher is None:
                return counts
            main = self._facet_query(searcher, text, queries.filter_query(filters, self.spec.facets))
            if main is None:
                return counts
            for skipped, facets in passes.items():
                filtering = queries.filter_query(filters, self.spec.facets, skip=skipped)
                results = searcher.search(queries.restricted(main, filtering), groupedby=facets,
                                          maptype=sorting.Count, limit=1, scored=False)
                for name in facets:
                    counts[name].update((value, n) for value, n in results.groups(name).items() if value)
        return counts

    @staticmethod
    def _facet_query(searcher, text: str, filtering: Query | None) -> Query | None:
        """The text query `search` would use with these filters (None: matches nothing)."""
        if not text:
            return Every()
        text_queries = queries.text_queries(text)
        if text_queries is None:
            return None
        every_word, any_word = text_queries
        if any_word is not None and searcher.search(queries.restricted(every_word, filtering), limit=1,
                                                    optimize=False).is_empty():
            return any_word
        return every_word
