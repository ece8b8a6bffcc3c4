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

The bias model lives in `bias_model`, the agreement measure (Krippendorff's alpha) in `reliability`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from marketplace.reviews.ranking.bias_model import BiasModel
from marketplace.reviews.ranking.reliability import Reliability, interval_alpha

MIN_SCORE, MAX_SCORE = 1, 10
FEW_REVIEWS = 3  # fewer reviews than this -> flag
WIDE_RANGE = 4.0  # max - min of a proposal's review scores at or above this -> flag and disagreement
OUTLIER_SD = 2.5  # |residual| above this many residual standard deviations -> flag
STRONG_BIAS = 1.5  # |reviewer bias| above this (score points) -> flag

# Flag codes, for the lead to translate: shown next to a proposal in the ranking.
FLAG_FEW_REVIEWS = "few_reviews"
FLAG_WIDE_RANGE = "wide_range"
FLAG_OUTLIER = "outlying_review"
FLAG_BIASED_REVIEWER = "biased_reviewer"
FLAG_GREY_ZONE = "grey_zone"

@dataclass(frozen=True)
class ScoreRow:
    proposal_id: Hashable
    reviewer_id: Hashable
    criterion_id: Hashable
    score: float


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

    model = BiasModel(p, r, y, n_p, n_r, bias_shrinkage)
    quality, bias = model.fit()
    n_reviews = np.bincount(p, minlength=n_p)
    raw = np.bincount(p, weights=y, minlength=n_p) / n_reviews
    samples = model.bootstrap(bootstrap, seed) if bootstrap else quality[None, :]
    bands = _Bands(samples, quality, interval_level)
    # Ties by raw score, then by proposal id (see _ScoreTable), so the order never depends on the input order.
    order = np.lexsort((np.arange(n_p), -raw, -quality))
    cut = float((quality[order[awards - 1]] + quality[order[awards]]) / 2) if 0 < awards < n_p else None
    checks = _Checks(reviews, quality, bias, n_p, n_r)

    items = []
    for rank, i in enumerate(order.tolist(), start=1):
        grey = cut is not None and bands.lo[i] < cut < bands.hi[i]
        items.append(RankedItem(
            proposal_id=table.proposals[i], rank=rank, raw_score=float(raw[i]),
            calibrated_score=float(bands.shown[i]), interval=(float(bands.lo[i]), float(bands.hi[i])),
            expected_rank=float(bands.expected_rank[i]), reviewers=int(n_reviews[i]),
            spread=float(checks.spread[i]), disagreement=bool(checks.spread[i] >= WIDE_RANGE),
            grey_zone=bool(grey), flags=checks.flags(i, int(n_reviews[i]), grey)))

    per_reviewer = np.bincount(r, minlength=n_r)
    biases = [ReviewerBias(table.reviewers[j], float(bias[j]), int(per_reviewer[j]), bool(checks.strong[j]))
              for j in range(n_r)]
    return Ranking(items=items, reliability=table.reliability(reviews), reviewer_biases=biases, award_cut=cut,
                   awards=awards, bootstrap_samples=bootstrap, interval_level=interval_level,
                   residual_sd=checks.residual_sd)


class _Bands:
    """The bootstrap interval, the score shown and the expected rank of every proposal."""

    def __init__(self, samples: np.ndarray, quality: np.ndarray, interval_level: float) -> None:
        tail = (1 - interval_level) / 2 * 100
        lo, hi = np.percentile(samples, [tail, 100 - tail], axis=0)
        # What is shown stays on the scoring scale (a bias-corrected mean can pass 10 or fall below 1); the order
        # still uses the unclipped estimate.
        self.lo, self.hi = np.clip(lo, MIN_SCORE, MAX_SCORE), np.clip(hi, MIN_SCORE, MAX_SCORE)
        self.shown = np.clip(quality, MIN_SCORE, MAX_SCORE)
        self.expected_rank = rankdata(-samples, axis=1, method="average").mean(axis=0)


class _Checks:
    """What a panel should look at per proposal: score spread, outlying reviews, strongly biased reviewers."""

    def __init__(self, reviews: _Reviews, quality: np.ndarray, bias: np.ndarray, n_p: int, n_r: int) -> None:
        p, r, y = reviews.proposal, reviews.reviewer, reviews.score
        self.spread = np.full(n_p, -np.inf)
        np.maximum.at(self.spread, p, y)
        low = np.full(n_p, np.inf)
        np.minimum.at(low, p, y)
        self.spread -= low
        residual = y - quality[p] - bias[r]
        dof = len(y) - n_p - n_r + 1
        self.residual_sd = float(math.sqrt((residual**2).sum() / dof)) if dof > 0 else None
        self.outlier = np.zeros(n_p, dtype=bool)
        if self.residual_sd:
            self.outlier[p[np.abs(residual) > OUTLIER_SD * self.residual_sd]] = True
        self.strong = np.abs(bias) > STRONG_BIAS
        self.with_biased = np.zeros(n_p, dtype=bool)
        self.with_biased[p[self.strong[r]]] = True

    def flags(self, i: int, n_reviews: int, grey: bool) -> tuple[str, ...]:
        return tuple(code for code, on in ((FLAG_FEW_REVIEWS, n_reviews < FEW_REVIEWS),
                                           (FLAG_WIDE_RANGE, self.spread[i] >= WIDE_RANGE),
                                           (FLAG_OUTLIER, self.outlier[i]),
                                           (FLAG_BIASED_REVIEWER, self.with_biased[i]),
                                           (FLAG_GREY_ZONE, grey)) if on)


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
