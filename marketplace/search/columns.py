"""Per-document values held in memory for filtering, sorting and counting.

Whoosh evaluates a numeric range as a union of many terms, and its sorting and
grouping collectors run Python code for every matching document: with 10,000
documents a browse page took 20-50 ms and a facet count ~100 ms. Here the facet
values, award and dates of one index version are loaded once into sets and
sorted arrays, so filters are set intersections and bisections, sorts are a
heap over precomputed ranks, and counts are intersection sizes (all in C).

A snapshot belongs to one index version (the live generation and its Whoosh
TOC generation): global document numbers are only stable within it. Loading
takes a few tens of milliseconds per 10,000 documents, once per write.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from marketplace.search.queries import RANGE_FILTERS, utc_naive

NUMERIC_FIELDS = ("award", "published", "deadline")

# sort -> (field, descending) keys, most significant first
SORT_KEYS = {
    "newest": (("published", True),),
    "deadline": (("deadline", False), ("award", True)),
    "award": (("award", True), ("deadline", False)),
}


def is_set(value: object) -> bool:
    return value is not None and value != ""


@dataclass(frozen=True)
class _Sorted:
    values: list[int]  # raw column values, ascending
    docs: list[int]  # document numbers in the same order


class Columns:
    """Facet postings, numeric values and sort ranks of the live documents of one index version."""

    def __init__(self, searcher, facet_names: Collection[str]) -> None:
        schema = searcher.schema
        self._schema = schema
        live: set[int] = set()
        numbers: dict[str, list[tuple[int, int]]] = {name: [] for name in NUMERIC_FIELDS}
        facets: dict[str, dict[str, set[int]]] = {name: {} for name in facet_names}
        for leaf, offset in searcher.reader().leaf_readers():
            leaf_live = [offset + docnum for docnum in leaf.all_doc_ids()]
            live.update(leaf_live)
            for name in NUMERIC_FIELDS:
                column = list(leaf.column_reader(name, translate=False)) if leaf.has_column(name) else None
                default = schema[name].column_type.default_value()
                numbers[name].extend((default if column is None else column[d - offset], d) for d in leaf_live)
            for name in facet_names:
                if not leaf.has_column(name):
                    continue
                column = list(leaf.column_reader(name, translate=True))
                by_value = facets[name]
                for docnum in leaf_live:
                    value = column[docnum - offset]
                    if value:
                        by_value.setdefault(value, set()).add(docnum)
        self.live = frozenset(live)
        self.facets = {name: {value: frozenset(docs) for value, docs in by_value.items()}
                       for name, by_value in facets.items()}
        self._sorted: dict[str, _Sorted] = {}
        for name, pairs in numbers.items():
            pairs.sort()
            self._sorted[name] = _Sorted([value for value, _ in pairs], [docnum for _, docnum in pairs])
        self._value = {name: dict(zip(s.docs, s.values, strict=True)) for name, s in self._sorted.items()}
        self._ranks = {sort: self._rank(keys) for sort, keys in SORT_KEYS.items()}

    def _rank(self, keys) -> dict[int, int]:
        def key(docnum: int):
            return tuple(-self._value[name][docnum] if descending else self._value[name][docnum]
                         for name, descending in keys) + (docnum,)

        return {docnum: rank for rank, docnum in enumerate(sorted(self.live, key=key))}

    # -- filters -----------------------------------------------------------

    def _raw(self, name: str, value) -> int:
        if name == "award":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"award bounds must be integers (minor units), got {value!r}")
        elif not isinstance(value, datetime):
            raise ValueError(f"{name} bounds must be datetimes, got {value!r}")
        else:
            value = utc_naive(value)
        return self._schema[name].to_column_value(value)

    def in_range(self, name: str, low, high) -> list[int]:
        """Documents whose `name` lies within the inclusive bounds (None: open-ended)."""
        ordered = self._sorted[name]
        start = 0 if low is None else bisect_left(ordered.values, self._raw(name, low))
        end = len(ordered.values) if high is None else bisect_right(ordered.values, self._raw(name, high))
        return ordered.docs[start:end]

    def matching(self, filters: Mapping[str, object] | None, *, skip: Iterable[str] = ()) -> frozenset[int]:
        """The live documents passing `filters`.

        facet name -> a value or a list of values (any of); min_award/max_award,
        deadline_after/deadline_before, published_after/published_before ->
        inclusive bounds. None and "" values are ignored; an empty list matches
        nothing. An unknown key is a programming error (ValueError).
        """
        skip = set(skip)
        docs = self.live
        bounds: dict[str, dict[str, object]] = {}
        for key, value in (filters or {}).items():
            if not is_set(value) or key in skip:
                continue
            if key in self.facets:
                values = [value] if isinstance(value, str | int) else [v for v in value if is_set(v)]
                postings = self.facets[key]
                docs = docs.intersection(*[]) if False else docs  # keep type for readability
                allowed = set().union(*(postings.get(str(v), ()) for v in values))
                docs = docs & allowed
            elif key in RANGE_FILTERS:
                name, end = RANGE_FILTERS[key]
                bounds.setdefault(name, {})[end] = value
            else:
                raise ValueError(f"unknown search filter {key!r}")
        for name, ends in bounds.items():
            docs = docs.intersection(self.in_range(name, ends.get("low"), ends.get("high")))
        return docs

    # -- sorting and counting ------------------------------------------------

    def top(self, docs: Iterable[int], sort: str, limit: int) -> list[int]:
        """The first `limit` of `docs` in `sort` order."""
        return heapq.nsmallest(limit, docs, key=self._ranks[sort].__getitem__)

    def count_values(self, name: str, docs: frozenset[int]) -> dict[str, int]:
        counts = {value: len(docs & postings) for value, postings in self.facets[name].items()}
        return {value: count for value, count in counts.items() if count}

    def count_range(self, name: str, low, high, docs: frozenset[int]) -> int:
        in_range = self.in_range(name, low, high)
        return len(in_range) if docs is self.live else len(docs.intersection(in_range))
