"""``fairmedia separability`` on tiny synthetic data: the attribute AUC follows the generator's
``visibility`` knob, the reported AUC is sklearn's on the saved scores, and bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from fairmedia.cli import main
from fairmedia.data.prepared import load_prepared, write_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.diagnostics.separability import run_separability, scores_path

VISIBILITY = (0.0, 0.2, 0.5)
SETTING = {"n": 1200, "size": 24, "seed": 0}  # preset "none": only visibility differs
EPOCHS = 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple[Path, dict]]:
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("separability")
    out = {}
    for v in VISIBILITY:
        data = write_synthetic(base / f"vis{v}", "none", visibility=v, **SETTING)
        path = base / f"vis{v}.json"
        run_separability(data, "sex", path, epochs=EPOCHS, bootstrap=200, seed=0, log=lambda *_: None)
        out[v] = (path, json.loads(path.read_text()))
    return out


def test_auc_rises_with_visibility(runs: dict[float, tuple[Path, dict]]) -> None:
    aucs = [runs[v][1]["auc"] for v in VISIBILITY]
    lows = [runs[v][1]["ci"][0] for v in VISIBILITY]
    highs = [runs[v][1]["ci"][1] for v in VISIBILITY]
    assert aucs == sorted(aucs) and len(set(aucs)) == 3, aucs
    assert lows[0] < 0.5 + 0.1 and abs(aucs[0] - 0.5) < 0.1, (aucs, lows)  # groups look alike
    assert aucs[-1] > 0.9, aucs
    # monotone within CI: each setting's interval lies above the previous one's estimate
    for i in range(1, len(VISIBILITY)):
        assert lows[i] > aucs[i - 1], (lows, aucs)
    assert highs[0] < aucs[-1]


@pytest.mark.parametrize("v", VISIBILITY)
def test_auc_is_sklearn_on_saved_scores(runs: dict[float, tuple[Path, dict]], v: float) -> None:
    path, result = runs[v]
    saved = pd.read_parquet(scores_path(path))
    assert result["scores"] == scores_path(path).name
    g1 = result["groups"][1]
    scores, val = saved[saved["split"] == "test"], saved[saved["split"] == "val"]
    expected = roc_auc_score(scores["sex"] == g1, scores[f"p_{g1}"])
    assert result["auc"] == pytest.approx(expected, abs=1e-12)
    # the saved val scores are the selected epoch's: the test scores come from the same model
    assert result["val_auc"] == pytest.approx(roc_auc_score(val["sex"] == g1, val[f"p_{g1}"]),
                                              abs=1e-12)
    low, high = result["ci"]
    assert low <= result["auc"] <= high and low < high or result["auc"] == 1.0
    test = load_prepared(path.with_suffix("")).metadata.query("split == 'test'")
    assert result["n_per_group"]["test"] == test["sex"].value_counts().to_dict()
    assert len(scores) == len(test) and set(scores["sample_id"]) == set(test["sample_id"])
    assert result["content_hash"] == json.loads((path.with_suffix("") / "manifest.json")
                                                .read_text())["content_hash"]
    assert (result["arch"], result["epochs"], result["seed"]) == ("cnn-small", EPOCHS, 0)
    best = max(result["history"], key=lambda h: h["val_auc"])
    assert result["selected_epoch"] == best["epoch"] and result["val_auc"] == best["val_auc"]


def _with_column(tmp: Path, name: str, values_of, split_filter=None) -> Path:
    """A small synthetic dataset with one extra attribute column written through the contract."""
    src = load_prepared(write_synthetic(tmp / "src", "none", n=300, size=16, seed=1, visibility=1.0))
    meta = src.metadata.copy()
    meta[name] = values_of(meta)
    return write_prepared(tmp / name, meta, np.asarray(src.images), dataset="synthetic-extra",
                          card_version=1, attributes=["sex", name])


def test_three_groups_ovr_macro(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    # site follows sex in part (F → site C more often), so the AUC is informative but not 1
    rng = np.random.default_rng(0)

    def site(meta: pd.DataFrame) -> np.ndarray:
        base = rng.integers(0, 3, len(meta))
        return np.array(["A", "B", "C"])[np.where(meta["sex"].to_numpy() == "F", 2, base)]
    data = _with_column(tmp_path, "site", site)
    out = tmp_path / "sep.json"
    assert main(["separability", "--prepared", str(data), "--attribute", "site", "--epochs", "2",
                 "--bootstrap", "100", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    scores = pd.read_parquet(scores_path(out)).query("split == 'test'")
    probs = scores[[f"p_{g}" for g in result["groups"]]].to_numpy()
    expected = roc_auc_score(scores["site"], probs, multi_class="ovr", average="macro",
                             labels=result["groups"])
    assert result["groups"] == ["A", "B", "C"] and result["auc_kind"] == "ovr macro"
    assert result["auc"] == pytest.approx(expected, abs=1e-12)
    assert result["ci"][0] <= result["auc"] <= result["ci"][1]


def test_unknown_attribute(tiny_prepared: Path, tmp_path: Path, capsys) -> None:
    assert main(["separability", "--prepared", str(tiny_prepared), "--attribute", "race",
                 "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert f"attribute 'race' is not an attribute of {tiny_prepared} (manifest.json); " \
           "valid attributes: sex, age_group" in err


def test_one_group_in_a_split(tmp_path: Path, capsys) -> None:
    def one_in_test(meta: pd.DataFrame) -> np.ndarray:
        return np.where(meta["split"] == "test", "A", meta["sex"].to_numpy())
    data = _with_column(tmp_path, "site", one_in_test)
    assert main(["separability", "--prepared", str(data), "--attribute", "site",
                 "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert (f"{data / 'metadata.parquet'}: the test split has only group 'A' of attribute 'site'; "
            "separability needs at least two groups in each of train, val and test") in err


def test_missing_prepared_folder(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert main(["separability", "--prepared", str(missing), "--attribute", "sex",
                 "--out", str(tmp_path / "x.json")]) == 2
    assert f"--prepared {missing}: no such folder" in capsys.readouterr().err
