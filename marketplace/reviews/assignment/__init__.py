"""Reviewer assignment: who reviews which proposal.

- `problem` (pure): the assignment problem, its validation and the prepared arrays.
- `feasibility` (pure): why a problem has no solution, in words staff can act on.
- `flow` (pure): the min-cost flow that finds the optimal assignment.
- `lp_check` (pure): the linear-programming relaxation, to check the flow's optimality in tests and benchmarks.
- `affinity` (pure): text analysis and TF-IDF affinity between proposals and reviewers.
- `suggestions` (glue): experts to invite into a challenge's pool.
- `service` (glue): runs an assignment for a challenge, replaces a reviewer who declared a conflict.
"""
