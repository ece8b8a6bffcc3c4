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

The problem, its validation and the result types live in `problem`; the counting checks before the solver in
`feasibility`. Affinities are scaled to integers (``problem.SCALE``) because the solver works on int64 costs;
``total_affinity`` in the result is recomputed from the unscaled values.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence

import numpy as np
from ortools.graph.python import min_cost_flow

from marketplace.reviews.assignment.feasibility import check_feasibility, name, plural
from marketplace.reviews.assignment.problem import (
    AssignmentInfeasible,
    AssignmentProblem,
    AssignmentResult,
    LoadSpread,
    PreparedProblem,
    prepare,
)


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
        """The solver with every arc and supply; ``with_shortfall`` adds slack arcs for the diagnosis."""
        pp = self.pp
        arcs = _Arcs()
        r, n_groups = self._add_pair_arcs(arcs, with_shortfall)
        self._add_load_arcs(arcs, r, with_shortfall)
        arcs.add(self.proposal_node(np.arange(pp.n_proposals)), np.full(pp.n_proposals, self.sink), pp.k, 0)
        if with_shortfall:
            self._add_slack_arcs(arcs)
        solver = min_cost_flow.SimpleMinCostFlow()
        arcs.add_to(solver)
        n_nodes = self.first_free_node + n_groups
        solver.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), self._supplies(n_nodes))
        self.stats = {"nodes": n_nodes, "arcs": int(solver.num_arcs()), "candidate_pairs": int(len(r)),
                      "institution_nodes": n_groups}
        return solver

    def _add_pair_arcs(self, arcs: _Arcs, with_shortfall: bool) -> tuple[np.ndarray, int]:
        """Candidate pairs, each through an (institution, proposal) node when that institution has two or more
        candidates for the proposal; a single candidate needs no node since its own arc already has capacity 1.
        Pairs whose institution seat a kept review already fills are left out altogether."""
        pp = self.pp
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
        pair_start = arcs.count
        arcs.add(r, head, 1, 0 if with_shortfall else cost)
        self.pair_arcs = np.arange(pair_start, pair_start + len(r), dtype=np.int32)
        if n_groups:
            arcs.add(self.first_free_node + np.arange(n_groups), self.proposal_node(uniq[shared] // width), 1, 0)
        return r, n_groups

    def _add_load_arcs(self, arcs: _Arcs, r: np.ndarray, with_shortfall: bool) -> None:
        """Load units above each reviewer's minimum, never more than the reviewer can actually use."""
        pp, n_r = self.pp, self.pp.n_reviewers
        usable = np.minimum(pp.max_load, np.bincount(r, minlength=n_r) + np.bincount(pp.fixed_reviewer, minlength=n_r))
        extra = np.maximum(usable - pp.min_load, 0)
        if pp.balance_unit == 0:
            has = np.flatnonzero(extra > 0)
            arcs.add(np.full(has.shape, self.source), has, extra[has], 0)
        else:
            reviewer = np.repeat(np.arange(n_r), extra)
            offset = np.arange(reviewer.size) - np.repeat(np.cumsum(extra) - extra, extra)
            unit = pp.min_load[reviewer] + offset + 1
            arcs.add(np.full(reviewer.shape, self.source), reviewer, 1, 0 if with_shortfall else pp.unit_cost(unit))

    def _add_slack_arcs(self, arcs: _Arcs) -> None:
        """Slack arcs make every instance feasible. Only they cost anything, so the solver minimises the shortfall,
        which names the proposals that cannot be filled and the reviewers who cannot reach their minimum (affinity
        is irrelevant to the diagnosis)."""
        pp, n_p, n_r = self.pp, self.pp.n_proposals, self.pp.n_reviewers
        arcs.add(np.full(n_p, self.source), self.proposal_node(np.arange(n_p)), pp.k, 1)
        arcs.add(np.arange(n_r), np.full(n_r, self.sink), pp.min_load, 1)
        arcs.add(np.array([self.source]), np.array([self.sink]), n_p * pp.k, 1)

    def _supplies(self, n_nodes: int) -> np.ndarray:
        """Supplies after the lower-bound transformation (minimum loads and kept reviews)."""
        pp, n_p, n_r = self.pp, self.pp.n_proposals, self.pp.n_reviewers
        supply = np.zeros(n_nodes, dtype=np.int64)
        supply[self.source] = n_p * pp.k - int(pp.min_load.sum())
        supply[:n_r] += pp.min_load - np.bincount(pp.fixed_reviewer, minlength=n_r)
        supply[n_r:n_r + n_p] += np.bincount(pp.fixed_proposal, minlength=n_p)
        supply[self.sink] = -n_p * pp.k
        return supply


class _Arcs:
    """Arcs collected as arrays and added to the solver in one vectorised call, in the order they were added."""

    def __init__(self) -> None:
        self.tails: list[np.ndarray] = []
        self.heads: list[np.ndarray] = []
        self.caps: list[np.ndarray] = []
        self.costs: list[np.ndarray] = []
        self.count = 0

    def add(self, t: np.ndarray, h: np.ndarray, c: np.ndarray | int, w: np.ndarray | int) -> None:
        self.tails.append(np.asarray(t, dtype=np.int32))
        self.heads.append(np.asarray(h, dtype=np.int32))
        self.caps.append(np.broadcast_to(np.asarray(c, dtype=np.int64), self.tails[-1].shape))
        self.costs.append(np.broadcast_to(np.asarray(w, dtype=np.int64), self.tails[-1].shape))
        self.count += len(self.tails[-1])

    def add_to(self, solver: min_cost_flow.SimpleMinCostFlow) -> None:
        solver.add_arcs_with_capacity_and_unit_cost(
            np.concatenate(self.tails), np.concatenate(self.heads), np.concatenate(self.caps),
            np.concatenate(self.costs))


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
        reasons.append(f"{name(proposal_ids, short_p, 'proposal')} cannot get all {plural(pp.k, 'reviewer')}: "
                       "their conflict-free candidates are needed by other proposals up to their maximum loads")
    if short_r.size:
        reasons.append(f"the minimum load cannot be reached for {name(reviewer_ids, short_r, 'reviewer')} "
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
