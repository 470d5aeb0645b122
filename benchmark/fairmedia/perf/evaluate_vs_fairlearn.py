"""Bootstrap fairness evaluation: ``evaluate_predictions`` vs fairlearn ``MetricFrame(n_boot=...)``.

Same data (100k predictions, two attributes with 2 and 4 groups, their intersection), same number
of resamples. Ours computes the full report (18 per-group columns, 7 disparity measures of 11
metrics, criteria) with stratified resampling; fairlearn computes 10 per-group metrics with its
own (unstratified) resampling, one MetricFrame per attribute and one for the intersection.
Both single process. fairlearn's 1000 resamples take hours here, so by default it runs
``--baseline-boot`` (10) resamples and its per-resample time is scaled to ``--boot`` (its
resamples are independent MetricFrame evaluations, so time is linear in them); the output says so.
The two sides alternate over ``--rounds`` rounds (perf/_interleave.py; medians).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "evaluate (bootstrap CIs, 2 attributes + intersection) vs fairlearn MetricFrame"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--boot", type=int, default=1000)
    p.add_argument("--baseline-boot", type=int, default=10,
                   help="resamples actually run for fairlearn (default 10: its 1000 take hours); "
                        "its per-resample time is scaled to --boot")
    p.add_argument("--seed", type=int, default=0)
    add_rounds_argument(p)


def make_predictions(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "y": rng.integers(0, 2, rows),
        "sex": rng.choice(["F", "M"], rows, p=[0.4, 0.6]),
        "race": rng.choice(["A", "B", "C", "D"], rows, p=[0.5, 0.25, 0.15, 0.1]),
    })
    df["score"] = np.clip(0.25 * df["y"] + rng.beta(2, 3, rows) * 0.75, 0, 1)
    return df


def _fairlearn_metrics(threshold: float) -> dict:
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, precision_score, roc_auc_score

    def thresholded(fn):
        return lambda y, s: fn(y, (np.asarray(s) >= threshold).astype(int))

    return {
        "auc": roc_auc_score,
        "acc": thresholded(accuracy_score),
        "tpr": thresholded(true_positive_rate),
        "fpr": thresholded(false_positive_rate),
        "fnr": thresholded(false_negative_rate),
        "tnr": thresholded(true_negative_rate),
        "ppv": thresholded(lambda y, d: precision_score(y, d, zero_division=0)),
        "selection_rate": thresholded(selection_rate),
        "brier": brier_score_loss,
        "bce": lambda y, s: log_loss(y, s, labels=[0, 1]),
    }


def run_fairlearn(df: pd.DataFrame, n_boot: int | None, threshold: float, seed: int) -> float:
    from fairlearn.metrics import MetricFrame

    metrics = _fairlearn_metrics(threshold)
    start = time.perf_counter()
    for features in (df["sex"], df["race"], df[["sex", "race"]]):
        frame = MetricFrame(metrics=metrics, y_true=df["y"], y_pred=df["score"],
                            sensitive_features=features, n_boot=n_boot,
                            ci_quantiles=[0.025, 0.975] if n_boot else None, random_state=seed)
        frame.by_group  # noqa: B018 -- make sure the results are materialised
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    from fairmedia.metrics import evaluate_predictions

    df = make_predictions(args.rows, args.seed)
    threshold = 0.5
    n_ci = {}

    def ours() -> float:
        start = time.perf_counter()
        report = evaluate_predictions(df, ["sex", "race"], intersect=True, bootstrap=args.boot,
                                      threshold=f"fixed:{threshold}", seed=args.seed)
        seconds = time.perf_counter() - start
        n_ci["n"] = sum(1 for _ in _leaves(report["ci"]))
        return seconds

    baseline_boot = min(args.baseline_boot, args.boot)

    def theirs() -> float:
        base = run_fairlearn(df, None, threshold, args.seed)  # the frames without resamples
        measured = run_fairlearn(df, baseline_boot, threshold, args.seed)
        return base + (measured - base) * args.boot / baseline_boot

    result = interleave(("fairlearn MetricFrame(n_boot)", theirs), ("ours evaluate_predictions", ours),
                        rounds=args.rounds)
    note = "" if baseline_boot == args.boot else (
        f"; fairlearn measured at n_boot={baseline_boot} and without resamples, the resampling "
        f"part scaled x{args.boot / baseline_boot:g}")
    print(f"rows={args.rows} attributes=sex(2), race(4), sex&race(8) resamples={args.boot}, "
          f"ours {n_ci['n']} CIs{note}; interleaved:")
    print("\n".join(result.lines()))
    print(f"ratio fairlearn / ours: {result.ratio:.1f}x (median of per-round ratios)")
    return 0


def _leaves(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    else:
        yield node
