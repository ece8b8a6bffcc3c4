"""The assignment problem in plain arrays, its validation, and the result (pure: NumPy only).

`prepare` turns an `AssignmentProblem` into a `PreparedProblem` in index space (conflicts removed, one row per
pair, kept reviews apart), which the flow solver (`flow`), the feasibility checks (`feasibility`) and the LP
check (`lp_check`) share, so all of them optimise exactly the same integer costs.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# 1e-5 affinity resolution: far below any meaningful difference in TF-IDF similarity, and small enough that
# cost * node count stays well inside int64 for the largest instances we support.
SCALE = 100_000

class AssignmentInfeasible(Exception):
    """No assignment satisfies every constraint; ``reason`` says which one cannot be met (shown to the manager)."""

    def __init__(self, reason: str, *, code: str = "infeasible", reasons: Sequence[str] = ()):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        # Every violated constraint that was found, the first of which is ``reason``.
        self.reasons = tuple(reasons) or (reason,)


@dataclass(frozen=True)
class AssignmentProblem:
    """What the assignment needs, in plain arrays.

    Candidate pairs are sparse: ``pair_proposal[i]`` and ``pair_reviewer[i]`` index into ``proposal_ids`` and
    ``reviewer_ids``; ``pair_affinity[i]`` is their similarity (higher is better). Duplicate pairs keep their highest
    affinity. Pairs listed in ``conflicts`` (as ``(proposal_id, reviewer_id)``) are removed, so the caller may either
    pre-filter or pass the conflicts here.

    ``min_load``/``max_load`` are per reviewer, either one int for everyone or one per reviewer.
    ``reviewer_institution`` (one entry per reviewer, ``None`` for "no institution") switches on the rule
    "at most one reviewer per institution per proposal".
    ``pair_fixed`` (bool per pair) marks reviews that must stay, e.g. already started ones when a late conflict
    forces a re-assignment; they count towards k and the loads.
    ``balance_weight`` is the convex load penalty in affinity units (0 = pure affinity).
    """

    proposal_ids: Sequence[Hashable]
    reviewer_ids: Sequence[Hashable]
    pair_proposal: Any
    pair_reviewer: Any
    pair_affinity: Any
    k: int
    max_load: int | Sequence[int]
    min_load: int | Sequence[int] = 0
    reviewer_institution: Sequence[Hashable | None] | None = None
    conflicts: Collection[tuple[Hashable, Hashable]] = ()
    pair_fixed: Any = None
    balance_weight: float = 0.001


@dataclass(frozen=True)
class LoadSpread:
    min: int
    max: int
    std: float


@dataclass(frozen=True)
class AssignmentResult:
    """An optimal assignment. Index arrays are aligned with the problem's id sequences."""

    pairs: list[tuple[Hashable, Hashable]]  # (proposal_id, reviewer_id), sorted by proposal then reviewer index
    pair_affinity: list[float]
    proposal_index: np.ndarray
    reviewer_index: np.ndarray
    total_affinity: float
    loads: dict[Hashable, int]  # every reviewer, including those with load 0
    load_spread: LoadSpread
    worst_proposal_id: Hashable | None  # proposal with the lowest mean affinity of its reviewers
    worst_proposal_affinity: float  # that mean
    objective: int  # the solver's integer cost (scaled); equals the LP optimum of the same problem
    solve_seconds: float  # validation, network build and solve
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedProblem:
    """The problem after validation, conflict removal and de-duplication, in index space.

    Shared by the flow solver and the LP check so both optimise exactly the same integer costs.
    """

    n_proposals: int
    n_reviewers: int
    k: int
    min_load: np.ndarray  # int64 per reviewer
    max_load: np.ndarray  # int64 per reviewer
    institution: np.ndarray  # int64 per reviewer, -1 = none; all -1 when the rule is off
    free_proposal: np.ndarray  # candidate pairs the solver may choose, sorted by (proposal, reviewer)
    free_reviewer: np.ndarray
    free_affinity: np.ndarray
    free_cost: np.ndarray  # int64, -round(affinity * SCALE)
    fixed_proposal: np.ndarray  # pairs that must stay
    fixed_reviewer: np.ndarray
    fixed_affinity: np.ndarray
    fixed_cost: np.ndarray
    balance_unit: int  # the u-th unit above the minimum costs balance_unit * (2u - 1)

    def unit_cost(self, unit: np.ndarray) -> np.ndarray:
        return self.balance_unit * (2 * unit.astype(np.int64) - 1)


# --------------------------------------------------------------------------------------------------------------
# Validation


def prepare(problem: AssignmentProblem) -> PreparedProblem:
    """Validate the problem and bring it into index space: conflicts removed, one row per pair, kept pairs apart."""
    n_p, n_r = len(problem.proposal_ids), len(problem.reviewer_ids)
    k = int(problem.k)
    min_load, max_load = _validated_loads(problem, n_p, n_r, k)
    p, r, a, fixed = _validated_pairs(problem, n_p, n_r)
    key = p * n_r + r
    conflicted = _conflict_mask(key, problem.conflicts, problem.proposal_ids, problem.reviewer_ids)
    if (conflicted & fixed).any():
        i = int(np.flatnonzero(conflicted & fixed)[0])
        raise AssignmentInfeasible(
            f"kept review of proposal {problem.proposal_ids[p[i]]} by reviewer {problem.reviewer_ids[r[i]]} "
            "is a conflict of interest", code="fixed_conflict")
    keep = ~conflicted
    key, a, fixed = _deduplicate(key[keep], a[keep], fixed[keep])
    p, r = key // n_r, key % n_r
    cost = -np.rint(a * SCALE).astype(np.int64)
    return PreparedProblem(
        n_proposals=n_p, n_reviewers=n_r, k=k, min_load=min_load, max_load=max_load,
        institution=_institution_codes(problem.reviewer_institution, n_r),
        free_proposal=p[~fixed], free_reviewer=r[~fixed], free_affinity=a[~fixed], free_cost=cost[~fixed],
        fixed_proposal=p[fixed], fixed_reviewer=r[fixed], fixed_affinity=a[fixed], fixed_cost=cost[fixed],
        balance_unit=round(problem.balance_weight * SCALE),
    )


def _validated_loads(problem: AssignmentProblem, n_p: int, n_r: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    if k < 1:
        raise ValueError("k must be at least 1")
    if n_p == 0:
        raise ValueError("there are no proposals to assign")
    min_load = _per_reviewer(problem.min_load, n_r, "min_load")
    max_load = _per_reviewer(problem.max_load, n_r, "max_load")
    if (min_load < 0).any() or (min_load > max_load).any():
        raise ValueError("loads must satisfy 0 <= min_load <= max_load")
    if not (0 <= problem.balance_weight <= 1):
        raise ValueError("balance_weight must lie in [0, 1]")
    return min_load, max_load


def _validated_pairs(problem: AssignmentProblem, n_p: int, n_r: int) -> tuple[np.ndarray, ...]:
    p = np.asarray(problem.pair_proposal, dtype=np.int64).ravel()
    r = np.asarray(problem.pair_reviewer, dtype=np.int64).ravel()
    a = np.asarray(problem.pair_affinity, dtype=np.float64).ravel()
    fixed = (np.zeros(p.shape, dtype=bool) if problem.pair_fixed is None
             else np.asarray(problem.pair_fixed, dtype=bool).ravel())
    if not (p.shape == r.shape == a.shape == fixed.shape):
        raise ValueError("pair arrays must have the same length")
    if p.size and (p.min() < 0 or p.max() >= n_p or r.min() < 0 or r.max() >= n_r):
        raise ValueError("pair index out of range")
    if not np.isfinite(a).all() or (np.abs(a) > 1e6).any():
        raise ValueError("affinities must be finite and at most 1e6 in magnitude")
    return p, r, a, fixed


def _deduplicate(key: np.ndarray, a: np.ndarray, fixed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per pair, the highest affinity, fixed if any copy was fixed. Sorting by key first makes the arc
    order, and so the solver's tie-breaking, independent of the caller's pair order."""
    fixed_keys = np.unique(key[fixed])
    order = np.lexsort((-a, key))
    key, a = key[order], a[order]
    first = np.ones(key.shape, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, a = key[first], a[first]
    return key, a, np.isin(key, fixed_keys, assume_unique=True)


def _institution_codes(reviewer_institution: Sequence[Hashable | None] | None, n_r: int) -> np.ndarray:
    """Institutions as dense codes per reviewer, -1 for none (all -1 when the one-per-institution rule is off)."""
    institution = np.full(n_r, -1, dtype=np.int64)
    if reviewer_institution is not None:
        if len(reviewer_institution) != n_r:
            raise ValueError("reviewer_institution needs one entry per reviewer")
        codes: dict[Hashable, int] = {}
        for i, inst in enumerate(reviewer_institution):
            if inst is not None:
                institution[i] = codes.setdefault(inst, len(codes))
    return institution


def _per_reviewer(value: int | Sequence[int], n_r: int, name: str) -> np.ndarray:
    if np.isscalar(value):
        return np.full(n_r, int(value), dtype=np.int64)  # type: ignore[arg-type]
    arr = np.asarray(value, dtype=np.int64).ravel()
    if arr.shape != (n_r,):
        raise ValueError(f"{name} needs one value per reviewer")
    return arr


def _conflict_mask(key: np.ndarray, conflicts: Collection[tuple[Hashable, Hashable]],
                   proposal_ids: Sequence[Hashable], reviewer_ids: Sequence[Hashable]) -> np.ndarray:
    if not conflicts:
        return np.zeros(key.shape, dtype=bool)
    p_pos = {pid: i for i, pid in enumerate(proposal_ids)}
    r_pos = {rid: i for i, rid in enumerate(reviewer_ids)}
    n_r = len(reviewer_ids)
    # Conflicts naming someone outside this problem cannot match a pair, so they are simply skipped.
    conflict_keys = np.fromiter(
        (p_pos[pid] * n_r + r_pos[rid] for pid, rid in conflicts if pid in p_pos and rid in r_pos), dtype=np.int64)
    return np.isin(key, conflict_keys)
