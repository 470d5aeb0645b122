"""Re-analysis of MEDFAIR's published tables (Zong et al., ICLR 2023), checked against scipy.

The tables are committed (``benchmark/fairmedia/report/data/medfair_iclr2023.csv``), so these tests
run from a fresh clone; the check of that file against MEDFAIR's original CSVs needs a copy of them
at ``../shared/reference/medfair-iclr2023`` beside the repository and is skipped without one."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairmedia.cli import main
from fairmedia.report.medfair_import import IMAGING_PAIRS, PUBLISHED, import_medfair, parse_cell

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference" / "medfair-iclr2023"
REANALYSIS = REPO / "results" / "published" / "medfair-reanalysis"
SELECTIONS = ["overall_auc", "pareto", "DTO"]


def test_parse_cell():
    assert parse_cell("0.8809±0.001", "x") == (0.8809, 0.001)
    mean, std = parse_cell("0.7836", "x")
    assert mean == 0.7836 and np.isnan(std)
    assert np.isnan(parse_cell("", "x")[0])


@pytest.mark.parametrize("selection", SELECTIONS)
def test_rank_min_auc_matches_scipy(tmp_path, capsys, selection):
    table = tmp_path / "medfair.csv"
    assert main(["import-medfair", "--imaging-only", "--out", str(table)]) == 0
    capsys.readouterr()
    assert main(["rank", str(table), "--metric", "Min AUC", "--higher-is-better",
                 "--selection", selection, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # Independent reference: read the committed long table here, rank with scipy.
    published = pd.read_csv(PUBLISHED)
    rows = published[(published.selection == selection) & (published.metric == "Min AUC")
                     & published.dataset_attribute.isin(IMAGING_PAIRS)]
    wide = rows.pivot(index="dataset_attribute", columns="method", values="mean")
    wide = wide.rename(columns={"baseline": "erm"}).reindex(sorted(IMAGING_PAIRS))
    complete = wide.dropna()
    assert sorted(result["dropped_blocks"]) == sorted(
        f"{p.rpartition('-')[0]}/{p.rpartition('-')[2]}/published"
        for p in wide.index.difference(complete.index))
    assert result["n_blocks"] == len(complete) and result["k"] == wide.shape[1]
    ranks = stats.rankdata(-complete.to_numpy(float), axis=1).mean(axis=0)
    for method, rank in zip(complete.columns, ranks):
        assert result["avg_ranks"][method] == pytest.approx(rank)
    chi2 = stats.friedmanchisquare(*complete.to_numpy(float).T)
    assert result["friedman"]["statistic"] == pytest.approx(chi2.statistic)
    assert result["friedman"]["p"] == pytest.approx(chi2.pvalue)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_committed_reanalysis_comes_out_the_same(tmp_path, selection):
    """The README's ranks and p-values (results/published/medfair-reanalysis/) from the committed
    table, as in the README's commands."""
    table = tmp_path / "medfair.csv"
    assert main(["import-medfair", "--imaging-only", "--out", str(table)]) == 0
    out = tmp_path / selection
    assert main(["rank", str(table), "--metric", "Min AUC", "--higher-is-better", "--baseline", "erm",
                 "--selection", selection, "--out", str(out)]) == 0
    assert json.loads((out / "rank.json").read_text()) == json.loads(
        (REANALYSIS / selection / "rank.json").read_text())
    pd.testing.assert_frame_equal(pd.read_csv(out / "ranks.csv"),
                                  pd.read_csv(REANALYSIS / selection / "ranks.csv"))


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference/medfair-iclr2023 absent")
def test_committed_table_equals_the_original_csvs():
    expected = []
    files = sorted(REFERENCE.glob("*/*.csv"))
    assert {f.parent.name for f in files} == set(SELECTIONS) and len(files) == 63
    for path in files:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        for _, rec in raw.iterrows():
            for column in raw.columns:
                cell = rec[column].strip()
                if column in ("methods", "hash") or not cell:
                    continue
                mean, _, std = cell.partition("±")
                expected.append((path.parent.name, path.stem, rec["methods"], column, float(mean),
                                 float(std) if std else math.nan))
    committed = pd.read_csv(PUBLISHED, keep_default_na=False, na_values=[""])
    got = list(committed.itertuples(index=False, name=None))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[:5] == e[:5] and (g[5] == e[5] or (math.isnan(g[5]) and math.isnan(e[5]))), (g, e)
    # Importing the original folder gives the same long table as the committed copy.
    from_folder = import_medfair(REFERENCE).drop(columns="source")
    pd.testing.assert_frame_equal(from_folder, import_medfair().drop(columns="source"))
