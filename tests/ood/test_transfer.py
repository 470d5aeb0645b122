"""Transfer on the synthetic twin: source threshold, reproduction of the run, the OOD gap."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_curve

from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import evaluate_run
from fairmedia.evaluation.transfer import evaluate_transfer, transfer_predict


def _youden(y, s):
    # Independent reference: the ROC point maximising TPR - FPR (ties to the higher threshold).
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    j = (tpr - fpr)[1:]
    return float(thr[1:][np.flatnonzero(j == j.max())[0]])


@pytest.fixture(scope="module")
def transferred(ood_data):
    out = ood_data["root"] / "transfer-twin"
    transfer_predict(ood_data["run"], ood_data["twin"], out, {"sex": "sex"})
    return out


def test_transfer_uses_the_source_val_threshold(ood_data, transferred, tmp_path):
    report = evaluate_transfer(transferred, "sex", "overall", tmp_path / "eval")
    run_preds = pd.read_parquet(ood_data["run"] / "predictions.parquet")
    val = run_preds[(run_preds["selection"] == "overall") & (run_preds["split"] == "val")]
    expected = _youden(val["y"].to_numpy(), val["score"].to_numpy())
    assert report["threshold"]["value"] == pytest.approx(expected, abs=1e-12)
    assert report["threshold"]["fitted_on"] == "source val"
    # ... and not the one the target's own val split would give (which a deployment cannot fit).
    scored = pd.read_parquet(tmp_path / "eval" / "scored.parquet")
    assert report["threshold"]["value"] != pytest.approx(_youden(scored["y"], scored["score"]))
    # threshold-dependent counts follow from that threshold on the target test rows
    decision = scored["score"].to_numpy() >= expected
    assert report["overall"]["tp"] == int((decision & (scored["y"] == 1)).sum())
    assert report["overall"]["fp"] == int((decision & (scored["y"] == 0)).sum())
    # scored.parquet carries those decisions for the leaderboard's bootstrap
    assert scored["decision"].tolist() == decision.astype(int).tolist()


def test_shortcut_model_has_a_larger_gap_on_the_shifted_twin(ood_data, transferred, tmp_path):
    ood = evaluate_transfer(transferred, "sex", "overall", tmp_path / "ood")
    iid = evaluate_run(ood_data["run"], "sex", "overall", tmp_path / "iid")
    gap_ood = ood["attributes"]["sex"]["disparity"]["auc"]["gap"]
    gap_iid = iid["attributes"]["sex"]["disparity"]["auc"]["gap"]
    assert gap_ood > gap_iid + 0.1, (gap_iid, gap_ood)
    # the gap opens where the shortcut was: group F (marker reversed) falls, not M
    f_iid = iid["attributes"]["sex"]["groups"]["F"]["auc"]
    f_ood = ood["attributes"]["sex"]["groups"]["F"]["auc"]
    assert f_ood < f_iid - 0.3, (f_iid, f_ood)


def test_transfer_to_the_source_itself_reproduces_in_distribution_evaluation(ood_data, tmp_path):
    transfer_predict(ood_data["run"], ood_data["src"], tmp_path / "self", {"sex": "sex"})
    for selection in ("overall", "worst_group"):
        back = evaluate_transfer(tmp_path / "self", "sex", selection, tmp_path / selection / "t")
        iid = evaluate_run(ood_data["run"], "sex", selection, tmp_path / selection / "i")
        assert back["threshold"]["value"] == iid["threshold"]["value"]
        for key in ("auc", "tp", "fp", "tn", "fn", "n"):
            assert back["overall"][key] == pytest.approx(iid["overall"][key], abs=1e-6), key
        a = pd.read_parquet(tmp_path / selection / "t" / "scored.parquet").sort_values("sample_id")
        b = pd.read_parquet(tmp_path / selection / "i" / "scored.parquet").sort_values("sample_id")
        np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), atol=1e-6)


def test_record_names_epochs_and_a_passed_reproduction_check(ood_data, transferred):
    record = json.loads((transferred / "transfer.json").read_text())
    kept = json.loads((ood_data["run"] / "run.json").read_text())["epochs_kept"]
    assert set(record["epochs"]["sex"].values()) <= set(kept)
    assert record["reproduction_check"]["max_abs_diff"] <= 1e-5
    preds = pd.read_parquet(transferred / "predictions.parquet")
    twin_test = pd.read_parquet(ood_data["twin"] / "metadata.parquet").query("split == 'test'")
    assert set(preds["sample_id"]) == set(twin_test["sample_id"])


def test_changed_weights_are_refused(ood_data, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ood_data["run"], run)
    for path in (run / "weights").glob("epoch*.pt"):
        state = torch.load(path, weights_only=True)
        state["head.bias"] = state["head.bias"] + 3.0
        torch.save(state, path)
    with pytest.raises(UserError, match="does not reproduce"):
        transfer_predict(run, ood_data["twin"], tmp_path / "out", {"sex": "sex"})


def test_unmapped_attribute_and_missing_run_are_user_errors(ood_data, tmp_path):
    with pytest.raises(UserError, match="not in"):
        transfer_predict(ood_data["run"], ood_data["twin"], tmp_path / "a", {"race": "race"})
    with pytest.raises(UserError, match="run.json is missing"):
        transfer_predict(tmp_path, ood_data["twin"], tmp_path / "b", {"sex": "sex"})


@pytest.mark.parametrize("method", ["fairadabn", "harmonize"])
def test_group_dependent_prediction_is_rebuilt(ood_data, tmp_path, method):
    # These methods read the group at prediction time (per-group normalisation / harmonisation);
    # transferring the run to its own data must give back its recorded test scores exactly.
    from fairmedia.training.config import TrainConfig
    from fairmedia.training.loop import train_run

    run = train_run(TrainConfig(prepared=str(ood_data["src"]), out=str(tmp_path / "run"),
                                method=method, attribute="sex", epochs=2, batch_size=32,
                                max_steps_per_epoch=3, threads=1), log=lambda *_: None)
    transfer_predict(run, ood_data["src"], tmp_path / "self", {"sex": "sex"})
    back = evaluate_transfer(tmp_path / "self", "sex", "overall", tmp_path / "t")
    iid = evaluate_run(run, "sex", "overall", tmp_path / "i")
    assert back["overall"]["auc"] == pytest.approx(iid["overall"]["auc"], abs=1e-9)
    a = pd.read_parquet(tmp_path / "t" / "scored.parquet").sort_values("sample_id")
    b = pd.read_parquet(tmp_path / "i" / "scored.parquet").sort_values("sample_id")
    np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), atol=1e-6)
