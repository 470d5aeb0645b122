"""Attribute encoding: how well a linear probe reads the sensitive attribute from a disease model's
penultimate features (Yang et al., "The limits of fair medical imaging AI in real-world
generalization", Nature Medicine 2024, who found that the model encoding the attribute least
generalised more fairly out of distribution than the one with the smallest in-distribution gap).

The probe everywhere: ``StandardScaler`` then ``LogisticRegression(C=PROBE_C, max_iter=1000)``
(scikit-learn, L2, lbfgs), fitted on float64 copies of the float16 features; the score is the
probe's AUC for the attribute's groups — binary AUC for two groups, the macro one-vs-rest AUC for
more. Rows whose attribute value is missing are left out. Two uses:

- ``attribute_encoding_auc`` of metrics.json (``probe_block``): fitted on the selected epoch's VAL
  features, AUC on its TEST features;
- the per-epoch score ``min_encoding`` selects on (``cv_encoding_auc``): val features only,
  ``CV_FOLDS``-fold ``StratifiedKFold`` by group (shuffled, ``random_state=0``), AUC of the pooled
  out-of-fold probabilities. Groups with fewer val rows than folds are left out of this score.

Yang et al. train the probe on a held-out split of the test distribution; here the val split is
the probe's training data so that the model selection rule never sees test rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset
from fairmedia.metrics.groups import attribute_grouping, parts_grouping
from fairmedia.training.checkpoint import atomic_target

PROBE_C = 1.0
CV_FOLDS = 5
PROBE_SETTINGS = {"model": "StandardScaler + LogisticRegression (L2, lbfgs)", "C": PROBE_C,
                  "max_iter": 1000, "fit_on": "val", "auc_on": "test",
                  "auc": "binary, or one-vs-rest macro for > 2 groups"}


def probe() -> Any:
    """The linear probe (a fresh, unfitted scikit-learn pipeline)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=1000))


def group_auc(groups: np.ndarray, proba: np.ndarray) -> float:
    """AUC of class probabilities (rows × classes, columns in ``np.unique(groups)`` order) for the
    groups: binary for two groups, macro one-vs-rest otherwise."""
    if proba.shape[1] == 2:
        return float(roc_auc_score(groups, proba[:, 1]))
    return float(roc_auc_score(groups, proba, multi_class="ovr", average="macro"))


def cv_encoding_auc(features: np.ndarray, groups: np.ndarray) -> float:
    """Cross-validated probe AUC on one split's features (``groups``: integer codes, -1 missing);
    NaN when fewer than two groups have ``CV_FOLDS`` rows."""
    codes, counts = np.unique(groups[groups >= 0], return_counts=True)
    keep = np.isin(groups, codes[counts >= CV_FOLDS])
    if len(np.unique(groups[keep])) < 2:
        return float("nan")
    x, g = features[keep].astype(np.float64), groups[keep]
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0)
    proba = cross_val_predict(probe(), x, g, cv=folds, method="predict_proba")
    return group_auc(g, proba)


def epoch_encoding(prepared: PreparedDataset, val_rows: np.ndarray, features: np.ndarray
                   ) -> dict[str, float]:
    """Attribute → :func:`cv_encoding_auc` of one epoch's val ``features`` (rows ``val_rows`` of
    the prepared data), for every prepared attribute: what min_encoding selects on."""
    meta = prepared.metadata.iloc[val_rows]
    return {attr: cv_encoding_auc(features, attribute_grouping(meta, attr, None,
                                                               str(prepared.root)).codes)
            for attr in prepared.attributes}


def val_to_test_probe_auc(x_val: np.ndarray, g_val: np.ndarray, x_test: np.ndarray, g_test: np.ndarray
                   ) -> tuple[float | None, str | None]:
    """(AUC on test of the probe fitted on val, None) or (None, why it is undefined)."""
    val_ok, test_ok = g_val >= 0, g_test >= 0
    fit_groups = np.unique(g_val[val_ok])
    if len(fit_groups) < 2:
        return None, "fewer than two groups among the val rows"
    test_ok &= np.isin(g_test, fit_groups)  # a group the probe never saw cannot be scored
    if len(np.unique(g_test[test_ok])) != len(fit_groups):
        return None, "the test rows do not hold every group of the val rows"
    fitted = probe().fit(x_val[val_ok].astype(np.float64), g_val[val_ok])
    proba = fitted.predict_proba(x_test[test_ok].astype(np.float64))
    return group_auc(g_test[test_ok], proba), None


# --- the features file of one epoch (contract 2: features/epochNNN.npz) -------------------------

def save_features(run: Path, epoch: int, sample_ids: np.ndarray, features: np.ndarray) -> None:
    """float16 features of the val+test rows (in ``epoch_scores.parquet``'s row order)."""
    with atomic_target(layout.features_file(run, epoch)) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, sample_id=np.asarray(sample_ids, dtype=str),
                 features=np.asarray(features, dtype=np.float16))


def load_features(run: Path, epoch: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(sample ids, float16 features) of one epoch, or None when the file is absent."""
    path = layout.features_file(run, epoch)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return data["sample_id"], data["features"]


def probe_block(run: Path, epoch: int, sample_ids: np.ndarray, split: np.ndarray,
                groups: np.ndarray) -> dict[str, Any]:
    """``attribute_encoding_auc`` of metrics.json for the model of ``epoch``: ``value`` (or None
    with ``reason``), ``n`` per split, ``epoch`` and the probe settings. ``sample_ids``, ``split``
    and ``groups`` (codes, -1 missing) describe the evaluated rows."""
    block: dict[str, Any] = {"value": None, "epoch": int(epoch), "probe": PROBE_SETTINGS,
                             "n": {"val": 0, "test": 0}}
    saved = load_features(run, epoch)
    if saved is None:
        block["reason"] = (f"no {layout.features_file(run, epoch).relative_to(run)} in the run "
                           "(a post-processing run, a run trained before features were saved, "
                           "or an epoch whose files were not kept)")
        return block
    ids, feats = saved
    where = dict(zip(ids.tolist(), range(len(ids))))
    index = np.array([where.get(s, -1) for s in sample_ids])
    if (index < 0).any():
        block["reason"] = f"{int((index < 0).sum())} evaluated rows have no saved features"
        return block
    x, val, test = feats[index], split == "val", split == "test"
    block["n"] = {"val": int((val & (groups >= 0)).sum()), "test": int((test & (groups >= 0)).sum())}
    block["value"], reason = val_to_test_probe_auc(x[val], groups[val], x[test], groups[test])
    if reason:
        block["reason"] = reason
    return block


def evaluation_blocks(run: Path, rows: pd.DataFrame, parts: list[str], attribute: str, epoch: int,
                      *, source: str) -> dict[str, dict[str, Any]]:
    """``attribute_encoding_auc`` of metrics.json: one :func:`probe_block` per evaluated attribute
    (each part and, for an intersection, the crossed groups), over the selected model's val and
    test ``rows`` (``sample_id``, ``split`` and the attribute columns)."""
    names = [*parts, attribute] if len(parts) > 1 else parts
    ids, split = rows["sample_id"].to_numpy(), rows["split"].to_numpy()
    return {name: probe_block(run, epoch, ids, split,
                              parts_grouping(rows, [name] if name in parts else parts, source).codes)
            for name in names}
