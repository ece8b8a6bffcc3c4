"""Optimal, conflict-free reviewer assignment as a min-cost flow (OR-Tools ``SimpleMinCostFlow``).

One unit of flow is one review. The network is::

    source --(load units above the minimum, convex cost)--> reviewer
    reviewer --(conflict-free candidate pair, cost = -affinity)--> proposal
        or, when two or more candidates of one institution could review the same proposal,
    reviewer --> (institution, proposal) --(capacity 1)--> proposal
    proposal --(capacity k)--> sink

Why a flow and not an LP or a greedy pass: the constraint matrix is a network matrix, so the flow optimum is the
integral LP optimum (``lp_check`` verifies this in the tests), and the cost-scaling solver handles a million arcs in
seconds. Greedy passes lose affinity and, worse, break minimum loads.

Minimum loads are lower bounds on the source -> reviewer arcs. They are removed with the standard lower-bound
transformation (the reviewer gets a supply of ``min_load`` and the source gives it up), which keeps every cost small
and the optimum exact; a big negative "mandatory" cost would do the same but inflates the cost range the solver
scales over. Reviews kept from an earlier assignment (``pair_fixed``) are lower bounds of 1 on their path and are
transformed the same way.

Each load unit above the minimum has its own unit-capacity arc whose cost grows with the load (unit ``u`` costs
``balance_weight * (2u - 1)``), so the objective is exactly ``sum(affinity) - balance_weight * sum(load**2)`` up to a
constant: a convex penalty that spreads reviews when affinities are close and yields when they are not.

Affinities are scaled to integers (``SCALE``) because the solver works on int64 costs; ``total_affinity`` in the
result is recomputed from the unscaled values.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

# 1e-5 affinity resolution: far below any meaningful difference in TF-IDF similarity, and small enough that
# cost * node count stays well inside int64 for the largest instances we support.
SCALE = 100_000

# How many offenders a reason names before it summarises the rest.
_NAMED_IN_REASON = 5


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


def assign_reviewers(problem: AssignmentProblem) -> AssignmentResult:
    """Return the assignment maximising affinity minus the load penalty, or raise ``AssignmentInfeasible``."""
    started = time.perf_counter()
    prepared = prepare(problem)
    check_feasibility(prepared, problem.proposal_ids, problem.reviewer_ids)
    network = _Network(prepared)
    solver = network.build()
    status = solver.solve()
    if status == solver.INFEASIBLE:
        raise _diagnose(prepared, problem.proposal_ids, problem.reviewer_ids)
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow solver returned status {status}")
    chosen = solver.flows(network.pair_arcs) > 0
    return _result(problem, prepared, network, chosen, int(solver.optimal_cost()), started)


# --------------------------------------------------------------------------------------------------------------
# Validation


def prepare(problem: AssignmentProblem) -> PreparedProblem:
    n_p, n_r = len(problem.proposal_ids), len(problem.reviewer_ids)
    k = int(problem.k)
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

    key = p * n_r + r
    conflicted = _conflict_mask(key, problem.conflicts, problem.proposal_ids, problem.reviewer_ids)
    if (conflicted & fixed).any():
        i = int(np.flatnonzero(conflicted & fixed)[0])
        raise AssignmentInfeasible(
            f"kept review of proposal {problem.proposal_ids[p[i]]} by reviewer {problem.reviewer_ids[r[i]]} "
            "is a conflict of interest", code="fixed_conflict")
    keep = ~conflicted
    p, r, a, fixed, key = p[keep], r[keep], a[keep], fixed[keep], key[keep]

    # Deduplicate: one row per pair, the highest affinity, fixed if any copy was fixed. Sorting by key first makes
    # the arc order, and so the solver's tie-breaking, independent of the caller's pair order.
    fixed_keys = np.unique(key[fixed])
    order = np.lexsort((-a, key))
    key, a = key[order], a[order]
    first = np.ones(key.shape, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, a = key[first], a[first]
    p, r = key // n_r, key % n_r
    fixed = np.isin(key, fixed_keys, assume_unique=True)

    institution = np.full(n_r, -1, dtype=np.int64)
    if problem.reviewer_institution is not None:
        if len(problem.reviewer_institution) != n_r:
            raise ValueError("reviewer_institution needs one entry per reviewer")
        codes: dict[Hashable, int] = {}
        for i, inst in enumerate(problem.reviewer_institution):
            if inst is not None:
                institution[i] = codes.setdefault(inst, len(codes))

    cost = -np.rint(a * SCALE).astype(np.int64)
    return PreparedProblem(
        n_proposals=n_p, n_reviewers=n_r, k=k, min_load=min_load, max_load=max_load, institution=institution,
        free_proposal=p[~fixed], free_reviewer=r[~fixed], free_affinity=a[~fixed], free_cost=cost[~fixed],
        fixed_proposal=p[fixed], fixed_reviewer=r[fixed], fixed_affinity=a[fixed], fixed_cost=cost[fixed],
        balance_unit=round(problem.balance_weight * SCALE),
    )


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


def _name(ids: Sequence[Hashable], indices: np.ndarray, noun: str) -> str:
    """'proposal 7' or 'proposals 7, 9 and 3 more'."""
    named = ", ".join(str(ids[i]) for i in indices[:_NAMED_IN_REASON])
    more = len(indices) - _NAMED_IN_REASON
    return f"{noun}{'s' if len(indices) > 1 else ''} " + named + (f" and {more} more" if more > 0 else "")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_feasibility(prepared: PreparedProblem, proposal_ids: Sequence[Hashable],
                      reviewer_ids: Sequence[Hashable]) -> None:
    """Raise ``AssignmentInfeasible`` naming the first constraint that obviously cannot be met.

    These counting checks catch nearly every real case with a reason a manager can act on; what they miss (a
    Hall-type shortage shared by several proposals) is diagnosed after the solver reports infeasibility.
    """
    pp = prepared
    n_p, n_r, k = pp.n_proposals, pp.n_reviewers, pp.k
    required = n_p * k
    reasons: list[tuple[str, str]] = []

    fixed_per_p = np.bincount(pp.fixed_proposal, minlength=n_p)
    fixed_per_r = np.bincount(pp.fixed_reviewer, minlength=n_r)
    cand_per_p = fixed_per_p + np.bincount(pp.free_proposal, minlength=n_p)
    cand_per_r = fixed_per_r + np.bincount(pp.free_reviewer, minlength=n_r)

    over = np.flatnonzero(fixed_per_p > k)
    if over.size:
        reasons.append(("fixed_over_k", f"more than {k} kept reviews for {_name(proposal_ids, over, 'proposal')}"))
    over = np.flatnonzero(fixed_per_r > pp.max_load)
    if over.size:
        reasons.append(("fixed_over_max_load",
                        f"more kept reviews than the maximum load for {_name(reviewer_ids, over, 'reviewer')}"))

    if (pp.institution >= 0).any():
        dup = _duplicate_fixed_institutions(pp)
        if dup.size:
            reasons.append(("fixed_institutions", "two kept reviewers from the same institution for "
                            f"{_name(proposal_ids, dup, 'proposal')}"))

    capacity = int(pp.max_load.sum())
    if capacity < required:
        reasons.append(("capacity", f"total capacity {capacity} < {k} x {n_p} required"))
    # Kept reviews beyond a reviewer's minimum raise that reviewer's floor.
    minimum = int(np.maximum(pp.min_load, fixed_per_r).sum())
    if minimum > required:
        reasons.append(("min_load", f"minimum loads {minimum} exceed {k} x {n_p} slots"))

    short = np.flatnonzero(cand_per_p < k)
    if short.size:
        first = short[0]
        reasons.append(("candidates", f"proposal {proposal_ids[first]} has only "
                        f"{_plural(int(cand_per_p[first]), 'conflict-free candidate')}, needs {k}"
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
                        f"{_plural(int(cand_per_r[first]), 'conflict-free candidate proposal')}, "
                        f"minimum load is {pp.min_load[first]}"
                        + _others(starved, "reviewers")))

    usable = int(np.minimum(pp.max_load, cand_per_r).sum())
    if usable < required <= capacity:
        reasons.append(("usable_capacity", f"usable capacity {usable} < {k} x {n_p} required: reviewers have fewer "
                        "conflict-free candidate proposals than their maximum load"))

    if reasons:
        raise AssignmentInfeasible(reasons[0][1], code=reasons[0][0], reasons=[text for _, text in reasons])


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


# --------------------------------------------------------------------------------------------------------------
# The network


class _Network:
    """Builds the flow network with vectorised arc adds and remembers which arcs are the candidate pairs."""

    def __init__(self, prepared: PreparedProblem):
        self.pp = prepared
        n_p, n_r = prepared.n_proposals, prepared.n_reviewers
        self.source = n_r + n_p
        self.sink = n_r + n_p + 1
        self.first_free_node = n_r + n_p + 2
        self.pair_arcs = np.empty(0, dtype=np.int32)
        self.stats: dict[str, int] = {}

    def proposal_node(self, p: np.ndarray) -> np.ndarray:
        return self.pp.n_reviewers + p

    def build(self, *, with_shortfall: bool = False) -> min_cost_flow.SimpleMinCostFlow:
        pp = self.pp
        n_p, n_r = pp.n_proposals, pp.n_reviewers
        solver = min_cost_flow.SimpleMinCostFlow()
        tails: list[np.ndarray] = []
        heads: list[np.ndarray] = []
        caps: list[np.ndarray] = []
        costs: list[np.ndarray] = []

        def add(t: np.ndarray, h: np.ndarray, c: np.ndarray | int, w: np.ndarray | int) -> None:
            tails.append(np.asarray(t, dtype=np.int32))
            heads.append(np.asarray(h, dtype=np.int32))
            caps.append(np.broadcast_to(np.asarray(c, dtype=np.int64), tails[-1].shape))
            costs.append(np.broadcast_to(np.asarray(w, dtype=np.int64), tails[-1].shape))

        # Candidate pairs, each through an (institution, proposal) node when that institution has two or more
        # candidates for the proposal; a single candidate needs no node since its own arc already has capacity 1.
        # Pairs whose institution seat a kept review already fills are left out altogether.
        self.free_kept = np.flatnonzero(~_blocked_by_fixed_institution(pp))
        p, r, cost = pp.free_proposal[self.free_kept], pp.free_reviewer[self.free_kept], pp.free_cost[self.free_kept]
        inst = pp.institution[r]
        head = self.proposal_node(p)
        n_groups = 0
        if (inst >= 0).any():
            width = int(inst.max()) + 1
            seat = np.where(inst >= 0, p * width + inst, -1)
            uniq, inverse, counts = np.unique(seat, return_inverse=True, return_counts=True)
            shared = (counts > 1) & (uniq >= 0)
            n_groups = int(shared.sum())
            group_node = self.first_free_node + np.cumsum(shared) - 1  # dense numbering of shared seats
            via = shared[inverse]
            head = np.where(via, group_node[inverse], head)
        pair_start = sum(len(t) for t in tails)
        add(r, head, 1, 0 if with_shortfall else cost)
        self.pair_arcs = np.arange(pair_start, pair_start + len(r), dtype=np.int32)
        if n_groups:
            add(self.first_free_node + np.arange(n_groups), self.proposal_node(uniq[shared] // width), 1, 0)

        # Load units above each reviewer's minimum, never more than the reviewer can actually use.
        usable = np.minimum(pp.max_load, np.bincount(r, minlength=n_r) + np.bincount(pp.fixed_reviewer, minlength=n_r))
        extra = np.maximum(usable - pp.min_load, 0)
        if pp.balance_unit == 0:
            has = np.flatnonzero(extra > 0)
            add(np.full(has.shape, self.source), has, extra[has], 0)
        else:
            reviewer = np.repeat(np.arange(n_r), extra)
            offset = np.arange(reviewer.size) - np.repeat(np.cumsum(extra) - extra, extra)
            unit = pp.min_load[reviewer] + offset + 1
            add(np.full(reviewer.shape, self.source), reviewer, 1, 0 if with_shortfall else pp.unit_cost(unit))

        add(self.proposal_node(np.arange(n_p)), np.full(n_p, self.sink), pp.k, 0)

        if with_shortfall:
            # Slack arcs make every instance feasible. Only they cost anything, so the solver minimises the
            # shortfall, which names the proposals that cannot be filled and the reviewers who cannot reach their
            # minimum (affinity is irrelevant to the diagnosis).
            add(np.full(n_p, self.source), self.proposal_node(np.arange(n_p)), pp.k, 1)
            add(np.arange(n_r), np.full(n_r, self.sink), pp.min_load, 1)
            add(np.array([self.source]), np.array([self.sink]), n_p * pp.k, 1)

        solver.add_arcs_with_capacity_and_unit_cost(
            np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs))

        # Supplies after the lower-bound transformation (minimum loads and kept reviews).
        n_nodes = self.first_free_node + n_groups
        supply = np.zeros(n_nodes, dtype=np.int64)
        supply[self.source] = n_p * pp.k - int(pp.min_load.sum())
        supply[:n_r] += pp.min_load - np.bincount(pp.fixed_reviewer, minlength=n_r)
        supply[n_r:n_r + n_p] += np.bincount(pp.fixed_proposal, minlength=n_p)
        supply[self.sink] = -n_p * pp.k
        solver.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supply)
        self.stats = {"nodes": n_nodes, "arcs": int(solver.num_arcs()), "candidate_pairs": int(len(r)),
                      "institution_nodes": n_groups}
        return solver


def _blocked_by_fixed_institution(pp: PreparedProblem) -> np.ndarray:
    """Free pairs whose (institution, proposal) seat is already taken by a kept review."""
    if not pp.fixed_proposal.size or (pp.institution < 0).all():
        return np.zeros(pp.free_proposal.shape, dtype=bool)
    width = int(pp.institution.max()) + 1
    f_inst = pp.institution[pp.fixed_reviewer]
    taken = pp.fixed_proposal[f_inst >= 0] * width + f_inst[f_inst >= 0]
    inst = pp.institution[pp.free_reviewer]
    return (inst >= 0) & np.isin(pp.free_proposal * width + inst, taken)


def _diagnose(pp: PreparedProblem, proposal_ids: Sequence[Hashable],
              reviewer_ids: Sequence[Hashable]) -> AssignmentInfeasible:
    network = _Network(pp)
    solver = network.build(with_shortfall=True)
    if solver.solve() != solver.OPTIMAL:
        return AssignmentInfeasible("no assignment satisfies the constraints", code="no_flow")
    chosen = solver.flows(network.pair_arcs) > 0
    kept = network.free_kept[chosen]
    got_p = np.bincount(pp.free_proposal[kept], minlength=pp.n_proposals) + np.bincount(
        pp.fixed_proposal, minlength=pp.n_proposals)
    got_r = np.bincount(pp.free_reviewer[kept], minlength=pp.n_reviewers) + np.bincount(
        pp.fixed_reviewer, minlength=pp.n_reviewers)
    short_p = np.flatnonzero(got_p < pp.k)
    short_r = np.flatnonzero(got_r < pp.min_load)
    reasons = []
    if short_p.size:
        reasons.append(f"{_name(proposal_ids, short_p, 'proposal')} cannot get all {_plural(pp.k, 'reviewer')}: "
                       "their conflict-free candidates are needed by other proposals up to their maximum loads")
    if short_r.size:
        reasons.append(f"the minimum load cannot be reached for {_name(reviewer_ids, short_r, 'reviewer')} "
                       "without leaving other proposals short")
    if not reasons:
        reasons.append("no assignment satisfies the constraints")
    return AssignmentInfeasible(reasons[0], code="shortage", reasons=reasons)


# --------------------------------------------------------------------------------------------------------------
# The result


def _result(problem: AssignmentProblem, pp: PreparedProblem, network: _Network, chosen: np.ndarray,
            objective: int, started: float) -> AssignmentResult:
    kept = network.free_kept[chosen]
    p = np.concatenate([pp.free_proposal[kept], pp.fixed_proposal])
    r = np.concatenate([pp.free_reviewer[kept], pp.fixed_reviewer])
    a = np.concatenate([pp.free_affinity[kept], pp.fixed_affinity])
    order = np.lexsort((r, p))
    p, r, a = p[order], r[order], a[order]

    load = np.bincount(r, minlength=pp.n_reviewers)
    mean_affinity = np.bincount(p, weights=a, minlength=pp.n_proposals) / pp.k
    worst = int(np.argmin(mean_affinity))
    # The solver's cost omits the constant cost of the units below each minimum; add it back so the objective is
    # the same number the LP reports.
    objective += _minimum_units_cost(pp)
    pids, rids = problem.proposal_ids, problem.reviewer_ids
    return AssignmentResult(
        pairs=[(pids[i], rids[j]) for i, j in zip(p.tolist(), r.tolist(), strict=True)],
        pair_affinity=a.tolist(),
        proposal_index=p,
        reviewer_index=r,
        total_affinity=float(a.sum()),
        loads={rid: int(n) for rid, n in zip(rids, load.tolist(), strict=True)},
        load_spread=LoadSpread(min=int(load.min()) if load.size else 0, max=int(load.max()) if load.size else 0,
                               std=float(load.std()) if load.size else 0.0),
        worst_proposal_id=pids[worst],
        worst_proposal_affinity=float(mean_affinity[worst]),
        objective=int(objective) + int(pp.fixed_cost.sum()),
        solve_seconds=time.perf_counter() - started,
        stats=network.stats,
    )


def _minimum_units_cost(pp: PreparedProblem) -> int:
    """Penalty of the load units every reviewer carries anyway: sum over u <= min_load of (2u - 1) = min_load**2."""
    return int(pp.balance_unit * (pp.min_load**2).sum())
