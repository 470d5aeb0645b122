"""``run.val`` of metrics.json: per-group val AUC and the val decision metrics at the operating
point the test metrics use, checked against sklearn and rates counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from fairmedia.evaluation.run_evaluation import val_metrics


def _val() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 120
    sex = np.where(np.arange(n) < 70, "F", "M")
    y = rng.integers(0, 2, n)
    score = np.clip(0.5 * y + rng.normal(0.25, 0.25, n) - 0.15 * (sex == "M"), 0, 1)
    return pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "patient_id": np.arange(n),
                         "split": "val", "y": y, "score": score, "sex": sex})


def _rates(y: np.ndarray, d: np.ndarray) -> dict[str, float]:
    return {"tpr": d[y == 1].mean(), "fpr": d[y == 0].mean(), "acc": (d == y).mean(),
            "selection_rate": d.mean()}


def test_val_block_matches_sklearn_and_hand_counts():
    val = _val()
    block = val_metrics(val, ["sex"], "sex", {"threshold": {"value": 0.4}}, min_group_size=0,
                        source="t")
    assert block["decision_source"] == "threshold" and block["threshold"] == 0.4
    y, s = val["y"].to_numpy(), val["score"].to_numpy()
    assert np.isclose(block["auc"], roc_auc_score(y, s))
    rates = {}
    for g in ("F", "M"):
        m = (val["sex"] == g).to_numpy()
        assert np.isclose(block["auc_groups"][g], roc_auc_score(y[m], s[m]))
        rates[g] = _rates(y[m], (s[m] >= 0.4).astype(int))
        for k, v in rates[g].items():
            assert np.isclose(block["groups"][g][k], v), (g, k)
    assert np.isclose(block["auc_worst"], min(block["auc_groups"].values()))
    gap = {k: abs(rates["F"][k] - rates["M"][k]) for k in rates["F"]}
    crit = block["criteria"]
    assert np.isclose(crit["equalized_odds"], max(gap["tpr"], gap["fpr"]))
    assert np.isclose(crit["equal_opportunity"], gap["tpr"])
    assert np.isclose(crit["demographic_parity"], gap["selection_rate"])
    assert np.isclose(crit["accuracy_parity"], gap["acc"])
    d = (s >= 0.4).astype(int)
    assert np.isclose(block["balanced_accuracy"], (d[y == 1].mean() + (1 - d[y == 0]).mean()) / 2)


def test_val_block_uses_a_post_processing_decision_column():
    val = _val()
    # Decisions unrelated to the score: the criteria must follow them, not any threshold.
    val["decision"] = (np.arange(len(val)) % 3 == 0).astype(np.int8)
    block = val_metrics(val, ["sex"], "sex", {"threshold": {"value": None}}, min_group_size=0,
                        source="t")
    assert block["decision_source"] == "method"
    y, d = val["y"].to_numpy(), val["decision"].to_numpy()
    r = {g: _rates(y[(val["sex"] == g).to_numpy()], d[(val["sex"] == g).to_numpy()])
         for g in ("F", "M")}
    eo = max(abs(r["F"]["tpr"] - r["M"]["tpr"]), abs(r["F"]["fpr"] - r["M"]["fpr"]))
    assert np.isclose(block["criteria"]["equalized_odds"], eo)
    assert np.isclose(block["acc"], (d == y).mean())
