"""Benchmark: reviewer assignment (min-cost flow) and ranking on synthetic instances.

Each assignment size runs in its own process so that its peak memory (ru_maxrss) is its own. Instances are
clustered (proposals and reviewers drawn around shared topic centres), k = 3, with institution conflicts (a reviewer
never reviews a proposal from their own institution), random declared conflicts (passed to the solver, which must
drop them), and the one-reviewer-per-institution-per-proposal rule. Candidates are the union of the top 100
reviewers per proposal and top 100 proposals per reviewer.

Run: .venv/bin/python bench/bench_assignment.py [--sizes 50x30,500x200] [--skip-ranking]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.reviews.assignment.affinity import CandidateCollector, Candidates  # noqa: E402
from marketplace.reviews.assignment.flow import assign_reviewers  # noqa: E402
from marketplace.reviews.assignment.problem import AssignmentProblem  # noqa: E402

SIZES = [(50, 30), (500, 200), (2_000, 1_000), (10_000, 5_000)]
TARGET_SECONDS = {(50, 30): 0.1, (500, 200): 0.5, (2_000, 1_000): 3.0, (10_000, 5_000): 15.0}
LP_AFFORDABLE = 2_000  # proposals; HiGHS takes minutes beyond that
K = 3
TOP_N = 100
RANDOM_CONFLICT_RATE = 0.003
DIMENSIONS = 24


def random_conflict(p: np.ndarray, r: np.ndarray, seed: int) -> np.ndarray:
    """A reproducible pseudo-random conflict pattern, recomputable for any pair when verifying."""
    h = (p.astype(np.uint64) * np.uint64(2_654_435_761) + r.astype(np.uint64) * np.uint64(40_503)
         + np.uint64(seed) * np.uint64(97_531)) % np.uint64(1_000_003)
    return h < np.uint64(int(RANDOM_CONFLICT_RATE * 1_000_003))


class Instance:
    def __init__(self, n_p: int, n_r: int, seed: int):
        rng = np.random.default_rng(seed)
        self.n_p, self.n_r, self.seed = n_p, n_r, seed
        n_clusters = max(3, n_r // 40)
        centres = rng.normal(size=(n_clusters, DIMENSIONS))
        self.prop_vec = _unit(centres[rng.integers(n_clusters, size=n_p)] + 0.7 * rng.normal(size=(n_p, DIMENSIONS)))
        self.rev_vec = _unit(centres[rng.integers(n_clusters, size=n_r)] + 0.7 * rng.normal(size=(n_r, DIMENSIONS)))
        n_inst = max(4, n_r // 8)
        self.rev_inst = rng.integers(n_inst, size=n_r)
        self.prop_inst = rng.integers(n_inst, size=n_p)

    def candidates(self) -> Candidates:
        collector = CandidateCollector(self.n_p, self.n_r, TOP_N)
        rows = max(1, 2_000_000 // self.n_r)
        for first in range(0, self.n_p, rows):
            last = min(self.n_p, first + rows)
            scores = np.clip(self.prop_vec[first:last] @ self.rev_vec.T, 0.0, 1.0)
            # Institution conflicts are excluded while selecting candidates, as the app does with known conflicts.
            scores[self.prop_inst[first:last, None] == self.rev_inst[None, :]] = -math.inf
            collector.add_block(first, scores)
        return collector.result()

    def problem(self, cand: Candidates) -> AssignmentProblem:
        # Random conflicts stay among the candidates and go to the solver, which has to remove them itself.
        hit = random_conflict(cand.proposal_index, cand.reviewer_index, self.seed)
        conflicts = set(zip(cand.proposal_index[hit].tolist(), cand.reviewer_index[hit].tolist(), strict=True))
        per_reviewer = self.n_p * K / self.n_r
        return AssignmentProblem(
            proposal_ids=range(self.n_p), reviewer_ids=range(self.n_r),
            pair_proposal=cand.proposal_index, pair_reviewer=cand.reviewer_index, pair_affinity=cand.affinity,
            k=K, min_load=max(0, math.floor(per_reviewer) - 1), max_load=math.ceil(per_reviewer) + 2,
            reviewer_institution=self.rev_inst.tolist(), conflicts=conflicts)

    def violations(self, p: np.ndarray, r: np.ndarray) -> int:
        same_inst = self.prop_inst[p] == self.rev_inst[r]
        return int((same_inst | random_conflict(p, r, self.seed)).sum())


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run_size(n_p: int, n_r: int, seed: int) -> dict:
    instance = Instance(n_p, n_r, seed)
    started = time.perf_counter()
    cand = instance.candidates()
    affinity_seconds = time.perf_counter() - started
    progress(f"  {n_p}x{n_r}: {len(cand.affinity):,} candidate pairs in {affinity_seconds:.1f} s; solving")

    started = time.perf_counter()
    problem = instance.problem(cand)
    result = assign_reviewers(problem)
    seconds = time.perf_counter() - started  # end to end from candidates: problem, validation, network, solve
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    p, r = result.proposal_index, result.reviewer_index
    loads = np.bincount(r, minlength=n_r)
    again = assign_reviewers(instance.problem(Instance(n_p, n_r, seed).candidates()))
    inst_pairs = np.unique(p * (instance.rev_inst.max() + 1) + instance.rev_inst[r])
    row = {
        "size": f"{n_p}x{n_r}", "candidates": len(cand.affinity), "affinity_s": affinity_seconds,
        "seconds": seconds, "solve_s": result.solve_seconds, "peak_mb": peak_mb,
        "total_affinity": result.total_affinity, "conflicts": instance.violations(p, r),
        "exactly_k": bool((np.bincount(p, minlength=n_p) == K).all()),
        "loads_ok": bool(((loads >= problem.min_load) & (loads <= problem.max_load)).all()),
        "one_per_institution": bool(inst_pairs.size == p.size),
        "load_min": result.load_spread.min, "load_max": result.load_spread.max, "load_std": result.load_spread.std,
        "worst_affinity": result.worst_proposal_affinity,
        "deterministic": bool(np.array_equal(p, again.proposal_index) and np.array_equal(r, again.reviewer_index)),
        "lp_ratio": None, "lp_s": None, "arcs": result.stats["arcs"],
    }
    if n_p <= LP_AFFORDABLE:
        from marketplace.reviews.assignment.lp_check import solve_lp

        progress(f"  {n_p}x{n_r}: LP check")
        started = time.perf_counter()
        lp = solve_lp(problem)
        row["lp_s"] = time.perf_counter() - started
        # Objective = -(scaled affinity) + load penalty; both solvers optimise the same one, so compare it.
        row["lp_ratio"] = result.objective / lp.objective
        row["lp_affinity_ratio"] = result.total_affinity / lp.total_affinity
    return row


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_ranking(seed: int = 7) -> dict:
    from marketplace.reviews.ranking.statistics import ScoreRow, rank_proposals

    rng = np.random.default_rng(seed)
    n_p, n_r, per, criteria = 1_000, 300, 3, ("novelty", "feasibility", "impact", "team")
    quality = rng.normal(6, 1.2, n_p)
    bias = rng.normal(0, 0.8, n_r)
    rows = []
    for p in range(n_p):
        for r in rng.choice(n_r, per, replace=False):
            for c in criteria:
                score = np.clip(np.rint(quality[p] + bias[r] + rng.normal(0, 1)), 1, 10)
                rows.append(ScoreRow(p, int(r), c, int(score)))
    started = time.perf_counter()
    ranking = rank_proposals(rows, dict(zip(criteria, (3, 3, 2, 1), strict=True)), awards=10, seed=seed)
    return {"reviews": n_p * per, "score_rows": len(rows), "seconds": time.perf_counter() - started,
            "alpha": ranking.reliability.krippendorff_alpha, "bootstrap": ranking.bootstrap_samples}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(f"{p}x{r}" for p, r in SIZES))
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: run one size, print JSON
    parser.add_argument("--skip-ranking", action="store_true")
    args = parser.parse_args()
    if args.one:
        n_p, n_r = map(int, args.one.split("x"))
        print(json.dumps(run_size(n_p, n_r, args.seed)))
        return

    rows = []
    for size in args.sizes.split(","):
        progress(f"assignment {size} ...")
        out = subprocess.run([sys.executable, __file__, "--one", size, "--seed", str(args.seed)],
                             check=True, capture_output=True, text=True)
        sys.stderr.write(out.stderr)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))

    print(f"Reviewer assignment, k={K}, top-{TOP_N} candidates, institution + random conflicts, seed {args.seed}")
    header = (f"{'size':>12} {'cands':>9} {'arcs':>9} {'aff gen s':>9} {'assign s':>9} {'target':>7} {'peak MB':>8} "
              f"{'obj/LP':>8} {'aff/LP':>8} {'LP s':>7} {'confl':>5} {'=k':>3} {'loads':>5} {'1/inst':>6} "
              f"{'load min-max sd':>15} {'worst':>6} {'same':>4}")
    print(header)
    print("-" * len(header))
    for row in rows:
        n_p, n_r = map(int, row["size"].split("x"))
        target = TARGET_SECONDS.get((n_p, n_r))
        lp = "n/a" if row["lp_ratio"] is None else f"{row['lp_ratio']:.6f}"
        lp_aff = "n/a" if row["lp_ratio"] is None else f"{row['lp_affinity_ratio']:.6f}"
        lp_s = "n/a" if row["lp_s"] is None else f"{row['lp_s']:.2f}"
        ok = lambda b: "yes" if b else "NO"  # noqa: E731
        print(f"{row['size']:>12} {row['candidates']:>9,} {row['arcs']:>9,} {row['affinity_s']:>9.2f} "
              f"{row['seconds']:>9.3f} {'<' + str(target) if target else '':>7} {row['peak_mb']:>8.0f} {lp:>8} "
              f"{lp_aff:>8} {lp_s:>7} {row['conflicts']:>5} {ok(row['exactly_k']):>3} {ok(row['loads_ok']):>5} "
              f"{ok(row['one_per_institution']):>6} "
              f"{row['load_min']:>5}-{row['load_max']:<3} {row['load_std']:>5.2f} {row['worst_affinity']:>6.3f} "
              f"{ok(row['deterministic']):>4}")
    failures = [r["size"] for r in rows if r["conflicts"] or not (r["exactly_k"] and r["loads_ok"]
                                                                 and r["deterministic"] and r["one_per_institution"])]
    slow = [r["size"] for r in rows
            if (t := TARGET_SECONDS.get(tuple(map(int, r["size"].split("x"))))) and r["seconds"] > t]

    if not args.skip_ranking:
        progress("ranking ...")
        rk = bench_ranking()
        print(f"\nRanking: {rk['reviews']:,} reviews ({rk['score_rows']:,} criterion scores), {rk['bootstrap']} "
              f"bootstrap samples, Krippendorff alpha {rk['alpha']:.3f}: {rk['seconds']:.3f} s (target < 1 s)")
        if rk["seconds"] > 1.0:
            slow.append("ranking")
    if failures:
        print(f"\nFAILED quality checks: {', '.join(failures)}")
    if slow:
        print(f"\nSlower than target: {', '.join(slow)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
