"""Per-group decision thresholds chosen on validation (Hardt et al. 2016, deterministic form).

Hardt et al. write a predictor's operating point in group ``a`` as
``γ_a = (γ_0, γ_1) = (FPR_a, TPR_a)``. Equal opportunity asks for the same ``γ_1`` (TPR) in every
group, equalised odds for the same ``γ_0`` and ``γ_1``. This method sets one threshold per group:

- ``tpr`` (equal opportunity): every group's TPR is ``target_tpr``;
- ``fpr``: every group's FPR is ``target_fpr``;
- ``both`` (equalised odds): every group's threshold is the one whose (FPR, TPR) is nearest, in
  Euclidean distance, to (``target_fpr``, ``target_tpr``): exactly the target where it lies on
  the group's ROC curve, otherwise a compromise in both rates (an L1 distance would often
  fall on a corner and equal the ``tpr`` or ``fpr`` variant).

Each target is used only where it means that rate; a negative target (the default) is the
pooled rate at the pooled Youden threshold, so the default keeps the base model's operating point.

Deliberate differences from the paper: Hardt et al. choose the common operating point that
minimises the expected loss, and reach it exactly for equalised odds by randomising between two
thresholds; here the point is a hyperparameter (searched in sensible ranges: TPR 0.5-0.95, FPR
0.05-0.5, never near-chance) and decisions are deterministic, so ``both`` meets both rates only
as closely as one threshold on each group's ROC curve allows. The randomised, loss-minimising
version is ``eqodds-postprocess``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairmedia.methods.base import HParam
from fairmedia.methods.post_base import PostProcessor, need_both_labels
from fairmedia.methods.registry import register
from fairmedia.metrics.thresholds import choose_threshold


def threshold_for_rate(scores: np.ndarray, rate: float) -> float:
    """The threshold ``t`` for which ``round(rate · n)`` of ``scores`` are ``>= t`` (ties aside)."""
    k = int(round(rate * len(scores)))
    if k == 0:
        return float(np.inf)
    return float(np.sort(scores)[::-1][k - 1])


def nearest_operating_point(y: np.ndarray, s: np.ndarray, tpr: float, fpr: float) -> float:
    """The threshold among the scores whose (FPR, TPR) on these rows is nearest (Euclidean) to
    the target; among ties the highest threshold (fewest positive decisions)."""
    cands = np.unique(s)[::-1]
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    # rate of scores >= c, for every candidate at once
    tprs = 1.0 - np.searchsorted(pos, cands, side="left") / len(pos)
    fprs = 1.0 - np.searchsorted(neg, cands, side="left") / len(neg)
    return float(cands[int(np.argmin(np.hypot(tprs - tpr, fprs - fpr)))])


@register
class GroupThreshold(PostProcessor):
    name = "group-threshold"
    family = "thresholding"
    citation = ("Hardt et al., Equality of Opportunity in Supervised Learning, NeurIPS 2016 "
                "(deterministic per-group thresholds)")
    description = ("one threshold per group on validation: each group's TPR (tpr), FPR (fpr) or "
                   "nearest (FPR, TPR) point (both) set to the target rates; default targets: "
                   "the pooled rates at the pooled Youden threshold")
    hparams = {
        # MEDFAIR (github.com/ys-zong/MEDFAIR) has no post-processing method: medfair is empty.
        "criterion": HParam("tpr", choices=("tpr", "fpr", "both"),
                            help="equalise TPR (equal opportunity), FPR, or both (equalised odds)",
                            paper="equal opportunity (TPR); equalized odds (TPR and FPR)"),
        "target_tpr": HParam(-1.0, low=0.5, high=0.95, symbol="γ₁",
                             help="TPR of every group (tpr, both); -1: pooled TPR at the Youden "
                                  "threshold"),
        "target_fpr": HParam(-1.0, low=0.05, high=0.5, symbol="γ₀",
                             help="FPR of every group (fpr, both); -1: pooled FPR at the Youden "
                                  "threshold"),
    }

    def fit(self, val: pd.DataFrame) -> dict:
        need_both_labels(val, self.name, self.context.group_names)
        y, s = val["y"].to_numpy(), val["score"].to_numpy()
        pooled = choose_threshold(y, s, "youden")
        tpr = float((s[y == 1] >= pooled).mean())
        fpr = float((s[y == 0] >= pooled).mean())
        if self.hp["target_tpr"] >= 0:
            tpr = float(self.hp["target_tpr"])
        if self.hp["target_fpr"] >= 0:
            fpr = float(self.hp["target_fpr"])
        criterion = self.hp["criterion"]
        self.default = pooled
        self.thresholds: dict[int, float] = {}
        for g, block in val.groupby("group"):
            yg, sg = block["y"].to_numpy(), block["score"].to_numpy()
            if criterion == "tpr":
                t = threshold_for_rate(sg[yg == 1], tpr)
            elif criterion == "fpr":
                t = threshold_for_rate(sg[yg == 0], fpr)
            else:
                t = nearest_operating_point(yg, sg, tpr, fpr)
            self.thresholds[int(g)] = t
        names = self.context.group_names
        # only the rates this criterion sets are reported as targets
        return {"target_tpr": tpr if criterion in ("tpr", "both") else None,
                "target_fpr": fpr if criterion in ("fpr", "both") else None,
                "pooled_threshold": pooled,
                "thresholds": {names[g]: t for g, t in self.thresholds.items()}}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        t = df["group"].map(self.thresholds).fillna(self.default).to_numpy()
        return pd.DataFrame({"score": df["score"], "decision": (df["score"] >= t).astype(np.int8)},
                            index=df.index)
