"""The min-cost flow assignment reaches the LP optimum (SciPy HiGHS) of the same problem, small and medium."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from marketplace.reviews.assignment.affinity import CandidateCollector
from marketplace.reviews.assignment.flow import assign_reviewers
from marketplace.reviews.assignment.lp_check import solve_lp
from marketplace.reviews.assignment.problem import AssignmentInfeasible, AssignmentProblem
from tests.reviews.test_assignment import instances


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_flow_equals_lp_optimum_on_small_instances(prob: AssignmentProblem):
    try:
        result = assign_reviewers(prob)
    except AssignmentInfeasible as error:
        if error.code == "fixed_conflict":
            return  # refused while preparing, before either solver runs
        assert solve_lp(prob) is None, f"flow says infeasible ({error.reason}) but the LP has a solution"
        return
    lp = solve_lp(prob)
    assert lp is not None
    assert lp.integral  # total unimodularity: the LP vertex is an assignment
    assert result.objective == pytest.approx(lp.objective, abs=1e-6)


def clustered(n_p: int, n_r: int, seed: int, top_n: int) -> dict:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 8))
    proposals = centres[rng.integers(6, size=n_p)] + 0.8 * rng.normal(size=(n_p, 8))
    reviewers = centres[rng.integers(6, size=n_r)] + 0.8 * rng.normal(size=(n_r, 8))
    proposals /= np.linalg.norm(proposals, axis=1, keepdims=True)
    reviewers /= np.linalg.norm(reviewers, axis=1, keepdims=True)
    institution = rng.integers(n_r // 2, size=n_r)
    author_institution = rng.integers(n_r // 2, size=n_p)
    scores = np.clip(proposals @ reviewers.T, 0, 1)
    scores[author_institution[:, None] == institution[None, :]] = -np.inf  # institution conflicts
    collector = CandidateCollector(n_p, n_r, top_n)
    collector.add_block(0, scores)
    cand = collector.result()
    return dict(proposal_ids=list(range(n_p)), reviewer_ids=list(range(n_r)), pair_proposal=cand.proposal_index,
                pair_reviewer=cand.reviewer_index, pair_affinity=cand.affinity,
                reviewer_institution=institution.tolist())


@pytest.mark.parametrize(("n_p", "n_r", "seed", "balance"), [
    (60, 25, 1, 0.0), (60, 25, 2, 0.001), (300, 120, 3, 0.0), (300, 120, 4, 0.001), (400, 150, 5, 0.01),
])
def test_flow_equals_lp_optimum_on_medium_instances(n_p, n_r, seed, balance):
    k = 3
    average = n_p * k / n_r
    prob = AssignmentProblem(**clustered(n_p, n_r, seed, top_n=30), k=k, min_load=int(average) - 1,
                             max_load=int(np.ceil(average)) + 2, balance_weight=balance)
    result = assign_reviewers(prob)
    lp = solve_lp(prob)
    assert lp is not None and lp.integral
    assert result.objective == pytest.approx(lp.objective, abs=1e-6)
    assert result.total_affinity >= 0.999 * lp.total_affinity
    if balance == 0:
        assert result.total_affinity == pytest.approx(lp.total_affinity, abs=1e-3)
