"""Ranking proposals from peer-review scores: raw means, reviewer-bias calibration, uncertainty and reliability.

Scores are noisy and reviewers differ in harshness, so a proposal's raw mean partly measures who happened to review
it. The calibrated score fits the additive model

    review score = proposal quality + reviewer bias + noise

by least squares with a ridge penalty on the biases. The penalty makes the fit unique (otherwise any constant could
move between qualities and biases) and, because shifting every bias by c and every quality by -c leaves the fit
unchanged, its optimum has biases summing to zero within each group of connected reviewers: the calibrated score is
the score an average reviewer would have given. It also shrinks the bias of a reviewer with few reviews towards
zero, where there is too little evidence to correct them.

The qualities are eliminated in closed form (q_p = mean over p's reviews of score - bias), which leaves a small
sparse system in the reviewer biases only; that is exact and fast enough to refit a few hundred bootstrap samples.

Uncertainty: each bootstrap sample redraws every proposal's reviews with replacement (reviews stay within their
proposal, so every proposal keeps its number of reviews) and refits; the 5th and 95th percentiles of the
calibrated score form the 90 % interval and the mean rank the expected rank. Proposals whose interval crosses the
award cut form the grey zone where the panel, not the arithmetic, has to decide.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve
from scipy.stats import rankdata

MIN_SCORE, MAX_SCORE = 1, 10
FEW_REVIEWS = 3  # fewer reviews than this -> flag
WIDE_RANGE = 4.0  # max - min of a proposal's review scores at or above this -> flag and disagreement
OUTLIER_SD = 2.5  # |residual| above this many residual standard deviations -> flag
STRONG_BIAS = 1.5  # |reviewer bias| above this (score points) -> flag
ALPHA_WARNING = 0.2

# Flag codes, for the lead to translate: shown next to a proposal in the ranking.
FLAG_FEW_REVIEWS = "few_reviews"
FLAG_WIDE_RANGE = "wide_range"
FLAG_OUTLIER = "outlying_review"
FLAG_BIASED_REVIEWER = "biased_reviewer"
FLAG_GREY_ZONE = "grey_zone"

# Krippendorff's own guidance: >= 0.800 reliable, >= 0.667 tentative conclusions only; below, data are unreliable.
_ALPHA_LEVELS = (
    (0.8, "excellent", "Reviewers agree strongly; the ranking reflects a shared judgement."),
    (0.667, "good", "Reviewers agree well enough for tentative conclusions; check close calls by reading reviews."),
    (0.4, "moderate", "Reviewers agree only moderately; small score differences between proposals are not "
                      "meaningful."),
    (0.2, "fair", "Reviewers agree little beyond chance; use the ranking as a rough guide and read the reviews."),
    (-math.inf, "poor", "Reviewers barely agree beyond chance; the scores cannot separate proposals by themselves."),
)


@dataclass(frozen=True)
class ScoreRow:
    proposal_id: Hashable
    reviewer_id: Hashable
    criterion_id: Hashable
    score: float


@dataclass(frozen=True)
class AlphaReport:
    value: float | None  # None when there is too little overlap or no variation to compute it
    level: str  # excellent | good | moderate | fair | poor | insufficient_data
    explanation: str  # English; the key ``level`` is what the interface translates
    warning: bool  # True under 0.2 or when it cannot be computed

    def as_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 3), "level": self.level,
                "explanation": self.explanation, "warning": self.warning}


@dataclass(frozen=True)
class Reliability:
    overall: AlphaReport  # on the weighted review scores
    per_criterion: dict[Hashable, AlphaReport]

    @property
    def krippendorff_alpha(self) -> float | None:
        return self.overall.value

    def as_dict(self) -> dict[str, Any]:
        return {"krippendorff_alpha": None if self.overall.value is None else round(self.overall.value, 3),
                **{k: v for k, v in self.overall.as_dict().items() if k != "value"},
                "per_criterion": {str(c): report.as_dict() for c, report in self.per_criterion.items()}}


@dataclass(frozen=True)
class RankedItem:
    proposal_id: Hashable
    rank: int  # by calibrated score, 1 = best
    raw_score: float  # mean over reviews of the criterion-weighted review score
    calibrated_score: float  # estimated quality, on the same 1..10 scale
    interval: tuple[float, float]  # bootstrap interval of the calibrated score
    expected_rank: float
    reviewers: int
    spread: float  # max - min of the review scores
    disagreement: bool
    grey_zone: bool
    flags: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"proposal_id": self.proposal_id, "rank": self.rank, "raw_score": round(self.raw_score, 3),
                "calibrated_score": round(self.calibrated_score, 3),
                "interval": [round(self.interval[0], 3), round(self.interval[1], 3)],
                "expected_rank": round(self.expected_rank, 2), "reviewers": self.reviewers,
                "spread": round(self.spread, 3), "disagreement": self.disagreement, "grey_zone": self.grey_zone,
                "flags": list(self.flags)}


@dataclass(frozen=True)
class ReviewerBias:
    reviewer_id: Hashable
    bias: float  # + lenient, - harsh, in score points
    reviews: int
    strongly_biased: bool


@dataclass(frozen=True)
class Ranking:
    items: list[RankedItem]  # best first
    reliability: Reliability
    reviewer_biases: list[ReviewerBias]
    award_cut: float | None  # calibrated score between the last award and the first non-award
    awards: int
    bootstrap_samples: int
    interval_level: float
    residual_sd: float | None

    def as_dict(self) -> dict[str, Any]:
        """The contract's ranking shape (items + reliability) plus the grey-zone cut."""
        return {"items": [item.as_dict() for item in self.items], "reliability": self.reliability.as_dict(),
                "award_cut": None if self.award_cut is None else round(self.award_cut, 3)}


def rank_proposals(
    scores: Iterable[ScoreRow | Sequence[Any]],
    weights: Mapping[Hashable, float],
    *,
    awards: int = 1,
    bootstrap: int = 200,
    seed: int = 0,
    bias_shrinkage: float = 1.0,
    interval_level: float = 0.90,
) -> Ranking:
    """Rank the proposals of one challenge.

    ``scores``: one (proposal_id, reviewer_id, criterion_id, score 1..10) per criterion of each submitted review.
    ``weights``: criterion_id -> weight (> 0 for at least one); a score for any other criterion is an error.
    ``awards``: how many proposals the challenge intends to award (sets the grey-zone cut).
    ``bias_shrinkage``: ridge penalty in units of reviews; a reviewer with n reviews keeps roughly n / (n + it)
    of their apparent bias.
    """
    if bootstrap < 0 or not 0 < interval_level < 1 or bias_shrinkage <= 0 or awards < 0:
        raise ValueError("bootstrap >= 0, 0 < interval_level < 1, bias_shrinkage > 0 and awards >= 0 are required")
    table = _ScoreTable(scores, weights)
    reviews = table.reviews()
    n_p, n_r = len(table.proposals), len(table.reviewers)
    p, r, y = reviews.proposal, reviews.reviewer, reviews.score

    model = _BiasModel(p, r, y, n_p, n_r, bias_shrinkage)
    quality, bias = model.fit()
    n_reviews = np.bincount(p, minlength=n_p)
    raw = np.bincount(p, weights=y, minlength=n_p) / n_reviews
    spread = np.full(n_p, -np.inf)
    np.maximum.at(spread, p, y)
    low = np.full(n_p, np.inf)
    np.minimum.at(low, p, y)
    spread -= low

    samples = model.bootstrap(bootstrap, seed) if bootstrap else quality[None, :]
    tail = (1 - interval_level) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail], axis=0)
    # What is shown stays on the scoring scale (a bias-corrected mean can pass 10 or fall below 1); the order
    # below still uses the unclipped estimate.
    lo, hi = np.clip(lo, MIN_SCORE, MAX_SCORE), np.clip(hi, MIN_SCORE, MAX_SCORE)
    shown = np.clip(quality, MIN_SCORE, MAX_SCORE)
    expected_rank = rankdata(-samples, axis=1, method="average").mean(axis=0)

    # Ties by raw score, then by proposal id (see _ScoreTable), so the order never depends on the input order.
    order = np.lexsort((np.arange(n_p), -raw, -quality))
    cut = None
    if 0 < awards < n_p:
        cut = float((quality[order[awards - 1]] + quality[order[awards]]) / 2)

    residual = y - quality[p] - bias[r]
    dof = len(y) - n_p - n_r + 1
    residual_sd = float(math.sqrt((residual**2).sum() / dof)) if dof > 0 else None
    outlier = np.zeros(n_p, dtype=bool)
    if residual_sd:
        outlier[p[np.abs(residual) > OUTLIER_SD * residual_sd]] = True
    strong = np.abs(bias) > STRONG_BIAS
    with_biased = np.zeros(n_p, dtype=bool)
    with_biased[p[strong[r]]] = True

    items = []
    for rank, i in enumerate(order.tolist(), start=1):
        grey = cut is not None and lo[i] < cut < hi[i]
        flags = [code for code, on in ((FLAG_FEW_REVIEWS, n_reviews[i] < FEW_REVIEWS),
                                       (FLAG_WIDE_RANGE, spread[i] >= WIDE_RANGE),
                                       (FLAG_OUTLIER, outlier[i]),
                                       (FLAG_BIASED_REVIEWER, with_biased[i]),
                                       (FLAG_GREY_ZONE, grey)) if on]
        items.append(RankedItem(
            proposal_id=table.proposals[i], rank=rank, raw_score=float(raw[i]), calibrated_score=float(shown[i]),
            interval=(float(lo[i]), float(hi[i])), expected_rank=float(expected_rank[i]),
            reviewers=int(n_reviews[i]), spread=float(spread[i]), disagreement=bool(spread[i] >= WIDE_RANGE),
            grey_zone=bool(grey), flags=tuple(flags)))

    per_reviewer = np.bincount(r, minlength=n_r)
    biases = [ReviewerBias(table.reviewers[j], float(bias[j]), int(per_reviewer[j]), bool(strong[j]))
              for j in range(n_r)]
    return Ranking(items=items, reliability=table.reliability(reviews), reviewer_biases=biases, award_cut=cut,
                   awards=awards, bootstrap_samples=bootstrap, interval_level=interval_level,
                   residual_sd=residual_sd)


# --------------------------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class _Reviews:
    """One row per (proposal, reviewer): the criterion-weighted review score."""

    proposal: np.ndarray
    reviewer: np.ndarray
    score: np.ndarray


class _ScoreTable:
    def __init__(self, rows: Iterable[ScoreRow | Sequence[Any]], weights: Mapping[Hashable, float]):
        self.criteria = list(weights)
        w = np.array([float(weights[c]) for c in self.criteria])
        if not self.criteria or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("criterion weights must be non-negative with a positive total")
        criterion_pos = {c: i for i, c in enumerate(self.criteria)}
        proposal_pos: dict[Hashable, int] = {}
        reviewer_pos: dict[Hashable, int] = {}
        ps, rs, cs, ss = [], [], [], []
        for row in rows:
            pid, rid, cid, score = (row.proposal_id, row.reviewer_id, row.criterion_id, row.score) \
                if isinstance(row, ScoreRow) else row
            if cid not in criterion_pos:
                raise ValueError(f"score for criterion {cid!r}, which is not a criterion of this challenge")
            score = float(score)
            if not MIN_SCORE <= score <= MAX_SCORE:
                raise ValueError(f"score {score} outside {MIN_SCORE}..{MAX_SCORE}")
            ps.append(proposal_pos.setdefault(pid, len(proposal_pos)))
            rs.append(reviewer_pos.setdefault(rid, len(reviewer_pos)))
            cs.append(criterion_pos[cid])
            ss.append(score)
        if not ps:
            raise ValueError("there are no scores to rank")
        # Number proposals and reviewers in id order when ids are comparable, so that the result (bootstrap draws
        # included) does not depend on the order the database returned the rows in.
        self.proposals, p_new = _sorted_ids(list(proposal_pos))
        self.reviewers, r_new = _sorted_ids(list(reviewer_pos))
        self.weights = w
        self.p = p_new[np.array(ps, dtype=np.int64)]
        self.r = r_new[np.array(rs, dtype=np.int64)]
        self.c = np.array(cs, dtype=np.int64)
        self.s = np.array(ss)
        n_c = len(self.criteria)
        key = (self.p * len(self.reviewers) + self.r) * n_c + self.c
        if np.unique(key).size != key.size:
            raise ValueError("a reviewer scored the same criterion of a proposal twice")

    def reviews(self) -> _Reviews:
        n_r = len(self.reviewers)
        review_key, review = np.unique(self.p * n_r + self.r, return_inverse=True)
        w = self.weights[self.c]
        weight_sum = np.bincount(review, weights=w, minlength=review_key.size)
        if (weight_sum == 0).any():
            raise ValueError("a review scores only criteria of weight 0")
        score = np.bincount(review, weights=w * self.s, minlength=review_key.size) / weight_sum
        return _Reviews(proposal=review_key // n_r, reviewer=review_key % n_r, score=score)

    def reliability(self, reviews: _Reviews) -> Reliability:
        shape = (len(self.reviewers), len(self.proposals))
        per_criterion = {}
        for i, criterion in enumerate(self.criteria):
            mine = self.c == i
            per_criterion[criterion] = interval_alpha(_matrix(shape, self.r[mine], self.p[mine], self.s[mine]))
        overall = interval_alpha(_matrix(shape, reviews.reviewer, reviews.proposal, reviews.score))
        return Reliability(overall=overall, per_criterion=per_criterion)


def _sorted_ids(ids: list[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    """(ids in sorted order, new position of each original position); first-appearance order if not comparable."""
    try:
        order = sorted(range(len(ids)), key=ids.__getitem__)
    except TypeError:
        order = list(range(len(ids)))
    new_position = np.empty(len(ids), dtype=np.int64)
    new_position[order] = np.arange(len(ids))
    return [ids[i] for i in order], new_position


def _matrix(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    m = np.full(shape, np.nan)
    m[rows, cols] = values
    return m


# --------------------------------------------------------------------------------------------------------------
# Model


class _BiasModel:
    """Fits qualities q and biases b to the reviews (p, r, y), weighted by bootstrap multiplicities.

    Minimises sum w (y - q[p] - b[r])^2 + shrinkage * sum b^2. With q eliminated (q_p = weighted mean of y - b over
    p's reviews) the normal equations in b are

        (D - M + shrinkage I) b = sum over r's reviews of w (y - mean_p y)

    where D holds each reviewer's total weight and M[r1, r2] = sum over proposals of w(p, r1) w(p, r2) / n_p. The
    matrix is symmetric positive definite with eigenvalues in [shrinkage, 2 max D + shrinkage], so conjugate
    gradients converge in a few dozen steps. The bootstrap solves all its samples together with a batched,
    Jacobi-preconditioned CG: per step one sparse product over the pairs of reviews sharing a proposal. That is
    ~10x faster than one factorisation per sample, whose fill-in on a well-mixed review graph is nearly dense.
    """

    CG_TOLERANCE = 1e-10  # relative residual
    CG_MAX_STEPS = 500
    CHUNK_CELLS = 4_000_000  # review pairs x samples per batch, to bound memory

    def __init__(self, p: np.ndarray, r: np.ndarray, y: np.ndarray, n_p: int, n_r: int, shrinkage: float):
        self.p, self.r, self.y, self.n_p, self.n_r, self.shrinkage = p, r, y, n_p, n_r, shrinkage
        n = p.size
        order = np.argsort(p, kind="stable")
        count = np.bincount(p, minlength=n_p)
        start = np.cumsum(count) - count
        # Every ordered pair (i, j) of reviews of the same proposal, i == j included.
        repeat = count[p[order]]
        self.pair_i = np.repeat(order, repeat)
        within = np.arange(self.pair_i.size) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        self.pair_j = order[start[p[self.pair_i]] + within]
        # Scatter matrices: summing rows of a (reviews x samples) array per proposal, per reviewer, per pair head.
        self.by_proposal = sparse.csr_matrix((np.ones(n), (p, np.arange(n))), shape=(n_p, n))
        self.by_reviewer = sparse.csr_matrix((np.ones(n), (r, np.arange(n))), shape=(n_r, n))
        self.pair_to_reviewer = sparse.csr_matrix(
            (np.ones(self.pair_i.size), (r[self.pair_i], np.arange(self.pair_i.size))), shape=(n_r, self.pair_i.size))
        self.order, self.count, self.start = order, count, start

    def _parts(self, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """For weights w (reviews x samples): n_p, mean_p y, pair weights, diagonal and right-hand side."""
        y = self.y[:, None]
        n = self.by_proposal @ w
        y_mean = (self.by_proposal @ (w * y)) / n
        pair_weight = w[self.pair_i] * w[self.pair_j] / n[self.p[self.pair_i]]
        diagonal = self.by_reviewer @ w + self.shrinkage
        rhs = self.by_reviewer @ (w * (y - y_mean[self.p]))
        return n, y_mean, pair_weight, diagonal, rhs

    def _quality(self, w: np.ndarray, n: np.ndarray, y_mean: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return y_mean - (self.by_proposal @ (w * bias[self.r])) / n

    def fit(self) -> tuple[np.ndarray, np.ndarray]:
        """The fit to all reviews, by a direct sparse solve."""
        w = np.ones((self.p.size, 1))
        n, y_mean, pair_weight, diagonal, rhs = self._parts(w)
        m = sparse.csc_matrix((pair_weight[:, 0], (self.r[self.pair_i], self.r[self.pair_j])),
                              shape=(self.n_r, self.n_r))
        bias = np.atleast_1d(spsolve(sparse.diags(diagonal[:, 0]).tocsc() - m, rhs[:, 0]))
        return self._quality(w, n, y_mean, bias[:, None])[:, 0], bias

    def bootstrap(self, samples: int, seed: int) -> np.ndarray:
        """Calibrated scores (samples x proposals): reviews redrawn with replacement within each proposal."""
        rng = np.random.default_rng(seed)
        slot_proposal = self.p[self.order]  # one draw per review slot, from the reviews of the same proposal
        first, size = self.start[slot_proposal], self.count[slot_proposal]
        out = np.empty((samples, self.n_p))
        chunk = max(1, self.CHUNK_CELLS // max(1, self.pair_i.size))
        for lo in range(0, samples, chunk):
            hi = min(samples, lo + chunk)
            w = np.empty((self.p.size, hi - lo))
            for s in range(hi - lo):
                drawn = self.order[first + np.floor(rng.random(size.size) * size).astype(np.int64)]
                w[:, s] = np.bincount(drawn, minlength=self.p.size)
            n, y_mean, pair_weight, diagonal, rhs = self._parts(w)
            bias = self._conjugate_gradients(pair_weight, diagonal, rhs)
            out[lo:hi] = self._quality(w, n, y_mean, bias).T
        return out

    def _conjugate_gradients(self, pair_weight: np.ndarray, diagonal: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        head = self.r[self.pair_j]

        def apply(x: np.ndarray) -> np.ndarray:
            return diagonal * x - self.pair_to_reviewer @ (pair_weight * x[head])

        x = np.zeros_like(rhs)
        residual = rhs.copy()
        z = residual / diagonal
        direction = z.copy()
        rz = (residual * z).sum(axis=0)
        limit = self.CG_TOLERANCE * np.maximum(np.linalg.norm(rhs, axis=0), 1e-300)
        for _ in range(self.CG_MAX_STEPS):
            if (np.linalg.norm(residual, axis=0) <= limit).all():
                return x
            a_dir = apply(direction)
            step = rz / np.maximum((direction * a_dir).sum(axis=0), 1e-300)
            x += step * direction
            residual -= step * a_dir
            z = residual / diagonal
            rz_next = (residual * z).sum(axis=0)
            direction = z + (rz_next / np.maximum(rz, 1e-300)) * direction
            rz = rz_next
        raise RuntimeError("bias model did not converge")  # cannot happen with shrinkage > 0 and finite scores


# --------------------------------------------------------------------------------------------------------------
# Reliability


def interval_alpha(reliability_data: np.ndarray) -> AlphaReport:
    """Krippendorff's alpha (interval) of a coders x units matrix with NaN for missing, with a verdict."""
    data = np.asarray(reliability_data, dtype=np.float64)
    # Only units coded at least twice carry information about agreement.
    pairable = (np.isfinite(data).sum(axis=0) >= 2) if data.ndim == 2 else np.zeros(0, dtype=bool)
    value = None
    if pairable.any():
        values = data[:, pairable]
        if np.unique(values[np.isfinite(values)]).size >= 2:
            value = float(krippendorff.alpha(reliability_data=values, level_of_measurement="interval"))
    return describe_alpha(value)


def describe_alpha(value: float | None) -> AlphaReport:
    if value is None or not math.isfinite(value):
        return AlphaReport(None, "insufficient_data",
                           "Too few proposals were scored by more than one reviewer, or all scores are equal, "
                           "to measure agreement.", True)
    for threshold, level, explanation in _ALPHA_LEVELS:
        if value >= threshold:
            return AlphaReport(value, level, explanation, value < ALPHA_WARNING)
    raise AssertionError("unreachable: the last level has no lower bound")
