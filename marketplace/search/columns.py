"""Per-document values held in memory (numpy arrays) for filtering, sorting and counting.

Whoosh evaluates a numeric range as a union of many terms, and its sorting and
grouping collectors run Python code for every matching document. Here the facet
values, award and dates of one index version are numpy arrays indexed by
document number: a filter is a boolean mask (facet masks are kept, ranges are
one comparison), a sort is a partial sort of precomputed ranks, and a count is
the number of set entries of `mask & other` -- all in C, at 100,000 documents
well under a millisecond each. (Python sets cost 5-20 ms per filter there.)

Document numbers are only stable within one index version, so a ``Columns``
belongs to one version. Decoding a segment's values is the slow part and
segments never change (only their deletions do), so decoded segments are
cached across versions: after a write only its new small segment is decoded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from marketplace.search.queries import RANGE_FILTERS, checked_bound, is_set, timestamp

NUMERIC_FIELDS = ("award", "published", "deadline")

# sort -> (field, descending) keys, most significant first; ties by document number
SORT_KEYS = {
    "newest": (("published", True),),
    "deadline": (("deadline", False), ("award", True)),
    "award": (("award", True), ("deadline", False)),
}

Mask = np.ndarray  # bool, one entry per document number


@dataclass(frozen=True)
class _Segment:
    """The decoded values of one segment, by segment-local document number."""

    numbers: dict[str, np.ndarray]  # field -> raw sortable value of each document
    facets: dict[str, dict[str, np.ndarray]]  # field -> value -> documents

    @classmethod
    def load(cls, leaf, facet_names: Collection[str]) -> _Segment:
        schema = leaf.schema
        numbers = {name: np.fromiter(leaf.column_reader(name, translate=False), dtype=np.int64,
                                     count=leaf.doc_count_all()) for name in NUMERIC_FIELDS}
        facets = {}
        for name in facet_names:
            field = schema[name]
            facets[name] = {field.from_bytes(term): np.fromiter(leaf.postings(name, term).all_ids(), dtype=np.int64)
                            for term in leaf.lexicon(name)}
        return cls(numbers, facets)


class Columns:
    """Facet masks, numeric values and sort ranks of the live documents of one index version.

    Sort ranks are built on first use: a browse page needs one sort.
    """

    def __init__(self, searcher, facet_names: Collection[str], segment_cache: dict) -> None:
        self.size = searcher.doc_count_all()
        self.live_mask = np.zeros(self.size, dtype=bool)
        self._raw_values = {name: np.zeros(self.size, dtype=np.int64) for name in NUMERIC_FIELDS}
        self.facets: dict[str, dict[str, Mask]] = {name: {} for name in facet_names}
        present = set()
        for leaf, offset in searcher.reader().leaf_readers():
            count = leaf.doc_count_all()
            if not count:
                continue  # an empty index
            key = leaf.segment().segment_id()
            present.add(key)
            segment = segment_cache.get(key)
            if segment is None:
                segment = segment_cache[key] = _Segment.load(leaf, facet_names)
            self.live_mask[offset:offset + count] = True
            if leaf.has_deletions():
                self.live_mask[offset + np.fromiter(leaf.deleted_docs_set, dtype=np.int64)] = False
            for name in NUMERIC_FIELDS:
                self._raw_values[name][offset:offset + count] = segment.numbers[name]
            for name, by_value in segment.facets.items():
                for value, docs in by_value.items():
                    mask = self.facets[name].get(value)
                    if mask is None:
                        mask = self.facets[name][value] = np.zeros(self.size, dtype=bool)
                    mask[offset + docs] = True
        for key in list(segment_cache):
            # Term postings (ranking.py) are cached under ("terms", segment id).
            if (key[1] if isinstance(key, tuple) else key) not in present:
                segment_cache.pop(key, None)
        for by_value in self.facets.values():
            for mask in by_value.values():
                mask &= self.live_mask
        self.live_count = int(np.count_nonzero(self.live_mask))
        self._ranks: dict[str, np.ndarray] = {}

    def _rank(self, sort: str) -> np.ndarray:
        """The position of each document in `sort` order (deleted ones included: masks leave them out)."""
        if sort not in self._ranks:
            keys = SORT_KEYS[sort]
            # lexsort: the last key is the most significant; document number breaks ties.
            columns = [np.arange(self.size)]
            for name, descending in reversed(keys):
                values = self._raw_values[name]
                columns.append(-values if descending else values)
            order = np.lexsort(columns)
            rank = np.empty(self.size, dtype=np.int64)
            rank[order] = np.arange(self.size)
            self._ranks[sort] = rank
        return self._ranks[sort]

    # -- filters -----------------------------------------------------------

    @staticmethod
    def _raw(name: str, value) -> int:
        value = checked_bound(name, value)
        return value if name == "award" else timestamp(value)

    def in_range(self, name: str, low, high) -> Mask:
        """Live documents whose `name` lies within the inclusive bounds (None: open-ended)."""
        values = self._raw_values[name]
        mask = self.live_mask.copy()
        if low is not None:
            mask &= values >= self._raw(name, low)
        if high is not None:
            mask &= values <= self._raw(name, high)
        return mask

    def matching(self, filters: Mapping[str, object] | None, *, skip: Iterable[str] = ()) -> Mask:
        """The live documents passing `filters`, as a mask.

        facet name -> a value or a list of values (any of); min_award/max_award,
        deadline_after/deadline_before, published_after/published_before ->
        inclusive bounds. None and "" values are ignored; an empty list matches
        nothing. An unknown key is a programming error (ValueError).
        """
        skip = set(skip)
        docs = self.live_mask.copy()
        bounds: dict[str, dict[str, object]] = {}
        for key, value in (filters or {}).items():
            if not is_set(value) or key in skip:
                continue
            if key in self.facets:
                values = [value] if isinstance(value, str | int) else [v for v in value if is_set(v)]
                postings = self.facets[key]
                either = np.zeros(self.size, dtype=bool)
                for one in values:
                    if str(one) in postings:
                        either |= postings[str(one)]
                docs &= either
            elif key in RANGE_FILTERS:
                name, end = RANGE_FILTERS[key]
                bounds.setdefault(name, {})[end] = value
            else:
                raise ValueError(f"unknown search filter {key!r}")
        for name, ends in bounds.items():
            docs &= self.in_range(name, ends.get("low"), ends.get("high"))
        return docs

    # -- sorting and counting ------------------------------------------------

    def top(self, docs: Mask, sort: str, limit: int) -> list[int]:
        """The first `limit` documents of the mask in `sort` order."""
        return top_by(np.flatnonzero(docs), self._rank(sort)[docs], limit)

    def count_values(self, name: str, docs: Mask) -> dict[str, int]:
        counts = {value: int(np.count_nonzero(docs & postings)) for value, postings in self.facets[name].items()}
        return {value: count for value, count in counts.items() if count}

    def count_range(self, name: str, low, high, docs: Mask) -> int:
        return int(np.count_nonzero(docs & self.in_range(name, low, high)))


def top_by(docnums: np.ndarray, keys: np.ndarray, limit: int) -> list[int]:
    """The `limit` docnums with the smallest keys, in key order (ties by docnum), without sorting them all."""
    if len(docnums) > limit:
        # Everything up to the limit-th smallest key, ties included, then an exact sort of those few.
        kth = np.partition(keys, limit - 1)[limit - 1]
        keep = keys <= kth
        docnums, keys = docnums[keep], keys[keep]
    order = np.lexsort((docnums, keys))[:limit]
    return docnums[order].tolist()
