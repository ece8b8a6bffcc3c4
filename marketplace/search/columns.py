"""Per-document values held in memory for filtering, sorting and counting.

Whoosh evaluates a numeric range as a union of many terms, and its sorting and
grouping collectors run Python code for every matching document: with 10,000
documents a browse page took 20-50 ms and a facet count ~100 ms. Here the facet
values, award and dates of one index version are held as sets and sorted
lists, so filters are set intersections and bisections, sorts a heap over
precomputed ranks, and counts intersection sizes (all running in C).

Document numbers are only stable within one index version, so a ``Columns``
belongs to one version. Decoding a segment's values is the slow part and
segments never change (only their deletions do), so decoded segments are
cached across versions: after a write only its new small segment is decoded.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from marketplace.search.queries import RANGE_FILTERS, is_set, timestamp

NUMERIC_FIELDS = ("award", "published", "deadline")

# sort -> (field, descending) keys, most significant first
SORT_KEYS = {
    "newest": (("published", True),),
    "deadline": (("deadline", False), ("award", True)),
    "award": (("award", True), ("deadline", False)),
}


@dataclass(frozen=True)
class _Segment:
    """The decoded values of one segment, by segment-local document number."""

    numbers: dict[str, list[int]]  # field -> raw sortable value of each document
    facets: dict[str, dict[str, list[int]]]  # field -> value -> documents

    @classmethod
    def load(cls, leaf, facet_names: Collection[str]) -> _Segment:
        schema = leaf.schema
        numbers = {name: list(leaf.column_reader(name, translate=False)) for name in NUMERIC_FIELDS}
        facets = {}
        for name in facet_names:
            field = schema[name]
            facets[name] = {field.from_bytes(term): list(leaf.postings(name, term).all_ids())
                            for term in leaf.lexicon(name)}
        return cls(numbers, facets)


class Columns:
    """Facet postings, numeric values and sort ranks of the live documents of one index version.

    The sorted lists and ranks are built on first use: a browse page needs one sort.
    """

    def __init__(self, searcher, facet_names: Collection[str], segment_cache: dict) -> None:
        live: list[int] = []
        raw: dict[str, list[int]] = {name: [] for name in NUMERIC_FIELDS}
        postings: dict[str, dict[str, set[int]]] = {name: {} for name in facet_names}
        present = set()
        for leaf, offset in searcher.reader().leaf_readers():
            if not leaf.doc_count_all():
                continue  # an empty index
            key = leaf.segment().segment_id()
            present.add(key)
            segment = segment_cache.get(key)
            if segment is None:
                segment = segment_cache[key] = _Segment.load(leaf, facet_names)
            local = range(leaf.doc_count_all())
            if leaf.has_deletions():
                local = set(local).difference(leaf.deleted_docs_set)
            live.extend(map(offset.__add__, local))
            for name in NUMERIC_FIELDS:
                raw[name].extend(segment.numbers[name])
            for name, by_value in segment.facets.items():
                for value, docs in by_value.items():
                    postings[name].setdefault(value, set()).update(map(offset.__add__, docs))
        for stale in set(segment_cache) - present:
            segment_cache.pop(stale, None)

        self.live = frozenset(live)
        self.facets = {name: {value: self.live.intersection(docs) for value, docs in by_value.items()}
                       for name, by_value in postings.items()}
        self._raw_values = raw
        self._sorted: dict[str, tuple[list[int], list[int]]] = {}
        self._ranks: dict[str, dict[int, int]] = {}

    def _sorted_by(self, name: str) -> tuple[list[int], list[int]]:
        """(live documents in ascending `name` order, ties by document number; their values)."""
        if name not in self._sorted:
            values = self._raw_values[name]
            order = sorted(self.live)
            order.sort(key=values.__getitem__)
            self._sorted[name] = (order, list(map(values.__getitem__, order)))
        return self._sorted[name]

    def _rank(self, sort: str) -> dict[int, int]:
        """The position of each live document in `sort` order."""
        if sort not in self._ranks:
            keys = SORT_KEYS[sort]
            # Start from the least significant key's order, then stable-sort by
            # the more significant ones.
            name, descending = keys[-1]
            order = list(self._sorted_by(name)[0])
            if descending:
                order.reverse()
            for name, descending in reversed(keys[:-1]):
                order.sort(key=self._raw_values[name].__getitem__, reverse=descending)
            self._ranks[sort] = dict(zip(order, range(len(order)), strict=True))
        return self._ranks[sort]

    # -- filters -----------------------------------------------------------

    @staticmethod
    def _raw(name: str, value) -> int:
        if name == "award":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"award bounds must be integers (minor units), got {value!r}")
            return value
        if not isinstance(value, datetime):
            raise ValueError(f"{name} bounds must be datetimes, got {value!r}")
        return timestamp(value)

    def in_range(self, name: str, low, high) -> list[int]:
        """Live documents whose `name` lies within the inclusive bounds (None: open-ended)."""
        docs, values = self._sorted_by(name)
        start = 0 if low is None else bisect_left(values, self._raw(name, low))
        end = len(values) if high is None else bisect_right(values, self._raw(name, high))
        return docs[start:end]

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
                docs = docs.intersection(set().union(*(postings.get(str(v), ()) for v in values)))
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
        return heapq.nsmallest(limit, docs, key=self._rank(sort).__getitem__)

    def count_values(self, name: str, docs: frozenset[int]) -> dict[str, int]:
        counts = {value: len(docs & postings) for value, postings in self.facets[name].items()}
        return {value: count for value, count in counts.items() if count}

    def count_range(self, name: str, low, high, docs: frozenset[int]) -> int:
        in_range = self.in_range(name, low, high)
        return len(in_range) if docs is self.live else len(docs.intersection(in_range))
