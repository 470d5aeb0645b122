"""ECE bins are (a, b] as in Guo et al. (2017) and scikit-learn's calibration_curve."""

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve

from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.calibration import N_BINS, reliability


def _two_decimal_scores(n: int = 2000):
    rng = np.random.default_rng(4)
    score = np.round(rng.uniform(size=n), 2)  # about 1 in 10 exactly on an edge (0.1, 0.2, ...)
    score[:30] = 0.0
    score[30:60] = 1.0
    y = (rng.uniform(size=n) < score).astype(int)
    return y, score


def test_bins_match_sklearn_calibration_curve_on_edge_scores():
    y, score = _two_decimal_scores()
    edges = np.linspace(0, 1, N_BINS + 1)
    assert np.isin(score, edges).mean() > 0.05  # the case that distinguishes (a, b] from [a, b)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=N_BINS, strategy="uniform")
    # counts of (a, b] bins, 0 in the first: np.histogram of -score counts [-b, -a), last closed
    counts = np.histogram(-score, bins=-edges[::-1])[0][::-1]
    ours = reliability(y, score)
    assert ours["count"] == counts.tolist()
    nonempty = counts > 0
    np.testing.assert_allclose(np.array(ours["rate"])[nonempty], prob_true, rtol=1e-12)
    np.testing.assert_allclose(np.array(ours["mean_score"])[nonempty], prob_pred, rtol=1e-12)
    expected_ece = np.sum(counts[nonempty] / len(y) * np.abs(prob_true - prob_pred))
    df = pd.DataFrame({"y": y, "score": score, "sex": np.where(np.arange(len(y)) % 2, "F", "M")})
    report = evaluate_predictions(df, ["sex"], threshold="fixed:0.5")
    assert abs(report["overall"]["ece"] - expected_ece) < 1e-12
