"""Criteria and per-group rates against fairlearn (an independent implementation)."""

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from fairmedia.metrics import evaluate_predictions

THRESHOLD = 0.5


@pytest.mark.parametrize("n_groups", [2, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_criteria_and_rates_match_fairlearn(predictions_factory, n_groups, seed):
    df = predictions_factory(3000, n_groups, seed)
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{THRESHOLD}", min_group_size=0)
    section = report["attributes"]["grp"]
    y, sf = df["y"], df["grp"]
    d = (df["score"] >= THRESHOLD).astype(int)
    crit = section["criteria"]
    expected = {
        "demographic_parity": demographic_parity_difference(y, d, sensitive_features=sf),
        "equalized_odds": equalized_odds_difference(y, d, sensitive_features=sf),
        "equal_opportunity": equal_opportunity_difference(y, d, sensitive_features=sf),
        "demographic_parity_ratio": demographic_parity_ratio(y, d, sensitive_features=sf),
        "equalized_odds_ratio": equalized_odds_ratio(y, d, sensitive_features=sf),
        "equal_opportunity_ratio": equal_opportunity_ratio(y, d, sensitive_features=sf),
    }
    for name, value in expected.items():
        assert crit[name] == pytest.approx(value, abs=1e-12), name
    frame = MetricFrame(
        metrics={"tpr": true_positive_rate, "fpr": false_positive_rate,
                 "selection_rate": selection_rate},
        y_true=y, y_pred=d, sensitive_features=sf,
    )
    for group, row in frame.by_group.iterrows():
        for metric in ("tpr", "fpr", "selection_rate"):
            assert section["groups"][str(group)][metric] == pytest.approx(row[metric], abs=1e-12)
    # the criteria are built from the disparity table: check the link too
    assert section["disparity"]["selection_rate"]["gap"] == pytest.approx(
        expected["demographic_parity"])
    assert np.isclose(
        crit["equalized_odds"],
        max(section["disparity"]["tpr"]["gap"], section["disparity"]["fpr"]["gap"]),
    )
