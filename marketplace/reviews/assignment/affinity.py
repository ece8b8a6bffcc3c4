"""Reviewer-proposal affinity: TF-IDF cosine similarity, the best of a reviewer's documents, top-N candidates.

A reviewer's expertise is spread over several documents (profile, expertise tags, recent research). Comparing the
proposal with each document and keeping the maximum rewards a reviewer who wrote one paper squarely on the topic,
where concatenating everything would dilute it with unrelated work.

Only the top ``top_n`` reviewers per proposal and the top ``top_n`` proposals per reviewer are kept (their union):
that bounds the assignment network at (P + R) * top_n arcs, while the per-reviewer half makes sure every reviewer
still has proposals to fill a minimum load. Pairs with zero similarity can be candidates when fewer than ``top_n``
reviewers share any word with a proposal, so small challenges keep every reviewer as a fallback candidate.

Text analysis: ``TextAnalyzer`` is self-contained (NFKC, lowercase, Chinese runs segmented by jieba in search mode
so that compounds also match their parts, Latin words stripped of stopwords and plural endings). To score with
exactly the terms of the search index, pass ``analyzer=search_index_terms`` instead.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

DEFAULT_TOP_N = 100

# Han ideographs (basic, extension A, compatibility). Kana and Hangul are space- or script-delimited enough for \w.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+")

_LATIN_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each etc few for from further had has have having he her here hers
him his how i if in into is it its itself just may me might more most must my no nor not now of off on once only or
other our ours out over own per same she should so some such than that the their theirs them then there these they
this those through thus to too under until up upon us very via was we were what when where which while who whom why
will with within without would you your yours
der die das und oder ein eine mit fur von zu im den dem des ist sind le la les et ou un une des du de en pour par
sur dans el los las y para por con del
""".split())

_CJK_STOPWORDS = frozenset("""
的 了 和 是 在 与 及 或 等 对 将 把 被 从 由 为 以 于 之 其 这 那 这些 那些 一个 一种 我们 他们 它们 本 该 并 且 而
也 都 就 但 如 若 则 因 所 可 可以 进行 通过 基于 研究 方法 一 上 下 中 不 有 无 个 种 各 及其 以及 并且 或者
""".split())


class TextAnalyzer:
    """Turns text into index terms. jieba is loaded on the first Chinese text, and its 9 MB prefix-dictionary cache
    goes into ``cache_dir`` (the instance folder in the app), not into a shared system temp folder."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None):
        self._cache_dir = os.fspath(cache_dir) if cache_dir is not None else tempfile.gettempdir()
        self._jieba = None
        self._lock = threading.Lock()

    def tokens(self, text: str | None) -> list[str]:
        if not text:
            return []
        text = unicodedata.normalize("NFKC", text).lower()
        # Surround Chinese runs with spaces so \w+ never glues Latin and Han characters into one token.
        text = _CJK_RUN.sub(lambda m: f" {m.group(0)} ", text)
        out: list[str] = []
        for word in _WORD.findall(text):
            if _CJK_RUN.fullmatch(word):
                out.extend(t for t in self._segment(word) if t not in _CJK_STOPWORDS)
            elif len(word) > 1 and not word.isdigit() and word not in _LATIN_STOPWORDS:
                out.append(_singular(word))
        return out

    def _segment(self, run: str) -> list[str]:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba  # imported here: it costs time and memory that pure-Latin callers never need

                    os.makedirs(self._cache_dir, exist_ok=True)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.tmp_dir = self._cache_dir
                    tokenizer.cache_file = "jieba.cache"
                    tokenizer.initialize()
                    self._jieba = tokenizer
        return [t for t in self._jieba.cut_for_search(run) if t.strip()]


def search_index_terms(text: str | None) -> list[str]:
    """The terms the search index stores for ``text`` (marketplace.search.analysis, index mode).

    Its jieba cache folder is the one configured for search (``marketplace.search.analysis.configure``).
    """
    from marketplace.search.analysis import ANALYZER

    return [token.text for token in ANALYZER(text, mode="index")] if text else []


def _singular(word: str) -> str:
    """Harman's S-stemmer: conservative plural stripping that never merges unrelated words the way full stemmers do."""
    if len(word) <= 3 or not word.isascii():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Candidates:
    """Sparse candidate pairs sorted by (proposal, reviewer), ready for ``AssignmentProblem``."""

    proposal_index: np.ndarray
    reviewer_index: np.ndarray
    affinity: np.ndarray
    n_proposals: int
    n_reviewers: int


class CandidateCollector:
    """Keeps the top-N reviewers per proposal and top-N proposals per reviewer while score blocks stream past.

    Blocks are consecutive proposal rows with a score for every reviewer, so memory stays at one block plus
    N entries per proposal and per reviewer whatever the instance size. Excluded pairs (conflicts) carry -inf and
    are never selected, so a conflict does not take a candidate slot from a useful reviewer.
    """

    def __init__(self, n_proposals: int, n_reviewers: int, top_n: int = DEFAULT_TOP_N):
        if top_n < 1:
            raise ValueError("top_n must be at least 1")
        self.n_proposals, self.n_reviewers, self.top_n = n_proposals, n_reviewers, top_n
        self._keys: list[np.ndarray] = []  # per-proposal picks as keys p * R + r, block by block
        self._scores: list[np.ndarray] = []
        # Per-reviewer best so far as dense (N x R) columns: merging a block is one argpartition along axis 0.
        self._rev_rows = np.zeros((0, n_reviewers), dtype=np.int64)
        self._rev_scores = np.zeros((0, n_reviewers), dtype=np.float64)

    def add_block(self, first_proposal: int, scores: np.ndarray) -> None:
        scores = np.asarray(scores, dtype=np.float64)
        rows, n_r = scores.shape
        if n_r != self.n_reviewers or first_proposal < 0 or first_proposal + rows > self.n_proposals:
            raise ValueError("score block does not fit the instance")
        n = self.top_n

        # Best reviewers of each proposal in this block (final: a block holds complete rows).
        cols = _top_indices(scores, n, axis=1)
        picked = np.take_along_axis(scores, cols, axis=1)
        ok = np.isfinite(picked)
        proposals = np.arange(first_proposal, first_proposal + rows, dtype=np.int64)
        self._keys.append((proposals[:, None] * n_r + cols)[ok])
        self._scores.append(picked[ok])

        # Best proposals of each reviewer: this block's best merged with the best so far.
        block_rows = _top_indices(scores, n, axis=0)
        merged_rows = np.concatenate([self._rev_rows, first_proposal + block_rows])
        merged_scores = np.concatenate([self._rev_scores, np.take_along_axis(scores, block_rows, axis=0)])
        keep = _top_indices(merged_scores, n, axis=0)
        self._rev_rows = np.take_along_axis(merged_rows, keep, axis=0)
        self._rev_scores = np.take_along_axis(merged_scores, keep, axis=0)

    def result(self) -> Candidates:
        n_r = self.n_reviewers
        ok = np.isfinite(self._rev_scores)
        rev_keys = (self._rev_rows * n_r + np.arange(n_r)[None, :])[ok]
        keys = np.concatenate([*self._keys, rev_keys])
        scores = np.concatenate([*self._scores, self._rev_scores[ok]])
        keys, first = np.unique(keys, return_index=True)
        return Candidates(proposal_index=keys // n_r, reviewer_index=keys % n_r, affinity=scores[first],
                          n_proposals=self.n_proposals, n_reviewers=n_r)


def _top_indices(scores: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Indices of the n largest entries along ``axis``, ties going to the lower index (all when there are <= n).

    The exact tie rule makes the candidates independent of how the scores were cut into blocks; zero-affinity
    pairs tie in large numbers, so this matters.
    """
    if axis == 0:
        return _top_indices(scores.T, n, axis=1).T
    rows, size = scores.shape
    if size <= n:
        return np.broadcast_to(np.arange(size), scores.shape)
    threshold = -np.partition(-scores, n - 1, axis=1)[:, n - 1:n]  # the n-th largest value of each row
    above = scores > threshold
    tied = scores == threshold
    room = n - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= room))
    return np.nonzero(chosen)[1].reshape(rows, n)


def tfidf_matrix(documents: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    """Rows are L2-normalised TF-IDF vectors: sublinear tf (1 + ln tf) and smoothed idf ln((1 + N)/(1 + df)) + 1."""
    vocabulary: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    for terms in documents:
        for term, count in Counter(terms).items():
            indices.append(vocabulary.setdefault(term, len(vocabulary)))
            counts.append(count)
        indptr.append(len(indices))
    col = np.asarray(indices, dtype=np.int64)
    n_docs = len(documents)
    df = np.bincount(col, minlength=len(vocabulary))
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    data = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * idf[col]
    matrix = sparse.csr_matrix((data, col, np.asarray(indptr, dtype=np.int64)), shape=(n_docs, len(vocabulary)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0  # empty documents stay zero vectors
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def tfidf_affinity(
    proposal_texts: Sequence[str],
    reviewer_documents: Sequence[Sequence[str]],
    *,
    top_n: int = DEFAULT_TOP_N,
    analyzer: TextAnalyzer | Callable[[str], list[str]] | None = None,
    exclude: Iterable[tuple[int, int]] = (),
    block_cells: int = 4_000_000,
) -> Candidates:
    """Candidate pairs with affinity = max over a reviewer's documents of the TF-IDF cosine with the proposal.

    ``proposal_texts[i]`` is one proposal's title, abstract and body joined; ``reviewer_documents[j]`` lists reviewer
    j's documents (profile, expertise, recent research entries). ``exclude`` holds (proposal index, reviewer index)
    pairs that must not become candidates, e.g. conflicts of interest. ``analyzer`` is a ``TextAnalyzer`` (default)
    or any function from text to terms, such as ``search_index_terms``. Affinities lie in [0, 1].
    """
    analyzer = analyzer or TextAnalyzer()
    tokens = analyzer.tokens if isinstance(analyzer, TextAnalyzer) else analyzer
    n_p, n_r = len(proposal_texts), len(reviewer_documents)
    owner = np.repeat(np.arange(n_r), [len(docs) for docs in reviewer_documents])
    token_lists = [tokens(t) for t in proposal_texts]
    token_lists += [tokens(d) for docs in reviewer_documents for d in docs]
    matrix = tfidf_matrix(token_lists)
    proposals, docs = matrix[:n_p], matrix[n_p:]
    # Terms that occur on one side only cannot add to a cosine: dropping them keeps the products small.
    shared = (proposals.getnnz(axis=0) > 0) & (docs.getnnz(axis=0) > 0)
    proposals, docs_t = proposals[:, shared], docs[:, shared].T.tocsc()

    has_docs = np.flatnonzero(np.bincount(owner, minlength=n_r) > 0)
    doc_start = np.searchsorted(owner, has_docs)
    excluded = np.unique(np.fromiter((p * n_r + r for p, r in exclude), dtype=np.int64))

    collector = CandidateCollector(n_p, n_r, top_n)
    rows = max(1, block_cells // max(len(owner), n_r, 1))
    for first in range(0, n_p, rows):
        last = min(n_p, first + rows)
        scores = np.zeros((last - first, n_r))
        if has_docs.size:
            per_doc = (proposals[first:last] @ docs_t).toarray()
            scores[:, has_docs] = np.maximum.reduceat(per_doc, doc_start, axis=1)
        lo, hi = np.searchsorted(excluded, [first * n_r, last * n_r])
        block_keys = excluded[lo:hi] - first * n_r
        scores[block_keys // n_r, block_keys % n_r] = -math.inf
        collector.add_block(first, np.clip(scores, None, 1.0))
    return collector.result()
