"""The reviewer assignment written as a linear programme, solved by SciPy's HiGHS.

Only for verification on small and medium instances: HiGHS needs minutes where the flow solver needs seconds. The
constraint matrix is a network matrix (proposal rows, reviewer rows and the laminar institution rows), so the LP
optimum is integral and must equal the flow optimum exactly. It is written from the constraints directly, not from
the flow network, so a mistake in the network construction shows up as a different optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from marketplace.reviews.assignment.problem import AssignmentProblem, PreparedProblem, prepare


@dataclass(frozen=True)
class LPSolution:
    objective: float  # same integer cost scale as AssignmentResult.objective
    total_affinity: float
    pair_value: np.ndarray  # LP value of each free candidate pair (PreparedProblem order)
    integral: bool


def solve_lp(problem: AssignmentProblem | PreparedProblem) -> LPSolution | None:
    """Solve the LP relaxation; ``None`` when it is infeasible."""
    pp = problem if isinstance(problem, PreparedProblem) else prepare(problem)
    n_p, n_r, k = pp.n_proposals, pp.n_reviewers, pp.k
    n_e = len(pp.free_proposal)

    # Load units above each reviewer's minimum: y[r, u] for u = min+1 .. max, each in [0, 1].
    extra = pp.max_load - pp.min_load
    unit_reviewer = np.repeat(np.arange(n_r), extra)
    unit = pp.min_load[unit_reviewer] + np.arange(unit_reviewer.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    n_y = unit_reviewer.size

    c = np.concatenate([pp.free_cost, pp.unit_cost(unit)]).astype(float)
    edges = np.arange(n_e)
    units = n_e + np.arange(n_y)

    # Every proposal gets exactly k reviews, kept ones included.
    a_prop = sparse.csr_matrix((np.ones(n_e), (pp.free_proposal, edges)), shape=(n_p, n_e + n_y))
    b_prop = k - np.bincount(pp.fixed_proposal, minlength=n_p)
    # load(r) = min_load(r) + its units above the minimum.
    a_rev = sparse.csr_matrix(
        (np.concatenate([np.ones(n_e), -np.ones(n_y)]), (np.concatenate([pp.free_reviewer, unit_reviewer]),
                                                         np.concatenate([edges, units]))),
        shape=(n_r, n_e + n_y))
    b_rev = pp.min_load - np.bincount(pp.fixed_reviewer, minlength=n_r)

    a_ub = b_ub = None
    if (pp.institution >= 0).any():
        width = int(pp.institution.max()) + 1
        inst = pp.institution[pp.free_reviewer]
        has = inst >= 0
        groups, row = np.unique(pp.free_proposal[has] * width + inst[has], return_inverse=True)
        a_ub = sparse.csr_matrix((np.ones(int(has.sum())), (row, edges[has])), shape=(len(groups), n_e + n_y))
        f_inst = pp.institution[pp.fixed_reviewer]
        f_key, f_count = np.unique(pp.fixed_proposal[f_inst >= 0] * width + f_inst[f_inst >= 0], return_counts=True)
        if (f_count > 1).any():
            return None  # two kept reviewers already share an institution seat
        b_ub = 1 - np.isin(groups, f_key).astype(float)  # a kept reviewer already fills that institution's seat

    constant = pp.balance_unit * float((pp.min_load**2).sum()) + float(pp.fixed_cost.sum())
    if n_e + n_y == 0:  # nothing left to choose: feasible exactly when the kept reviews already fit
        if (b_prop != 0).any() or (b_rev != 0).any() or (b_ub is not None and (b_ub < 0).any()):
            return None
        return LPSolution(objective=constant, total_affinity=float(pp.fixed_affinity.sum()),
                          pair_value=np.zeros(0), integral=True)
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=sparse.vstack([a_prop, a_rev]).tocsr(),
                  b_eq=np.concatenate([b_prop, b_rev]).astype(float), bounds=(0, 1), method="highs")
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    x = res.x[:n_e]
    return LPSolution(
        objective=float(res.fun) + constant,
        total_affinity=float(x @ pp.free_affinity + pp.fixed_affinity.sum()),
        pair_value=x,
        integral=bool(np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6)),
    )
