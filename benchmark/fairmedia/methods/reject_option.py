"""Reject option classification (Kamiran, Karim & Zhang 2012).

The paper's critical region is the set of rows whose classifier confidence
``max(p(+|x), p(-|x))`` is at most ``θ`` (``0.5 ≤ θ ≤ 1``): the band ``|p − 0.5| ≤ θ − 0.5``
around the decision boundary. Inside it the deprived group gets the positive decision and the
favoured group the negative one; outside it the classifier decides. The paper's discrimination
is the difference of the groups' positive-decision (selection) rates.

Here, as in AIF360's ``RejectOptionClassification`` (the reference implementation the paper
lacks), the band is centred on the classification threshold ``t`` rather than on 0.5, with
half-width ``m = θ − 0.5`` searched on ``n_margins`` values in ``[0, min(t, 1 − t)]``; the chosen
``m`` is the one with the highest validation balanced accuracy among those whose rate gap is at
most ``metric_bound`` (AIF360: ``metric_ub = −metric_lb = 0.05``), and, when none reaches the
bound, the one with the smallest gap.

Deliberate differences: ``t`` is the pooled Youden threshold on validation (the
balanced-accuracy-optimal threshold AIF360 starts from) and is not searched jointly with ``m``;
the deprived groups are those whose rate at ``t`` is below the pooled rate (the paper names the
deprived group a priori; this also covers more than two groups) and the gap is the largest
minus the smallest group rate. ``criterion=tpr`` equalises TPRs (AIF360's equal-opportunity
difference) instead of the paper's selection rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairmedia.methods.base import HParam
from fairmedia.methods.post_base import PostProcessor, need_both_labels
from fairmedia.methods.registry import register
from fairmedia.metrics.thresholds import choose_threshold


def _rate(decision: np.ndarray, y: np.ndarray, criterion: str) -> float:
    rows = y == 1 if criterion == "tpr" else np.ones(len(y), bool)
    return float(decision[rows].mean()) if rows.any() else float("nan")


def _balanced_accuracy(decision: np.ndarray, y: np.ndarray) -> float:
    return 0.5 * (decision[y == 1].mean() + (1 - decision[y == 0]).mean())


@register
class RejectOption(PostProcessor):
    name = "reject-option"
    family = "thresholding"
    citation = ("Kamiran, Karim & Zhang, Decision Theory for Discrimination-Aware Classification, "
                "ICDM 2012")
    description = ("in the band |score − t| ≤ m the groups whose selection rate (or TPR) is below "
                   "the pooled one get 1, the others 0; t: Youden on val; m: the most accurate "
                   "band on val whose rate gap is within the bound")
    hparams = {
        # MEDFAIR (github.com/ys-zong/MEDFAIR) has no post-processing method: medfair is empty.
        "criterion": HParam("selection", choices=("selection", "tpr"),
                            help="rate to equalise: selection rate (the paper's discrimination) "
                                 "or TPR (equal opportunity)",
                            paper="discrimination: difference of selection rates"),
        "metric_bound": HParam(0.05, low=0.01, high=0.1,
                               help="largest rate gap (max − min over groups) allowed on val; "
                                    "among such bands the most balanced-accurate is kept "
                                    "(AIF360: metric_ub = 0.05)"),
        "n_margins": HParam(50, help="candidate band half-widths m = θ − 0.5 in [0, min(t, 1 − t)] "
                                     "(the paper's θ ∈ [0.5, 1]; AIF360: num_ROC_margin = 50)"),
    }

    def decide(self, s: np.ndarray, g: np.ndarray, margin: float) -> np.ndarray:
        decision = (s >= self.threshold).astype(np.int8)
        band = np.abs(s - self.threshold) <= margin
        deprived = np.isin(g, self.deprived)
        decision[band & deprived] = 1
        decision[band & ~deprived] = 0
        return decision

    def gap(self, decision: np.ndarray, y: np.ndarray, g: np.ndarray) -> float:
        rates = [_rate(decision[g == k], y[g == k], self.hp["criterion"]) for k in np.unique(g)]
        return float(np.nanmax(rates) - np.nanmin(rates))

    def fit(self, val: pd.DataFrame) -> dict:
        need_both_labels(val, self.name, self.context.group_names)
        y, s, g = val["y"].to_numpy(), val["score"].to_numpy(), val["group"].to_numpy()
        self.threshold = choose_threshold(y, s, "youden")
        base = (s >= self.threshold).astype(np.int8)
        pooled = _rate(base, y, self.hp["criterion"])
        self.deprived = [int(k) for k in np.unique(g)
                         if _rate(base[g == k], y[g == k], self.hp["criterion"]) < pooled]
        widest = max(min(self.threshold, 1.0 - self.threshold), 0.0)
        margins = np.linspace(0.0, widest, int(self.hp["n_margins"]))
        gaps = np.array([self.gap(self.decide(s, g, m), y, g) for m in margins])
        accs = np.array([_balanced_accuracy(self.decide(s, g, m), y) for m in margins])
        feasible = gaps <= self.hp["metric_bound"] + 1e-12
        if feasible.any():  # argmax takes the first, i.e. the narrowest band, among ties
            best = int(np.argmax(np.where(feasible, accs, -np.inf)))
        else:
            best = int(np.argmin(gaps))
        self.margin = float(margins[best])
        names = self.context.group_names
        return {"threshold": self.threshold, "margin": self.margin,
                "bound_met": bool(feasible.any()), "val_gap_before": self.gap(base, y, g),
                "val_gap_after": float(gaps[best]),
                "val_balanced_accuracy_before": float(_balanced_accuracy(base, y)),
                "val_balanced_accuracy_after": float(accs[best]),
                "deprived": [names[k] for k in self.deprived]}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        d = self.decide(df["score"].to_numpy(), df["group"].to_numpy(), self.margin)
        return pd.DataFrame({"score": df["score"], "decision": d}, index=df.index)
