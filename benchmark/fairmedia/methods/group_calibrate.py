"""Per-group calibration of the base run's scores on validation: Platt scaling (a logistic
regression on the logit) or isotonic regression, one map per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from fairmedia.methods.base import HParam
from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import register

EPS = 1e-6


def _logit(score: np.ndarray) -> np.ndarray:
    return logit(np.clip(score, EPS, 1 - EPS))[:, None]


@register
class GroupCalibrate(PostProcessor):
    name = "group-calibrate"
    family = "calibration"
    decides = False
    citation = ("Pleiss et al., On Fairness and Calibration, NeurIPS 2017 (per-group Platt / "
                "isotonic calibration)")
    description = ("one calibration map per group fitted on validation (Platt or isotonic); "
                   "groups lacking a label in val keep their scores")
    hparams = {
        "map": HParam("platt", choices=("platt", "isotonic")),
    }

    def fit(self, val: pd.DataFrame) -> dict:
        self.maps: dict[int, object] = {}
        skipped = []
        for g, block in val.groupby("group"):
            y, s = block["y"].to_numpy(), block["score"].to_numpy()
            if len(np.unique(y)) < 2:
                skipped.append(self.context.group_names[int(g)])
                continue
            if self.hp["map"] == "platt":
                self.maps[int(g)] = LogisticRegression(C=np.inf).fit(_logit(s), y)
            else:
                self.maps[int(g)] = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(s, y)
        return {"calibrated_groups": [self.context.group_names[g] for g in self.maps],
                "kept_groups": skipped}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df["score"].to_numpy(dtype=float).copy()
        g = df["group"].to_numpy()
        for code, calibrator in self.maps.items():
            rows = g == code
            if rows.any():
                if isinstance(calibrator, LogisticRegression):
                    out[rows] = calibrator.predict_proba(_logit(out[rows]))[:, 1]
                else:
                    out[rows] = calibrator.predict(out[rows])
        return pd.DataFrame({"score": out}, index=df.index)
