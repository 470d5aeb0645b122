"""Reject option classification (Kamiran, Karim & Zhang 2012): inside a band of width 2m around
the decision threshold, the disadvantaged groups get the positive decision and the others the
negative one; m is chosen on validation to minimise the groups' rate gap within an accuracy
budget."""

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
    description = ("flip decisions in the band |score − t| ≤ m towards the groups whose TPR (or "
                   "selection rate) is below the pooled one; t: Youden on val, m: fitted on val")
    hparams = {
        "criterion": HParam("tpr", choices=("tpr", "selection"),
                            help="rate to equalise: TPR (equal opportunity) or selection rate"),
        "max_accuracy_loss": HParam(0.05, low=0.01, high=0.1,
                                    help="largest drop in balanced accuracy allowed on val"),
        "n_margins": HParam(50, help="candidate band half-widths"),
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
        floor = _balanced_accuracy(base, y) - self.hp["max_accuracy_loss"]
        distances = np.abs(s - self.threshold)
        margins = np.unique(np.concatenate([[0.0], np.quantile(
            distances, np.linspace(0, 0.5, int(self.hp["n_margins"])))]))
        best, best_gap = 0.0, self.gap(base, y, g)
        for m in margins:  # ascending: ties keep the narrowest band
            d = self.decide(s, g, m)
            gap = self.gap(d, y, g)
            if _balanced_accuracy(d, y) >= floor and gap < best_gap - 1e-12:
                best, best_gap = float(m), gap
        self.margin = best
        names = self.context.group_names
        return {"threshold": self.threshold, "margin": best, "val_gap_before": self.gap(base, y, g),
                "val_gap_after": best_gap, "deprived": [names[k] for k in self.deprived]}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        d = self.decide(df["score"].to_numpy(), df["group"].to_numpy(), self.margin)
        return pd.DataFrame({"score": df["score"], "decision": d}, index=df.index)
