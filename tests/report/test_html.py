"""The HTML leaderboard and the HTML fairness report, read as HTML (the browser test is
test_html_browser.py): each shows what the tables and the report hold, escaped, self-contained."""

import base64
import json
import re
from html import unescape
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.fairness_html import chart_series
from fairmedia.metrics.render import render_html
from fairmedia.report.html import write_leaderboard_html
from fairmedia.report.leaderboard import summarise
from fairmedia.report.pipeline import RANKS_COLUMNS, write_leaderboard
from fairmedia.report.tables import column_tests, format_cell
from fairmedia.testing.synthetic_runs import write_runs


class _Page(HTMLParser):
    """Text of each <td>, every <img src>, every <a href>, every <script src>/<link href>."""

    def __init__(self):
        super().__init__()
        self.cells, self.imgs, self.links, self.external, self._td = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td":
            self._td = []
        elif tag == "img":
            self.imgs.append(a["src"])
        elif tag == "a":
            self.links.append(a["href"])
        elif (tag == "script" and "src" in a) or (tag == "link" and "href" in a):
            self.external.append(a)

    def handle_data(self, data):
        if self._td is not None:
            self._td.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._td is not None:
            self.cells.append("".join(self._td).strip())
            self._td = None


def parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def long_table(datasets=("synthA", "synthB")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for d, dataset in enumerate(datasets):
        for method, shift in (("erm", 0.0), ("gdro", 0.03), ("<b>x</b>", -0.02)):
            for seed in range(3):
                auc = 0.8 + shift + 0.01 * d + 0.005 * rng.standard_normal()
                for metric, v in (("auc", auc), ("auc_gap", 0.1 - shift)):
                    rows.append({"dataset": dataset, "attribute": "sex", "arch": "cnn",
                                 "method": method, "seed": seed, "selection": "overall",
                                 "metric": metric, "value": v, "run_dir": f"r/{method}/{seed}"})
    return pd.DataFrame(rows)


@pytest.fixture
def board(tmp_path):
    summary = summarise(long_table(), metrics=["auc", "auc_gap"])
    (tmp_path / "overall").mkdir()
    summary.to_csv(tmp_path / "overall" / "leaderboard.csv", index=False)
    return tmp_path, summary


def test_cells_are_the_markdown_cells_and_the_legend_names_each_columns_test(board):
    root, summary = board
    page_text = write_leaderboard_html(root, provenance={"code": {"commit": "abc"},
                                                         "packages": {"scipy": "1.0"}}).read_text()
    cells = parse(page_text).cells
    for _, row in summary.iterrows():  # the Markdown's own formatting, cell by cell
        expected = format_cell(row, "erm", 0.05)
        assert any(c == expected or c.startswith(expected + "Δ 95% CI") for c in cells), expected
    assert column_tests(summary).replace("`", "") in unescape(re.sub(r"</?code>", "", page_text))
    assert "commit <code>abc</code>" in page_text and "scipy 1.0" in page_text


def test_ci_shown_is_the_ci_of_the_test_behind_p(board):
    root, summary = board
    summary.loc[summary["method"] == "gdro", ["boot_ci_low", "boot_ci_high", "test"]] = \
        [-0.123, 0.456, "paired patient bootstrap"]
    summary.to_csv(root / "overall" / "leaderboard.csv", index=False)
    text = write_leaderboard_html(root, provenance={}).read_text()
    assert "Δ 95% CI [-0.123, +0.456]" in text
    other = summary[summary["method"] == "<b>x</b>"].iloc[0]
    assert f"Δ 95% CI [{other['delta_ci_low']:+.3f}, {other['delta_ci_high']:+.3f}]" in text


def test_names_are_escaped_and_nothing_is_loaded_from_outside(board):
    root, _ = board
    text = write_leaderboard_html(root, provenance={}).read_text()
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert parse(text).external == []  # no CDN script or stylesheet: the file works offline


def test_figures_are_embedded_and_pdfs_linked_only_when_present(board):
    root, _ = board
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    (root / "overall" / "cd_auc.png").write_bytes(png)
    (root / "overall" / "pareto_synthA.png").write_bytes(png)
    (root / "overall" / "pareto_synthA.pdf").write_bytes(b"%PDF-1.4")
    page = parse(write_leaderboard_html(root, provenance={}).read_text())
    assert [base64.b64decode(s.split(",", 1)[1]) for s in page.imgs] == [png, png]
    assert page.links == ["overall/pareto_synthA.pdf"]


def test_diagnostic_sections_appear_only_when_their_files_exist(board):
    root, _ = board
    assert "Statistical power" not in write_leaderboard_html(root, provenance={}).read_text()
    pd.DataFrame({"method": ["gdro"], "power": [0.4321]}).to_csv(root / "overall" / "power.csv",
                                                                 index=False)
    text = write_leaderboard_html(root, provenance={}).read_text()
    assert "Statistical power" in text and "0.432" in text
    assert "Subgroup separability" not in text and "Ranking robustness" not in text


def test_one_block_writes_header_only_ranks_and_says_why(tmp_path):
    runs = write_runs(tmp_path / "runs", [("synthA", "sex")], {"erm": 0.0, "gdro": 0.5},
                      seeds=[0, 1, 2], selections=["overall"], n_test=200)
    out = tmp_path / "lb" / "overall"
    md = write_leaderboard(runs, "overall", out, ["auc"], figures=False)
    note = "ranks need ≥ 2 complete blocks (datasets × attributes × archs); this leaderboard has 1"
    assert pd.read_csv(out / "ranks.csv").columns.tolist() == RANKS_COLUMNS
    assert len(pd.read_csv(out / "ranks.csv")) == 0
    assert json.loads((out / "ranks.json").read_text()) == {"note": note}
    assert "Ranks need ≥ 2 complete blocks" in md and "has 1." in md
    assert note in write_leaderboard_html(out.parent, provenance={}).read_text()


def test_an_empty_folder_is_a_clear_error(tmp_path):
    from fairmedia.errors import UserError

    with pytest.raises(UserError, match="holds no <selection>/leaderboard.csv"):
        write_leaderboard_html(tmp_path)
    (tmp_path / "overall").mkdir()
    (tmp_path / "overall" / "leaderboard.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match=r"overall/leaderboard.csv: not a leaderboard.csv "
                                        r"\(columns .*dataset.* missing\)"):
        write_leaderboard_html(tmp_path)


def fairness_report(bootstrap: int = 0) -> dict:
    rng = np.random.default_rng(1)
    n = 400
    site = rng.choice(["a", "b", "c"], n, p=[0.48, 0.48, 0.04])
    y = rng.integers(0, 2, n)
    y[site == "c"] = 1  # group c: no negatives → FPR undefined, with its reason
    df = pd.DataFrame({"y": y, "score": rng.random(n), "sex": rng.choice(["F", "M"], n),
                       "split": np.where(np.arange(n) < 150, "val", "test"), "site": site})
    return evaluate_predictions(df, ["sex", "site"], intersect=True, bootstrap=bootstrap)


def test_fairness_page_has_disparity_table_reasons_small_groups_and_no_null():
    report = fairness_report()
    text = render_html(report)
    cells = parse(text).cells
    d = report["attributes"]["sex"]["disparity"]["tpr"]
    row = cells[cells.index("tpr"):cells.index("tpr") + 8]  # metric + the seven measures
    assert row == ["tpr"] + [f"{d[k]:.3f}" for k in ("gap", "ratio", "ser", "std", "nr", "worst",
                                                     "best")]
    reason = report["attributes"]["site"]["groups"]["c"]["reason"]["fpr"]
    assert f"undefined: {reason}" in cells
    assert not any("null" in c for c in cells)
    assert "c ⚠ small" in cells and "F × a" in text  # intersections read as names
    assert "F&amp;a" not in text


def test_ci_warnings_are_listed_when_present():
    report = fairness_report()
    assert "outside their own interval" not in render_html(report)
    report["ci_warnings"] = [{"measure": "sex: equal_opportunity", "estimate": 0.039,
                              "ci": [0.0503136709, 0.174], "explanation": "percentile CI of a gap"}]
    text = render_html(report)
    assert "outside their own interval" in text and "0.039" in text
    assert "[0.050, 0.174]" in text  # bounds formatted like every other number
    assert "percentile CI of a gap" in text


def test_bars_get_error_bars_only_with_a_ci():
    plain = fairness_report()
    values, err = chart_series(plain, "sex", "auc")
    groups = plain["attributes"]["sex"]["groups"]
    assert values == pytest.approx([groups["F"]["auc"], groups["M"]["auc"]]) and err is None
    boot = fairness_report(bootstrap=30)
    values, err = chart_series(boot, "sex", "auc")
    ci = boot["ci"]["attributes"]["sex"]["groups"]["F"]["auc"]
    assert err[0][0] == pytest.approx(values[0] - ci[0]) and err[1][0] == pytest.approx(
        ci[1] - values[0])


def test_published_page_uses_the_stored_provenance_and_the_configs_baseline(board):
    from fairmedia.report.publish import write_published_html

    root, summary = board
    (root / "provenance.json").write_text(json.dumps(
        {"code": {"commit": "feedbeef", "dirty": False}, "packages": {"statsmodels": "0.1"}}))
    text = write_published_html(root, {"baseline": "gdro",
                                       "leaderboard": {"correction": "fdr_bh"}}).read_text()
    assert "commit <code>feedbeef</code>" in text and "statsmodels 0.1" in text
    assert "Benjamini–Hochberg-adjusted p &lt; 0.05 vs gdro" in text
    assert f"FairMedIA leaderboard — {root.name}" in text
