"""Time the whole leaderboard stage (statistics + tables + figures) on a synthetic grid.

Default grid: 16 blocks × 15 methods × 5 seeds × 2 selections, 5k-sample test sets, 1000 paired
bootstrap resamples per cell, 2 worker processes. Inputs are written to a temporary folder first
(not timed); the stage is then timed end to end for both selections and compared with the 120 s
budget (one pass: a budget, not a comparison). Side by side, the per-replicate AUC of one run is
timed with sklearn (one weighted ``roc_auc_score`` per replicate) to show what the vectorised
replicate AUC saves; those two sides alternate over ``--rounds`` rounds (perf/_interleave.py).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from fairmedia.perf._interleave import Comparison, add_rounds_argument, interleave

DESCRIPTION = "leaderboard stage (bootstrap, tests, tables, figures) vs the 120 s budget"
BUDGET_S = 120.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--blocks", type=int, default=16)
    p.add_argument("--methods", type=int, default=15)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--n-test", type=int, default=5000)
    p.add_argument("--boot", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    add_rounds_argument(p)
    p.add_argument("--keep", help="write the grid and outputs here instead of a temp folder")


def _sklearn_side_by_side(n_test: int, n_boot: int, rounds: int) -> Comparison:
    """Seconds per replicate of the vectorised replicate AUC (all ``n_boot``) and of sklearn
    (over the first 50 replicates), interleaved."""
    from sklearn.metrics import roc_auc_score

    from fairmedia.metrics.bootstrap import ClusteredResampler
    from fairmedia.stats.paired_bootstrap import RunAUC
    from fairmedia.testing.synthetic_runs import make_test_set, score_test_set

    rng = np.random.default_rng(0)
    test = make_test_set(n_test, rng)
    score = score_test_set(test, 1.5, 0.5, rng)
    y = test["y"].to_numpy()
    group = (test["group"].to_numpy() == "1").astype(np.int64)
    resampler = ClusteredResampler(group * 2 + y, test["patient_id"].to_numpy())
    blocks = list(resampler.blocks(n_boot, 0))

    def ours() -> float:
        t0 = time.perf_counter()
        run = RunAUC(y, score, group, 2, np.ones(2, bool))
        for weights in blocks:
            run(weights)
        return (time.perf_counter() - t0) / n_boot

    weights = blocks[0]
    sample = min(50, weights.shape[1])

    def naive() -> float:
        t0 = time.perf_counter()
        for b in range(sample):
            roc_auc_score(y, score, sample_weight=weights[:, b])
            for g in (0, 1):
                m = group == g
                roc_auc_score(y[m], score[m], sample_weight=weights[m, b])
        return (time.perf_counter() - t0) / sample

    return interleave(("sklearn roc_auc_score", naive), ("vectorised RunAUC", ours), rounds=rounds)


def run(args: argparse.Namespace) -> int:
    from fairmedia.report.pipeline import write_leaderboard
    from fairmedia.testing.synthetic_runs import write_runs

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        blocks = [(f"ds{b // 2:02d}", "sex" if b % 2 == 0 else "age") for b in range(args.blocks)]
        effects = np.linspace(-0.2, 0.3, args.methods - 1)
        methods = {"erm": 0.0} | {f"method{i:02d}": float(e) for i, e in enumerate(effects)}
        t0 = time.perf_counter()
        write_runs(root / "runs", blocks, methods, list(range(args.seeds)),
                   ["overall", "worst_group"], n_test=args.n_test)
        print(f"grid: {len(blocks)} blocks × {len(methods)} methods × {args.seeds} seeds × 2 "
              f"selections, {args.n_test} test samples, {args.boot} resamples "
              f"(written in {time.perf_counter() - t0:.1f} s, not timed)")
        t0 = time.perf_counter()
        for selection in ("overall", "worst_group"):
            write_leaderboard(root / "runs", selection, root / "leaderboard" / selection,
                              ["auc", "auc_worst", "auc_gap"], n_boot=args.boot,
                              jobs=args.jobs, figures=True)
        stage = time.perf_counter() - t0
        figures = len(list((root / "leaderboard").glob("*/*.png")))
    side = _sklearn_side_by_side(args.n_test, args.boot, args.rounds)
    print(f"leaderboard stage: {stage:.1f} s with {args.jobs} worker(s), {figures} figures; "
          f"budget {BUDGET_S:.0f} s; ratio stage/budget = {stage / BUDGET_S:.2f}")
    print(f"replicate AUCs of one run (overall + per group; sklearn over 50 of the {args.boot} "
          "resamples), interleaved:")
    print("\n".join(side.lines(unit="ms/replicate", scale=lambda s: s * 1000)))
    print(f"  vectorised {side.ratio:.0f}x faster (median of per-round ratios)")
    return 0
