"""One metric engine: the leaderboard's bootstrap tests the numbers its cells print.

A tiny tree of runs evaluated with ``evaluate_predictions`` at a non-default ``min_group_size``:
group C has between 20 and 50 test rows, so it is in the disparities at 20 and left out at 50.
Threshold metrics (criteria at the evaluation's threshold, worst-group TPR) are bootstrapped from
scored.parquet's ``decision`` column as ``scored_frame`` writes it, or — for a file without one —
from metrics.json's threshold.
"""

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import scored_frame
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.groups import attribute_grouping
from fairmedia.report.bootstrap_runs import bootstrap_runs
from fairmedia.report.collect import collect, eval_dirs
from fairmedia.report.leaderboard import summarise
from fairmedia.report.tables import to_markdown

SIZES = {"A": 300, "B": 200, "C": 35}  # C: 20 <= n < 50
METRICS = ["auc", "auc_worst", "auc_gap", "equalized_odds", "equal_opportunity",
           "demographic_parity", "accuracy_parity", "tpr_worst"]


def _test_set() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    group = np.concatenate([[g] * n for g, n in SIZES.items()])
    y = (rng.random(len(group)) < 0.4).astype(int)
    y[np.flatnonzero(group == "C")[:10]] = 1  # both classes in the small group
    y[np.flatnonzero(group == "C")[10:20]] = 0
    n = len(group)
    return pd.DataFrame({"sample_id": [f"s{i:04d}" for i in range(n)],
                         "patient_id": [f"p{i // 2:04d}" for i in range(n)], "y": y, "sex": group})


def write_tree(root, seeds: dict[str, list[int]], min_group_size: int = 50,
               decision: bool = True):
    """metrics.json (the real evaluation) + scored.parquet per run; C scores near chance.
    ``decision``: scored.parquet as ``scored_frame`` writes it (else without the column, as
    files written before it was in the contract)."""
    test = _test_set()
    separation = {"A": 2.0, "B": 1.5, "C": 0.2}
    effects = {"erm": 0.0, "better": 0.6}
    for m, (method, method_seeds) in enumerate(seeds.items()):
        for s in method_seeds:
            rng = np.random.default_rng([m, s])
            sep = test["sex"].map(separation).to_numpy() + effects[method]
            logit = test["y"].to_numpy() * sep - sep / 2 + rng.normal(size=len(test))
            df = test.assign(score=1 / (1 + np.exp(-logit)))
            report = evaluate_predictions(df, ["sex"], threshold="fixed:0.5",
                                          min_group_size=min_group_size)
            out = root / "synth" / "cnn" / method / "any" / f"seed{s}" / "eval" / "sex" / "overall"
            out.mkdir(parents=True)
            (out / "metrics.json").write_text(json.dumps(report))
            scored = scored_frame(df, attribute_grouping(df, "sex", None, "<test>"),
                                  report["threshold"]["value"])
            assert scored["decision"].sum() > 0
            scored.drop(columns=[] if decision else ["decision"]).to_parquet(
                out / "scored.parquet", index=False)
    return root


def _leaderboard(root):
    long, evals = collect(root, "overall"), eval_dirs(root, "overall")
    boot = bootstrap_runs(evals, "erm", METRICS, n_boot=100, seed=0)
    return summarise(long, metrics=METRICS, bootstrap=boot), boot


@pytest.mark.parametrize("decision", [True, False])
def test_cell_value_is_the_value_the_bootstrap_resamples_are_centred_on(tmp_path, decision):
    root = write_tree(tmp_path, {"erm": [0, 1, 2], "better": [0, 1, 2]}, min_group_size=50,
                      decision=decision)
    report = json.loads(next(root.rglob("metrics.json")).read_text())
    assert report["min_group_size"] == 50
    assert any("'C' has n=35" in f for f in report["attributes"]["sex"]["flags"])
    summary, boot = _leaderboard(root)
    cells = summary.set_index(["method", "metric"])
    centre = boot.set_index(["method", "metric"])
    md = to_markdown(summary)
    row = next(line for line in md.splitlines() if line.startswith("| better"))
    for metric in METRICS:
        delta = cells.loc[("better", metric), "delta"]
        assert centre.loc[("better", metric), "delta"] == pytest.approx(delta, abs=1e-12), metric
        assert f"({delta:+.3f}" in row
        assert np.isfinite(centre.loc[("better", metric), "p"]), metric
        assert cells.loc[("better", metric), "test"] == "paired patient bootstrap", metric
    legend = next(line for line in md.splitlines() if line.startswith("Test behind"))
    assert "`equalized_odds`" in legend and "`tpr_worst`" in legend
    assert "paired t-test" not in legend and "paired patient-level bootstrap" in legend
    # With C counted (the old constant 20) the gap would be a different number: C is the worst.
    groups = report["attributes"]["sex"]["groups"]
    assert groups["C"]["auc"] < min(groups["A"]["auc"], groups["B"]["auc"])


def test_runs_of_one_block_with_different_min_group_size_are_an_error(tmp_path):
    root = write_tree(tmp_path, {"erm": [0, 1], "better": [0, 1]}, min_group_size=50)
    path = root / "synth/cnn/better/any/seed1/eval/sex/overall/metrics.json"
    report = json.loads(path.read_text())
    report["min_group_size"] = 20
    path.write_text(json.dumps(report))
    with pytest.raises(UserError, match="min_group_size"):
        bootstrap_runs(eval_dirs(root, "overall"), "erm", METRICS, n_boot=20)


def test_bootstrap_delta_is_paired_on_the_seeds_both_have(tmp_path):
    root = write_tree(tmp_path, {"erm": [0, 1], "better": [0, 1, 2]}, min_group_size=50)
    summary, boot = _leaderboard(root)
    cells = summary.set_index(["method", "metric"])
    centre = boot.set_index(["method", "metric"])
    long = collect(root, "overall")
    for metric in METRICS:
        v = long[long.metric == metric].set_index(["method", "seed"])["value"]
        paired = np.mean([v[("better", s)] - v[("erm", s)] for s in (0, 1)])
        assert cells.loc[("better", metric), "delta"] == pytest.approx(paired, abs=1e-12)
        assert centre.loc[("better", metric), "delta"] == pytest.approx(paired, abs=1e-12)


def test_metrics_json_that_disagrees_with_its_scored_parquet_is_an_error(tmp_path):
    root = write_tree(tmp_path, {"erm": [0, 1], "better": [0, 1]}, min_group_size=50)
    path = root / "synth/cnn/better/any/seed0/eval/sex/overall/metrics.json"
    report = json.loads(path.read_text())
    report["overall"]["auc"] += 0.01  # not what scored.parquet gives
    path.write_text(json.dumps(report))
    with pytest.raises(UserError, match="not written by the same evaluation"):
        _leaderboard(root)


def test_a_threshold_metric_that_disagrees_with_scored_parquet_is_an_error(tmp_path):
    """A decision column not written with metrics.json's threshold is caught, as for AUC."""
    root = write_tree(tmp_path, {"erm": [0, 1], "better": [0, 1]}, min_group_size=50)
    path = root / "synth/cnn/better/any/seed0/eval/sex/overall/scored.parquet"
    scored = pd.read_parquet(path)
    scored["decision"] = (scored["score"] >= 0.3).astype("int8")  # not the evaluation's 0.5
    scored.to_parquet(path, index=False)
    long, evals = collect(root, "overall"), eval_dirs(root, "overall")
    boot = bootstrap_runs(evals, "erm", ["equalized_odds"], n_boot=20, seed=0)
    with pytest.raises(UserError, match="not written by the same evaluation"):
        summarise(long, metrics=["equalized_odds"], bootstrap=boot)
