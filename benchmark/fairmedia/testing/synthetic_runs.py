"""Write a synthetic tree of evaluated runs (metrics.json + scored.parquet) for tests and perf checks.

Each block (dataset, attribute) has one fixed test set; each method × seed scores it with a
separation ``d' = base + effect[method]`` (per group: minus ``group_penalty`` for group ``"1"``) plus
seed noise, so a planted method effect is known exactly. metrics.json follows the issue-3 shape for
the fields the leaderboard reads (overall, disparity, criteria).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from fairmedia import layout

ATTRIBUTE_FREE = {"erm", "sam", "swa", "swad"}


def make_test_set(n: int, rng: np.random.Generator, minority: float = 0.3) -> pd.DataFrame:
    group = np.where(rng.random(n) < minority, "1", "0")
    y = (rng.random(n) < np.where(group == "1", 0.3, 0.4)).astype(int)
    ids = [f"s{i:06d}" for i in range(n)]
    return pd.DataFrame({"sample_id": ids, "patient_id": [f"p{i:06d}" for i in range(n)],
                         "y": y, "group": group})


def score_test_set(test: pd.DataFrame, separation: float, group_penalty: float,
                   rng: np.random.Generator) -> np.ndarray:
    shift = separation - np.where(test["group"].to_numpy() == "1", group_penalty, 0.0)
    logit = test["y"].to_numpy() * shift - shift / 2 + rng.normal(size=len(test))
    return 1.0 / (1.0 + np.exp(-logit))


def metrics_report(scored: pd.DataFrame, attribute: str) -> dict:
    """The subset of the issue-3 metrics.json that the leaderboard reads, computed with sklearn."""
    y, s = scored["y"].to_numpy(), scored["score"].to_numpy()
    decision = (s >= 0.5).astype(int)
    groups, aucs, tprs, fprs, rates = {}, {}, {}, {}, {}
    for g, part in scored.groupby("group"):
        gy, gs = part["y"].to_numpy(), part["score"].to_numpy()
        gd = (gs >= 0.5).astype(int)
        aucs[g] = float(roc_auc_score(gy, gs))
        tprs[g] = float(gd[gy == 1].mean())
        fprs[g] = float(gd[gy == 0].mean())
        rates[g] = float(gd.mean())
        groups[g] = {"n": int(len(part)), "n_pos": int(gy.sum()), "auc": aucs[g],
                     "acc": float((gd == gy).mean()), "tpr": tprs[g], "fpr": fprs[g]}

    def measures(values: dict[str, float], higher: bool) -> dict[str, float]:
        v = np.array(list(values.values()))
        worst, best = (v.min(), v.max()) if higher else (v.max(), v.min())
        return {"gap": float(v.max() - v.min()), "ratio": float(v.min() / v.max()),
                "std": float(v.std()), "worst": float(worst), "best": float(best)}

    overall_auc = float(roc_auc_score(y, s))
    es_auc = overall_auc / (1 + sum(abs(overall_auc - a) for a in aucs.values()))
    tpr_gap = max(tprs.values()) - min(tprs.values())
    fpr_gap = max(fprs.values()) - min(fprs.values())
    return {
        "threshold": {"value": 0.5, "rule": "fixed:0.5", "fitted_on": "fixed"},
        "min_group_size": 0,  # every group is in the disparities above
        "overall": {"n": int(len(y)), "auc": overall_auc, "acc": float((decision == y).mean())},
        "attributes": {attribute: {
            "groups": groups,
            "disparity": {"auc": measures(aucs, True), "tpr": measures(tprs, True)},
            "criteria": {"demographic_parity": max(rates.values()) - min(rates.values()),
                         "equal_opportunity": tpr_gap, "equalized_odds": max(tpr_gap, fpr_gap),
                         "es_auc": es_auc}}},
        "ci": {},
    }


def write_runs(root: Path, blocks: list[tuple[str, str]], methods: dict[str, float],
               seeds: list[int], selections: list[str], n_test: int = 500, arch: str = "cnn",
               base_separation: float = 1.5, group_penalty: float = 0.5, seed: int = 0,
               skip: set[tuple[str, str, str, int]] | None = None) -> Path:
    """Write the tree; ``methods`` maps name → planted change in separation (ERM: 0).

    ``skip`` holds (dataset, attribute, method, seed) runs to leave out (a failed run).
    """
    skip = skip or set()
    for b, (dataset, attribute) in enumerate(blocks):
        rng = np.random.default_rng([seed, b])
        test = make_test_set(n_test, rng)
        for m, (method, effect) in enumerate(methods.items()):
            train_attr = "any" if method in ATTRIBUTE_FREE else attribute
            for s in seeds:
                if (dataset, attribute, method, s) in skip:
                    continue
                for k, selection in enumerate(selections):
                    run_rng = np.random.default_rng([seed, b, m, s, k])
                    scored = test.copy()
                    scored["score"] = score_test_set(test, base_separation + effect,
                                                     group_penalty, run_rng)
                    run = layout.run_dir(dataset, arch, method, train_attr, s, root=str(root))
                    out = Path(layout.eval_dir(run, attribute, selection))
                    out.mkdir(parents=True, exist_ok=True)
                    scored.to_parquet(out / layout.SCORED, index=False)
                    report = metrics_report(scored, attribute)
                    (out / layout.METRICS).write_text(json.dumps(report))
    return root
