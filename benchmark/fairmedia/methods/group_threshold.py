"""Per-group decision thresholds chosen on validation so that every group reaches the same TPR
(equal opportunity), the same FPR, or both as nearly as one threshold allows."""

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


@register
class GroupThreshold(PostProcessor):
    name = "group-threshold"
    family = "thresholding"
    citation = ("Hardt et al., Equality of Opportunity in Supervised Learning, NeurIPS 2016 "
                "(deterministic per-group thresholds)")
    description = ("one threshold per group on validation: each group's TPR (or FPR, or both) set "
                   "to the pooled rate at the pooled Youden threshold, or to a stated target")
    hparams = {
        "criterion": HParam("tpr", choices=("tpr", "fpr", "both")),
        "target": HParam(-1.0, low=0.5, high=0.95,
                         help="target TPR (FPR for fpr); -1: the pooled rate at the Youden point"),
    }

    def fit(self, val: pd.DataFrame) -> dict:
        need_both_labels(val, self.name, self.context.group_names)
        y, s = val["y"].to_numpy(), val["score"].to_numpy()
        pooled = choose_threshold(y, s, "youden")
        tpr = float((s[y == 1] >= pooled).mean())
        fpr = float((s[y == 0] >= pooled).mean())
        if self.hp["target"] >= 0:
            tpr = fpr = float(self.hp["target"])
        self.default = pooled
        self.thresholds: dict[int, float] = {}
        for g, block in val.groupby("group"):
            yg, sg = block["y"].to_numpy(), block["score"].to_numpy()
            if self.hp["criterion"] == "tpr":
                t = threshold_for_rate(sg[yg == 1], tpr)
            elif self.hp["criterion"] == "fpr":
                t = threshold_for_rate(sg[yg == 0], fpr)
            else:  # both: the candidate threshold closest to the pooled (TPR, FPR) point
                cands = np.unique(sg)
                dist = [abs((sg[yg == 1] >= c).mean() - tpr) + abs((sg[yg == 0] >= c).mean() - fpr)
                        for c in cands]
                t = float(cands[int(np.argmin(dist))])
            self.thresholds[int(g)] = t
        names = self.context.group_names
        return {"target_tpr": tpr, "target_fpr": fpr, "pooled_threshold": pooled,
                "thresholds": {names[g]: t for g, t in self.thresholds.items()}}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        t = df["group"].map(self.thresholds).fillna(self.default).to_numpy()
        return pd.DataFrame({"score": df["score"], "decision": (df["score"] >= t).astype(np.int8)},
                            index=df.index)
