"""Why an assignment problem has no solution, in words a manager can act on (pure: NumPy only).

`check_feasibility` runs counting checks before the solver; `name`/`plural` word the reasons, also for the
shortage diagnosis the flow runs when the solver itself finds no flow.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from marketplace.reviews.assignment.problem import AssignmentInfeasible, PreparedProblem

# How many offenders a reason names before it summarises the rest.
_NAMED_IN_REASON = 5


def name(ids: Sequence[Hashable], indices: np.ndarray, noun: str) -> str:
    """'proposal 7' or 'proposals 7, 9 and 3 more'."""
    named = ", ".join(str(ids[i]) for i in indices[:_NAMED_IN_REASON])
    more = len(indices) - _NAMED_IN_REASON
    return f"{noun}{'s' if len(indices) > 1 else ''} " + named + (f" and {more} more" if more > 0 else "")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_feasibility(prepared: PreparedProblem, proposal_ids: Sequence[Hashable],
                      reviewer_ids: Sequence[Hashable]) -> None:
    """Raise ``AssignmentInfeasible`` naming the first constraint that obviously cannot be met.

    These counting checks catch nearly every real case with a reason a manager can act on; what they miss (a
    Hall-type shortage shared by several proposals) is diagnosed after the solver reports infeasibility.
    """
    counts = _Counts(prepared)
    reasons = (_kept_review_reasons(prepared, counts, proposal_ids, reviewer_ids)
               + _capacity_reasons(prepared, counts)
               + _candidate_reasons(prepared, counts, proposal_ids, reviewer_ids))
    if reasons:
        raise AssignmentInfeasible(reasons[0][1], code=reasons[0][0], reasons=[text for _, text in reasons])


class _Counts:
    """Kept reviews and candidates per proposal and per reviewer."""

    def __init__(self, pp: PreparedProblem) -> None:
        self.fixed_per_p = np.bincount(pp.fixed_proposal, minlength=pp.n_proposals)
        self.fixed_per_r = np.bincount(pp.fixed_reviewer, minlength=pp.n_reviewers)
        self.cand_per_p = self.fixed_per_p + np.bincount(pp.free_proposal, minlength=pp.n_proposals)
        self.cand_per_r = self.fixed_per_r + np.bincount(pp.free_reviewer, minlength=pp.n_reviewers)


def _kept_review_reasons(pp: PreparedProblem, counts: _Counts, proposal_ids: Sequence[Hashable],
                         reviewer_ids: Sequence[Hashable]) -> list[tuple[str, str]]:
    reasons: list[tuple[str, str]] = []
    k = pp.k
    over = np.flatnonzero(counts.fixed_per_p > k)
    if over.size:
        reasons.append(("fixed_over_k", f"more than {k} kept reviews for {name(proposal_ids, over, 'proposal')}"))
    over = np.flatnonzero(counts.fixed_per_r > pp.max_load)
    if over.size:
        reasons.append(("fixed_over_max_load",
                        f"more kept reviews than the maximum load for {name(reviewer_ids, over, 'reviewer')}"))
    if (pp.institution >= 0).any():
        dup = _duplicate_fixed_institutions(pp)
        if dup.size:
            reasons.append(("fixed_institutions", "two kept reviewers from the same institution for "
                            f"{name(proposal_ids, dup, 'proposal')}"))
    return reasons


def _capacity_reasons(pp: PreparedProblem, counts: _Counts) -> list[tuple[str, str]]:
    reasons: list[tuple[str, str]] = []
    n_p, k = pp.n_proposals, pp.k
    required = n_p * k
    capacity = int(pp.max_load.sum())
    if capacity < required:
        reasons.append(("capacity", f"total capacity {capacity} < {k} x {n_p} required"))
    # Kept reviews beyond a reviewer's minimum raise that reviewer's floor.
    minimum = int(np.maximum(pp.min_load, counts.fixed_per_r).sum())
    if minimum > required:
        reasons.append(("min_load", f"minimum loads {minimum} exceed {k} x {n_p} slots"))
    return reasons


def _candidate_reasons(pp: PreparedProblem, counts: _Counts, proposal_ids: Sequence[Hashable],
                       reviewer_ids: Sequence[Hashable]) -> list[tuple[str, str]]:
    reasons: list[tuple[str, str]] = []
    n_p, k = pp.n_proposals, pp.k
    cand_per_p, cand_per_r = counts.cand_per_p, counts.cand_per_r
    short = np.flatnonzero(cand_per_p < k)
    if short.size:
        first = short[0]
        reasons.append(("candidates", f"proposal {proposal_ids[first]} has only "
                        f"{plural(int(cand_per_p[first]), 'conflict-free candidate')}, needs {k}"
                        + _others(short, "proposals")))
    if (pp.institution >= 0).any():
        slots = _institution_slots(pp)
        short = np.flatnonzero((slots < k) & (cand_per_p >= k))
        if short.size:
            first = short[0]
            reasons.append(("institutions", f"proposal {proposal_ids[first]} has conflict-free candidates from only "
                            f"{slots[first]} distinct institutions, needs {k} (at most one reviewer per institution)"
                            + _others(short, "proposals")))
    starved = np.flatnonzero(cand_per_r < pp.min_load)
    if starved.size:
        first = starved[0]
        reasons.append(("reviewer_candidates", f"reviewer {reviewer_ids[first]} has only "
                        f"{plural(int(cand_per_r[first]), 'conflict-free candidate proposal')}, "
                        f"minimum load is {pp.min_load[first]}"
                        + _others(starved, "reviewers")))
    required, capacity = n_p * k, int(pp.max_load.sum())
    usable = int(np.minimum(pp.max_load, cand_per_r).sum())
    if usable < required <= capacity:
        reasons.append(("usable_capacity", f"usable capacity {usable} < {k} x {n_p} required: reviewers have fewer "
                        "conflict-free candidate proposals than their maximum load"))
    return reasons


def _others(indices: np.ndarray, noun: str) -> str:
    return f" ({len(indices) - 1} other {noun} too)" if len(indices) > 1 else ""


def _institution_slots(pp: PreparedProblem) -> np.ndarray:
    """Per proposal, how many reviewers it could get at most under the one-per-institution rule."""
    p = np.concatenate([pp.free_proposal, pp.fixed_proposal])
    inst = pp.institution[np.concatenate([pp.free_reviewer, pp.fixed_reviewer])]
    slots = np.bincount(p[inst < 0], minlength=pp.n_proposals)  # reviewers without institution count one each
    with_inst = inst >= 0
    width = int(pp.institution.max()) + 1
    distinct = np.unique(p[with_inst] * width + inst[with_inst])
    return slots + np.bincount(distinct // width, minlength=pp.n_proposals)


def _duplicate_fixed_institutions(pp: PreparedProblem) -> np.ndarray:
    inst = pp.institution[pp.fixed_reviewer]
    with_inst = inst >= 0
    key = pp.fixed_proposal[with_inst] * (int(pp.institution.max()) + 1) + inst[with_inst]
    uniq, counts = np.unique(key, return_counts=True)
    return np.unique(uniq[counts > 1] // (int(pp.institution.max()) + 1))
