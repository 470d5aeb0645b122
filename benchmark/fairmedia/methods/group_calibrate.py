"""Per-group calibration of the base run's scores on validation: Platt scaling (a logistic
regression on the logit) or isotonic regression, one map per group.

Calibration must not change a group's ranking, or it would pass for a fairness method by moving
AUC. Two deliberate differences from the plain maps (Pleiss et al. say nothing of either case):

- Platt: when a group's fitted slope is not positive (its validation AUC is below 0.5, or the
  fit is degenerate), a negative slope would invert the group's ranking. The map then keeps the
  slope at 1 and fits the intercept alone (still the maximum-likelihood map with the group's
  mean preserved), so scores only shift on the logit scale.
- Isotonic: the fitted step function is flat between steps, which would tie scores that were
  ordered. The map is ``(1 - 1e-9) * isotonic(s) + 1e-9 * s``: strictly increasing, so the
  ranking is the original one, and within 1e-9 of the isotonic fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from fairmedia.methods.base import HParam
from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import register

EPS = 1e-6
TIE_BREAK = 1e-9  # weight of the original score in the isotonic map (keeps the order strict)


def _logit(score: np.ndarray) -> np.ndarray:
    return logit(np.clip(score, EPS, 1 - EPS))[:, None]


def _intercept_only(score: np.ndarray, y: np.ndarray) -> float:
    """The shift ``b`` of ``sigmoid(logit(s) + b)`` whose mean equals the group's mean label (the
    maximum-likelihood intercept with the slope held at 1)."""
    z = _logit(score)[:, 0]
    return float(brentq(lambda b: expit(z + b).mean() - y.mean(), -50.0, 50.0))


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
        # MEDFAIR (github.com/ys-zong/MEDFAIR) has no post-processing method: medfair is empty.
        "map": HParam("platt", choices=("platt", "isotonic"),
                      help="per-group map: Platt scaling or isotonic regression (both kept "
                           "monotone, see above)",
                      paper=""),
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
                platt = LogisticRegression(C=np.inf).fit(_logit(s), y)
                self.maps[int(g)] = platt if platt.coef_[0, 0] > 0 else _intercept_only(s, y)
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
                elif isinstance(calibrator, float):  # Platt with its slope held at 1
                    out[rows] = expit(_logit(out[rows])[:, 0] + calibrator)
                else:
                    out[rows] = (1 - TIE_BREAK) * calibrator.predict(out[rows]) + TIE_BREAK * out[rows]
        return pd.DataFrame({"score": out}, index=df.index)
