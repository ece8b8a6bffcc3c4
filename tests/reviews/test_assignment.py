"""Reviewer assignment: hand-checked optima, feasibility reasons, and properties that must hold for any instance."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.reviews.assignment.flow import assign_reviewers
from marketplace.reviews.assignment.problem import AssignmentInfeasible, AssignmentProblem


def problem(pairs, *, proposals=None, reviewers=None, **kw):
    """pairs: [(proposal index, reviewer index, affinity)]."""
    p, r, a = (np.array(x) for x in zip(*pairs, strict=True))
    n_p = proposals or int(p.max()) + 1
    n_r = reviewers or int(r.max()) + 1
    kw.setdefault("balance_weight", 0.0)
    return AssignmentProblem(proposal_ids=[f"P{i}" for i in range(n_p)], reviewer_ids=[f"R{j}" for j in range(n_r)],
                             pair_proposal=p, pair_reviewer=r, pair_affinity=a, **kw)


def dense(n_p, n_r, seed=0):
    rng = np.random.default_rng(seed)
    return [(i, j, round(float(rng.random()), 4)) for i in range(n_p) for j in range(n_r)]


def test_picks_the_best_reviewers_when_loads_allow():
    pairs = [(0, 0, 0.9), (0, 1, 0.1), (0, 2, 0.8), (1, 0, 0.2), (1, 1, 0.7), (1, 2, 0.6)]
    result = assign_reviewers(problem(pairs, k=2, max_load=2))
    assert result.pairs == [("P0", "R0"), ("P0", "R2"), ("P1", "R1"), ("P1", "R2")]
    assert result.total_affinity == pytest.approx(0.9 + 0.8 + 0.7 + 0.6)
    assert result.loads == {"R0": 1, "R1": 1, "R2": 2}
    assert (result.load_spread.min, result.load_spread.max) == (1, 2)
    assert result.worst_proposal_id == "P1" and result.worst_proposal_affinity == pytest.approx(0.65)


def test_max_load_moves_a_review_to_the_next_best_reviewer():
    pairs = [(0, 0, 0.9), (0, 1, 0.5), (1, 0, 0.8), (1, 1, 0.1)]
    result = assign_reviewers(problem(pairs, k=1, max_load=1))
    # Giving R0 to P0 (0.9 + 0.1) loses to giving R0 to P1 (0.5 + 0.8).
    assert result.pairs == [("P0", "R1"), ("P1", "R0")]


def test_minimum_load_is_met_even_by_a_weak_reviewer():
    pairs = [(i, 0, 0.9) for i in range(4)] + [(i, 1, 0.1) for i in range(4)]
    result = assign_reviewers(problem(pairs, k=1, min_load=1, max_load=4))
    assert result.loads == {"R0": 3, "R1": 1}
    free = assign_reviewers(problem(pairs, k=1, min_load=0, max_load=4))
    assert free.loads == {"R0": 4, "R1": 0}


def test_loads_may_differ_per_reviewer():
    pairs = [(i, j, (0.9, 0.6, 0.5)[j]) for i in range(4) for j in range(3)]
    result = assign_reviewers(problem(pairs, k=1, min_load=[0, 0, 2], max_load=[1, 4, 4]))
    assert result.loads == {"R0": 1, "R1": 1, "R2": 2}
    with pytest.raises(ValueError, match="one value per reviewer"):
        assign_reviewers(problem(pairs, k=1, max_load=[1, 4]))


def test_conflicts_given_as_ids_are_never_assigned():
    pairs = [(0, 0, 0.9), (0, 1, 0.2), (1, 0, 0.9), (1, 1, 0.2)]
    result = assign_reviewers(problem(pairs, k=1, max_load=2, conflicts={("P0", "R0"), ("P9", "R0")}))
    assert ("P0", "R0") not in result.pairs
    assert result.pairs == [("P0", "R1"), ("P1", "R0")]


def test_one_reviewer_per_institution_per_proposal():
    pairs = [(0, 0, 0.9), (0, 1, 0.8), (0, 2, 0.1)]
    institutions = ["Fudan", "Fudan", None]
    result = assign_reviewers(problem(pairs, k=2, max_load=1, reviewer_institution=institutions))
    assert result.pairs == [("P0", "R0"), ("P0", "R2")]
    without_rule = assign_reviewers(problem(pairs, k=2, max_load=1))
    assert without_rule.pairs == [("P0", "R0"), ("P0", "R1")]


def test_kept_reviews_stay_and_count_towards_k_and_load():
    pairs = [(0, 0, 0.1), (0, 1, 0.9), (0, 2, 0.8), (1, 1, 0.5), (1, 2, 0.4)]
    fixed = [True, False, False, False, False]
    result = assign_reviewers(problem(pairs, k=2, max_load=2, pair_fixed=fixed))
    assert ("P0", "R0") in result.pairs
    assert sorted(result.pairs) == [("P0", "R0"), ("P0", "R1"), ("P1", "R1"), ("P1", "R2")]


def test_kept_review_blocks_a_second_reviewer_of_its_institution():
    pairs = [(0, 0, 0.1), (0, 1, 0.9), (0, 2, 0.2)]
    result = assign_reviewers(problem(pairs, k=2, max_load=1, reviewer_institution=["A", "A", "B"],
                                      pair_fixed=[True, False, False]))
    assert result.pairs == [("P0", "R0"), ("P0", "R2")]


def test_kept_review_with_a_conflict_is_refused():
    with pytest.raises(AssignmentInfeasible) as info:
        assign_reviewers(problem([(0, 0, 0.5), (0, 1, 0.5)], k=1, max_load=1, pair_fixed=[True, False],
                                 conflicts={("P0", "R0")}))
    assert info.value.code == "fixed_conflict"
    assert "P0" in info.value.reason and "R0" in info.value.reason


def test_balance_weight_spreads_load_when_affinities_tie():
    pairs = [(i, j, 0.5) for i in range(6) for j in range(3)]
    result = assign_reviewers(problem(pairs, k=1, max_load=6, balance_weight=0.01))
    assert sorted(result.loads.values()) == [2, 2, 2]
    assert result.load_spread.std == 0.0


def test_balance_weight_yields_to_a_clear_affinity_difference():
    pairs = [(i, 0, 0.9) for i in range(4)] + [(i, 1, 0.1) for i in range(4)]
    result = assign_reviewers(problem(pairs, k=1, max_load=4, balance_weight=0.01))
    assert result.loads == {"R0": 4, "R1": 0}


def test_same_input_in_any_order_gives_the_same_assignment():
    pairs = dense(30, 12, seed=3)
    base = assign_reviewers(problem(pairs, k=3, max_load=9, min_load=5, reviewer_institution=list("ABCABCABCDDE")))
    shuffled = [pairs[i] for i in np.random.default_rng(1).permutation(len(pairs))]
    again = assign_reviewers(problem(shuffled, k=3, max_load=9, min_load=5, reviewer_institution=list("ABCABCABCDDE")))
    assert again.pairs == base.pairs
    assert again.objective == base.objective


def test_duplicate_pairs_keep_the_highest_affinity():
    result = assign_reviewers(problem([(0, 0, 0.2), (0, 0, 0.7), (0, 1, 0.5)], k=1, max_load=1))
    assert result.pairs == [("P0", "R0")]
    assert result.total_affinity == pytest.approx(0.7)


@pytest.mark.parametrize(("kwargs", "pairs", "code", "reason"), [
    (dict(k=3, max_load=2, proposals=20, reviewers=20), dense(20, 20), "capacity",
     "total capacity 40 < 3 x 20 required"),
    (dict(k=3, min_load=4, max_load=9, proposals=15, reviewers=15), dense(15, 15), "min_load",
     "minimum loads 60 exceed 3 x 15 slots"),
    (dict(k=3, max_load=14, proposals=18, reviewers=4),
     [p for p in dense(18, 4) if not (p[0] == 17 and p[1] in (0, 1))], "candidates",
     "proposal P17 has only 2 conflict-free candidates, needs 3"),
    (dict(k=2, max_load=5, proposals=3, reviewers=3, reviewer_institution=["X", "X", "Y"]),
     [(0, 0, 0.5), (0, 1, 0.5), (1, 0, 0.5), (1, 2, 0.5), (2, 1, 0.5), (2, 2, 0.5)], "institutions",
     "proposal P0 has conflict-free candidates from only 1 distinct institutions, needs 2 "
     "(at most one reviewer per institution)"),
    (dict(k=1, min_load=2, max_load=3, proposals=4, reviewers=2),
     [(0, 0, 0.5), (1, 0, 0.5), (2, 0, 0.5), (3, 0, 0.5), (0, 1, 0.5)], "reviewer_candidates",
     "reviewer R1 has only 1 conflict-free candidate proposal, minimum load is 2"),
])
def test_infeasible_instances_name_the_constraint(kwargs, pairs, code, reason):
    with pytest.raises(AssignmentInfeasible) as info:
        assign_reviewers(problem(pairs, **kwargs))
    assert info.value.code == code
    assert info.value.reason == reason
    assert str(info.value) == reason


def test_shortage_shared_by_several_proposals_is_diagnosed_after_the_solver():
    # Every counting check passes, but P0..P2 share the same two reviewers, who can take only four reviews.
    pairs = [(i, j, 0.5) for i in range(3) for j in (0, 1)] + [(3, j, 0.5) for j in range(2, 6)]
    with pytest.raises(AssignmentInfeasible) as info:
        assign_reviewers(problem(pairs, k=2, max_load=2))
    assert info.value.code == "shortage"
    assert re.match(r"proposals? P[0-2](, P[0-2])* cannot get all 2 reviewers: ", info.value.reason)


def test_invalid_input_is_a_value_error():
    with pytest.raises(ValueError, match="min_load <= max_load"):
        assign_reviewers(problem([(0, 0, 0.5)], k=1, min_load=3, max_load=2))
    with pytest.raises(ValueError, match="out of range"):
        assign_reviewers(problem([(0, 5, 0.5)], k=1, max_load=1, reviewers=2))
    with pytest.raises(ValueError, match="finite"):
        assign_reviewers(problem([(0, 0, float("nan"))], k=1, max_load=1))


@st.composite
def instances(draw):
    """Instances that are mostly feasible but tight: loads around the average, some conflicts, some kept reviews."""
    n_p = draw(st.integers(1, 10))
    n_r = draw(st.integers(1, 8))
    k = draw(st.integers(1, min(3, n_r)))
    cells = [(i, j) for i in range(n_p) for j in range(n_r)]
    density = draw(st.lists(st.integers(0, 9), min_size=len(cells), max_size=len(cells)))
    pairs = [cell for cell, d in zip(cells, density, strict=True) if d < 8] or [(0, 0)]
    affinity = draw(st.lists(st.integers(0, 1000), min_size=len(pairs), max_size=len(pairs)))
    indices = st.integers(0, len(pairs) - 1)
    conflicted = draw(st.sets(indices, max_size=max(1, len(pairs) // 6)))
    kept = draw(st.sets(indices, max_size=2)) - conflicted
    average = n_p * k / n_r
    max_load = int(np.ceil(average)) + draw(st.integers(0, 3))
    min_load = draw(st.integers(0, int(average)))
    institutions = draw(st.none() | st.lists(st.sampled_from([None, "A", "B", "C", "D"]), min_size=n_r, max_size=n_r))
    p, r = (np.array(x) for x in zip(*pairs, strict=True))
    return AssignmentProblem(
        proposal_ids=[f"P{i}" for i in range(n_p)], reviewer_ids=[f"R{j}" for j in range(n_r)],
        pair_proposal=p, pair_reviewer=r, pair_affinity=np.array(affinity) / 1000, k=k,
        min_load=min_load, max_load=max_load, reviewer_institution=institutions,
        conflicts={(f"P{p[i]}", f"R{r[i]}") for i in conflicted},
        pair_fixed=np.isin(np.arange(len(pairs)), list(kept)),
        balance_weight=draw(st.sampled_from([0.0, 0.001, 0.05])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_any_assignment_respects_every_constraint(prob: AssignmentProblem):
    try:
        result = assign_reviewers(prob)
    except AssignmentInfeasible as error:
        assert error.reason and error.code
        return
    candidates = {(prob.proposal_ids[i], prob.reviewer_ids[j])
                  for i, j in zip(prob.pair_proposal.tolist(), prob.pair_reviewer.tolist(), strict=True)}
    assigned = result.pairs
    assert len(set(assigned)) == len(assigned)
    assert set(assigned) <= candidates
    assert not set(assigned) & set(prob.conflicts)
    per_proposal = {pid: 0 for pid in prob.proposal_ids}
    for pid, _ in assigned:
        per_proposal[pid] += 1
    assert set(per_proposal.values()) == {prob.k}
    assert all(prob.min_load <= n <= prob.max_load for n in result.loads.values())
    assert sum(result.loads.values()) == len(assigned)
    if prob.reviewer_institution is not None:
        inst = dict(zip(prob.reviewer_ids, prob.reviewer_institution, strict=True))
        seats = [(pid, inst[rid]) for pid, rid in assigned if inst[rid] is not None]
        assert len(seats) == len(set(seats))
    kept = {(prob.proposal_ids[i], prob.reviewer_ids[j]) for i, j, f in zip(
        prob.pair_proposal.tolist(), prob.pair_reviewer.tolist(), prob.pair_fixed.tolist(), strict=True) if f}
    assert kept <= set(assigned)
    best = {}
    for i, j, a in zip(prob.pair_proposal.tolist(), prob.pair_reviewer.tolist(), prob.pair_affinity.tolist(),
                       strict=True):
        best[(prob.proposal_ids[i], prob.reviewer_ids[j])] = max(a, best.get((prob.proposal_ids[i],
                                                                                 prob.reviewer_ids[j]), -1))
    assert result.total_affinity == pytest.approx(sum(best[pair] for pair in assigned))
