"""Text matching and BM25F ranking for the Whoosh backend, on numpy arrays.

Whoosh's own matchers run Python code for every posting: at 100,000 documents a common word
(in a third of them) cost 30-50 ms to match and several hundred milliseconds to rank, filters or
not. Here each term's postings are read once per segment (block by block) and kept, so a query is
a few vectorised operations over arrays indexed by document number:

- a word matches the body, the title (boosted) or, for a Chinese word, all of its parts
  (``queries.word_plan``), and scores the sum of what it matched, as Whoosh's Or/And do;
- every word: the documents matching all words, scored by the sum;
- any word: the documents matching at least one, scored by the sum with Whoosh's coordination
  bonus (``CoordMatcher``'s formula over words), so documents with more of the words rank higher.

Term scores are Whoosh's BM25F (same idf, average length, B and K1, and the same byte-encoded
field lengths), so the order is the one Whoosh's searcher gave, computed for every match at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from marketplace.search.queries import TITLE_BOOST, WordPlan

# Postings kept per segment (ids and weights: 16 bytes each): ~64 MB at most per segment.
MAX_CACHED_POSTINGS = 4_000_000
# Scored postings kept per index version (16 bytes each): a repeated word costs nothing.
MAX_SCORED_POSTINGS = 2_000_000
COORD_SCALE = 0.9  # queries.text_queries: Or(groups, scale=0.9)


@dataclass(frozen=True)
class Matches:
    """Documents a text matches (bool per document number) and their scores."""

    mask: np.ndarray
    scores: np.ndarray


class _SegmentTerms:
    """One segment's field lengths and the postings of the terms asked so far (least recently used go first)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # searches in several threads share a segment's cache
        self.lengths: dict[str, np.ndarray] = {}
        self.postings: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.cached = 0

    def field_lengths(self, leaf, field: str) -> np.ndarray:
        with self.lock:
            if field not in self.lengths:
                self.lengths[field] = _field_lengths(leaf, field)
            return self.lengths[field]

    def term(self, leaf, field: str, term: bytes) -> tuple[np.ndarray, np.ndarray]:
        key = (field, term)
        with self.lock:
            found = self.postings.get(key)
            if found is not None:
                self.postings.move_to_end(key)
                return found
            found = self.postings[key] = _read_postings(leaf, field, term)
            self.cached += len(found[0])
            while self.cached > MAX_CACHED_POSTINGS and len(self.postings) > 1:
                _, (ids, _) = self.postings.popitem(last=False)
                self.cached -= len(ids)
            return found


# Whoosh stores a field's length per document as one byte (a logarithmic approximation); 0: none.
_LENGTHS = np.array([byte_to_length(code) or 1 for code in range(256)], dtype=np.float64)


def _field_lengths(leaf, field: str) -> np.ndarray:
    """The length of `field` in each document of a segment, as Whoosh's scorer reads it (None -> 1)."""
    count = leaf.doc_count_all()
    perdoc = getattr(leaf, "_perdoc", None)
    reader = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN) if hasattr(perdoc, "_cached_reader") else None
    if reader is None:  # another codec: one call per document
        return np.fromiter((leaf.doc_field_length(docnum, field) or 1 for docnum in range(count)),
                           dtype=np.float64, count=count)
    # The byte column read at once: a third of the time of a call per document.
    return _LENGTHS[np.fromiter(reader, dtype=np.uint8, count=count)]


def _read_postings(leaf, field: str, term: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(segment-local document numbers, term frequencies) of a term in one segment."""
    if (field, term) not in leaf:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    matcher = leaf.postings(field, term)
    if all(hasattr(matcher, name) for name in ("_read_data", "_data", "_blocklength", "_byteids", "_next_block")) \
            and not matcher._byteids:
        return _read_blocks(matcher)
    ids: list[int] = []  # in-memory segments: one posting at a time
    weights: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def _read_blocks(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Whoosh's on-disk postings, a block (up to 128) at a time, decoded with numpy: a block holds
    its ids as deltas from 0 and its weights as None (all 1), one float, or an array of floats.
    Whoosh's own decoding loops in Python: 260 ms for a word in 60,000 documents, here 10."""
    ids, weights = [], []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        deltas, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
        if block_weights is None:
            weights.append(np.ones(count))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
        matcher._next_block()
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return np.concatenate(ids), np.concatenate(weights)


class ScoreCache:
    """Scored postings of one index version, shared by the searches of every thread on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scored: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.count = 0

    def get(self, key: tuple[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
        with self.lock:
            found = self.scored.get(key)
            if found is not None:
                self.scored.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], found: tuple[np.ndarray, np.ndarray]) -> None:
        with self.lock:
            if key not in self.scored:
                self.scored[key] = found
                self.count += len(found[0])
            while self.count > MAX_SCORED_POSTINGS and len(self.scored) > 1:
                _, (ids, _) = self.scored.popitem(last=False)
                self.count -= len(ids)


class Ranker:
    """Matches and scores of user text, for one search: Whoosh readers serve one thread at a time,
    so a Ranker holds this search's searcher and shares only arrays (`ScoreCache`, segment caches)."""

    def __init__(self, searcher, segment_cache: dict, size: int, scores: ScoreCache) -> None:
        self.searcher = searcher
        self.size = size
        self.scores = scores
        self.leaves = []
        for leaf, offset in searcher.reader().leaf_readers():
            if leaf.doc_count_all():
                terms = segment_cache.setdefault(("terms", leaf.segment().segment_id()), _SegmentTerms())
                self.leaves.append((leaf, offset, terms))

    def term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, BM25F scores) of one term over the whole index."""
        found = self.scores.get((field, text))
        if found is None:
            found = self._score(field, text)
            self.scores.put((field, text), found)
        return found

    def _score(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        term = self.searcher.schema[field].to_bytes(text)
        ids, scores = [], []
        for leaf, offset, terms in self.leaves:
            local, weights = terms.term(leaf, field, term)
            if len(local):
                ids.append(local + offset)
                scores.append((local, weights, terms.field_lengths(leaf, field)))
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        scorer = self.searcher.weighting.scorer(self.searcher, field, text)
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        parts = [idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths[local] / avgfl)))
                 for local, weights, lengths in scores]
        return np.concatenate(ids), np.concatenate(parts)

    def word(self, word: str, parts: tuple[str, ...]) -> Matches:
        """Body, boosted title, or every part: the sum of whichever match (Whoosh's Or of them)."""
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size)
        for field, boost in (("text", 1.0), ("title", TITLE_BOOST)):
            ids, term_scores = self.term(field, word)
            mask[ids] = True
            scores[ids] += term_scores * boost
        if parts:
            every = np.ones(self.size, dtype=bool)
            part_scores = np.zeros(self.size)
            for part in parts:
                ids, term_scores = self.term("text", part)
                found = np.zeros(self.size, dtype=bool)
                found[ids] = True
                every &= found
                part_scores[ids] += term_scores
            mask |= every
            scores += np.where(every, part_scores, 0.0)
        return Matches(mask, scores)

    def every_word(self, plan: WordPlan) -> Matches:
        words = [self.word(word, parts) for word, parts in plan]
        mask = words[0].mask.copy()
        for matches in words[1:]:
            mask &= matches.mask
        return Matches(mask, sum(matches.scores for matches in words))

    def any_word(self, plan: WordPlan) -> Matches:
        words = [self.word(word, parts) for word, parts in plan]
        mask = np.zeros(self.size, dtype=bool)
        matching = np.zeros(self.size)
        for matches in words:
            mask |= matches.mask
            matching += matches.mask
        count = len(words)
        # CoordMatcher's "SQR": more of the words, higher; over words, not Whoosh's term matchers.
        scores = (sum(matches.scores for matches in words) + (matching - 1) / (count - COORD_SCALE) ** 2) \
            * ((count - 1) / count)
        return Matches(mask, scores)
