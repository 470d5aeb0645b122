"""End to end: a synthetic runs tree → fairmedia leaderboard / rank files and stdout."""

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.metrics.directions import direction
from fairmedia.report.collect import collect
from fairmedia.testing.synthetic_runs import write_runs

BLOCKS = [("synthA", "sex"), ("synthB", "sex"), ("synthC", "age")]
METHODS = {"erm": 0.0, "gdro": 0.8, "resampling": 0.0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return write_runs(root, BLOCKS, METHODS, seeds=[0, 1, 2], selections=["overall", "dto"],
                      n_test=600, skip={("synthC", "age", "resampling", s) for s in range(3)})


def test_collect_long_table_names_resolve_and_values_match_json(runs):
    long = collect(runs, selection="overall")
    assert set(long.columns) >= {"dataset", "attribute", "arch", "method", "seed", "selection",
                                 "metric", "value", "run_dir"}
    for name in long["metric"].unique():
        direction(name)  # raises KeyError for an undeclared name
    assert {"auc", "auc_gap", "auc_worst", "equalized_odds", "es_auc"} <= set(long["metric"])
    row = long[(long.dataset == "synthA") & (long.method == "gdro") & (long.seed == 1)
               & (long.metric == "auc_worst")]
    path = runs / "synthA/cnn/gdro/sex/seed1/eval/sex/overall/metrics.json"
    expected = json.loads(path.read_text())["attributes"]["sex"]["disparity"]["auc"]["worst"]
    assert row["value"].item() == pytest.approx(expected)


def test_leaderboard_writes_files_prints_markdown_and_detects_planted_effect(runs, tmp_path,
                                                                             capsys):
    out = tmp_path / "lb"
    code = main(["leaderboard", "--runs", str(runs), "--out", str(out), "--bootstrap", "200",
                 "--metrics", "auc", "auc_worst", "auc_gap"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed == (out / "leaderboard.md").read_text()
    for name in ("leaderboard.csv", "leaderboard.md", "leaderboard.tex", "ranks.csv",
                 "significance.csv", "cd_auc.png", "pareto_synthA.png",
                 "groups_synthA_sex_cnn.png", "cd_auc.pdf", "pareto_synthA.pdf",
                 "groups_synthA_sex_cnn.pdf"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "leaderboard.csv")
    gdro = table[(table.method == "gdro") & (table.metric == "auc")]
    assert (gdro["delta"] > 0).all() and (gdro["p_boot_adj"] < 0.05).all()
    assert (gdro["test"] == "paired patient bootstrap").all()
    # The failed method's block is shown as a dash and dropped (and named) in the ranks.
    missing = table[(table.dataset == "synthC") & (table.method == "resampling")]
    assert missing["mean"].isna().all() and (missing["n_seeds"] == 0).all()
    assert "| resampling | — | — | — |" in printed
    ranks = pd.read_csv(out / "ranks.csv")
    assert set(ranks["dropped_blocks"].dropna()) == {"synthC/age/cnn"}
    # Beside ranks.csv: one Nemenyi p-value matrix per ranked metric (checked against
    # scikit-posthocs in tests/stats/test_nemenyi_matrix.py), symmetric with 1 on the diagonal.
    nemenyi = pd.read_csv(out / "nemenyi.csv")
    assert set(nemenyi["metric"]) == set(ranks["metric"])
    auc = nemenyi[nemenyi["metric"] == "auc"].set_index("method")[sorted(set(ranks["method"]))]
    matrix = auc.loc[auc.columns].to_numpy()
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)


def test_rank_json_keys_and_unknown_direction_error(runs, tmp_path, capsys):
    long = collect(runs)
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    assert main(["rank", str(path), "--metric", "auc", "--selection", "dto", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"k", "n_blocks", "dropped_blocks", "avg_ranks", "friedman", "iman_davenport", "cd",
            "vs_baseline"} <= set(result)
    assert result["k"] == 3 and result["n_blocks"] == 2
    long.assign(metric="mystery").to_csv(path, index=False)
    assert main(["rank", str(path), "--metric", "mystery", "--selection", "dto"]) == 2
    assert "--higher-is-better" in capsys.readouterr().err
    assert main(["rank", str(path), "--metric", "mystery"]) == 2
    assert "several selections" in capsys.readouterr().err


def test_unknown_metric_is_a_user_error(runs, tmp_path, capsys):
    code = main(["leaderboard", "--runs", str(runs), "--out", str(tmp_path), "--metrics", "aucc"])
    assert code == 2 and "aucc" in capsys.readouterr().err


def test_compare_selections_lists_each_selection_for_erm(runs, tmp_path, capsys):
    assert main(["compare-selections", "--runs", str(runs), "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "selections.csv")
    assert set(table["selection"]) == {"overall", "dto"}
    long = collect(runs)
    ref = long[(long.method == "erm") & (long.metric == "auc") & (long.dataset == "synthA")
               & (long.selection == "dto")]["value"].mean()
    got = table[(table.dataset == "synthA") & (table.metric == "auc") & (table.selection == "dto")]
    assert got["mean"].item() == pytest.approx(ref)
    assert "| synthA | sex | cnn | dto |" in capsys.readouterr().out
