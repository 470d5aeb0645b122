"""Attribute encoding (Yang et al., Nature Medicine 2024): the saved penultimate features, the
linear probe of metrics.json against an independent scikit-learn computation, the per-epoch
cross-validated encoding, and runs without features."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from fairmedia.data.prepared import load_prepared
from fairmedia.diagnostics import encoding
from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import evaluate_run
from fairmedia.methods.registry import get_method, resolve_hparams
from fairmedia.models.registry import FeatureClassifier, build_model
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import score_rows_and_features, train_run

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def run(tiny_prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("enc") / "run"
    train_run(TrainConfig(prepared=str(tiny_prepared), out=str(out), method="erm", epochs=2,
                          batch_size=32, threads=1), log=lambda *_: None)
    return out


def _reference_probe_auc(x_val, g_val, x_test, g_test) -> float:
    """The probe written out with scikit-learn directly (scaler fitted on val only)."""
    scaler = StandardScaler().fit(x_val)
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x_val), g_val)
    return roc_auc_score(g_test, clf.predict_proba(scaler.transform(x_test))[:, 1])


def test_metrics_probe_auc_equals_independent_sklearn_on_the_saved_features(run, tmp_path):
    report = evaluate_run(run, "sex", "overall", tmp_path / "ev")
    block = json.loads((tmp_path / "ev" / "metrics.json").read_text())["attribute_encoding_auc"]["sex"]
    epoch = report["run"]["epoch"]
    assert block["epoch"] == epoch and block["probe"]["C"] == 1.0
    saved = np.load(run / "features" / f"epoch{epoch:03d}.npz")
    meta = load_prepared(json.loads((run / "run.json").read_text())["config"]["prepared"]).metadata
    rows = meta.set_index("sample_id").loc[saved["sample_id"]]
    x = saved["features"].astype(np.float64)
    g = (rows["sex"] == "M").to_numpy().astype(int)
    val, test = (rows["split"] == "val").to_numpy(), (rows["split"] == "test").to_numpy()
    assert block["n"] == {"val": int(val.sum()), "test": int(test.sum())}
    assert block["value"] == pytest.approx(_reference_probe_auc(x[val], g[val], x[test], g[test]),
                                           abs=1e-9)


def test_epoch_encoding_equals_a_hand_written_stratified_cv(run):
    scores = pd.read_parquet(run / "epoch_scores.parquet")
    kept = sorted(int(p.stem[5:]) for p in (run / "features").glob("epoch*.npz"))
    epoch = kept[0]
    recorded = scores.loc[scores["epoch"] == epoch, "val_encoding_auc_sex"].iloc[0]
    saved = np.load(run / "features" / f"epoch{epoch:03d}.npz")
    meta = load_prepared(json.loads((run / "run.json").read_text())["config"]["prepared"]).metadata
    rows = meta.set_index("sample_id").loc[saved["sample_id"]]
    val = (rows["split"] == "val").to_numpy()
    x, g = saved["features"][val].astype(np.float64), (rows["sex"] == "M").to_numpy()[val].astype(int)
    proba = np.zeros(len(g))
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(x, g):
        scaler = StandardScaler().fit(x[fit])
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x[fit]), g[fit])
        proba[held] = clf.predict_proba(scaler.transform(x[held]))[:, 1]
    assert recorded == pytest.approx(roc_auc_score(g, proba), abs=1e-9)


def test_run_without_features_evaluates_with_null_and_reason(run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run, old)
    shutil.rmtree(old / "features")
    long = pd.read_parquet(old / "epoch_scores.parquet")
    long.drop(columns=[c for c in long if c.startswith("val_encoding_auc_")]).to_parquet(
        old / "epoch_scores.parquet", index=False)
    evaluate_run(old, "sex", "worst_group", tmp_path / "ev")
    block = json.loads((tmp_path / "ev" / "metrics.json").read_text())["attribute_encoding_auc"]["sex"]
    assert block["value"] is None and "features/epoch" in block["reason"]
    with pytest.raises(UserError, match="records no per-epoch attribute encoding"):
        evaluate_run(old, "sex", "min_encoding", tmp_path / "ev2")


def _method(name: str, model: FeatureClassifier):
    return get_method(name)(model, 2, resolve_hparams(name, {}), lr=1e-3, weight_decay=0.0,
                            epochs=2, steps_per_epoch=1)


def _loader(x: torch.Tensor, a: torch.Tensor | None = None) -> DataLoader:
    n = len(x)
    a = torch.zeros(n, dtype=torch.long) if a is None else a
    return DataLoader(TensorDataset(x, torch.zeros(n), a, torch.arange(n)), batch_size=3)


@pytest.mark.parametrize("arch, shape", [("cnn-small", (1, 16, 16)), ("resnet18", (1, 32, 32)),
                                         ("cnn-small-3d", (1, 8, 8, 8)),
                                         ("resnet18-3d", (1, 16, 16, 16))])
def test_features_equal_the_encoder_forward_pass_for_each_model_family(arch, shape):
    torch.manual_seed(0)
    model = build_model(arch, 1, spatial_dims=len(shape) - 1)
    method = _method("erm", model)
    x = torch.randn(5, *shape)
    scores, feats = score_rows_and_features(method, _loader(x), torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        direct = model.encoder(x)
        np.testing.assert_allclose(feats, direct.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(scores, torch.sigmoid(model.head(direct).squeeze(-1)).numpy(),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, penultimate", [
    ("domainind", lambda m, x: m.model.features(x)),
    ("odr", lambda m, x: m.target_code(x)),
])
def test_methods_with_their_own_head_give_the_input_of_that_head(name, penultimate):
    torch.manual_seed(0)
    method = _method(name, build_model("cnn-small", 1))
    x = torch.randn(4, 1, 16, 16)
    _, feats = score_rows_and_features(method, _loader(x), torch.device("cpu"))
    method.eval()
    with torch.no_grad():
        np.testing.assert_allclose(feats, penultimate(method, x).numpy(), rtol=1e-5, atol=1e-6)


def _probe_of_features(tmp_path, inject: bool) -> tuple[float, float]:
    """(test probe AUC, val CV AUC) of an identity 'encoder' over noise images, with the group
    added to one pixel or not: the mechanism reads what the features hold and nothing else."""
    gen = torch.Generator().manual_seed(1)
    n = 800
    a = torch.randint(0, 2, (n,), generator=gen)
    x = torch.randn(n, 1, 4, 4, generator=gen)
    if inject:
        x[:, 0, 0, 0] += 4.0 * a
    method = _method("erm", FeatureClassifier(nn.Flatten(), 16))
    _, feats = score_rows_and_features(method, _loader(x, a), torch.device("cpu"))
    ids = np.array([f"s{i}" for i in range(n)])
    encoding.save_features(tmp_path, 0, ids, feats)
    split = np.where(np.arange(n) < n // 2, "val", "test")
    block = encoding.probe_block(tmp_path, 0, ids, split, a.numpy())
    return block["value"], encoding.cv_encoding_auc(feats[: n // 2], a.numpy()[: n // 2])


def test_independent_features_give_half_and_injected_attribute_gives_one(tmp_path):
    test_auc, cv_auc = _probe_of_features(tmp_path / "none", inject=False)
    assert abs(test_auc - 0.5) < 0.07 and abs(cv_auc - 0.5) < 0.07
    test_auc, cv_auc = _probe_of_features(tmp_path / "injected", inject=True)
    assert test_auc > 0.97 and cv_auc > 0.97


def test_more_than_two_groups_use_macro_one_vs_rest(tmp_path):
    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, 4)) + 0.8 * np.eye(3, 4)[g]
    ids, split = np.array([f"s{i}" for i in range(300)]), np.where(np.arange(300) < 150, "val", "test")
    encoding.save_features(tmp_path, 3, ids, x)
    value = encoding.probe_block(tmp_path, 3, ids, split, g)["value"]
    x16 = x.astype(np.float16).astype(np.float64)
    scaler = StandardScaler().fit(x16[:150])
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x16[:150]), g[:150])
    expected = roc_auc_score(g[150:], clf.predict_proba(scaler.transform(x16[150:])),
                             multi_class="ovr", average="macro")
    assert value == pytest.approx(expected, abs=1e-9)


def test_weight_averaging_gives_the_averaged_networks_features():
    torch.manual_seed(0)
    method = _method("swa", build_model("cnn-small", 1))
    for epoch in range(2):
        method.on_epoch_end(epoch)
        with torch.no_grad():
            for p in method.model.parameters():  # the raw network moves away from the average
                p.add_(0.5)
    assert method.averaged_network() is not None
    x = torch.randn(4, 1, 16, 16)
    _, feats = score_rows_and_features(method, _loader(x), torch.device("cpu"))
    with torch.no_grad():
        averaged = method.averaged_network().eval().encoder(x).numpy()
        raw = method.model.eval().encoder(x).numpy()
    np.testing.assert_allclose(feats, averaged, rtol=1e-5, atol=1e-6)
    assert not np.allclose(feats, raw)


def test_evaluation_tolerance_reaches_min_encoding(run, tmp_path):
    long = pd.read_parquet(run / "epoch_scores.parquet")
    enc = long.groupby("epoch")["val_encoding_auc_sex"].first().to_numpy()
    report = evaluate_run(run, "sex", "min_encoding", tmp_path / "ev", encoding_tolerance=1.0)
    assert report["run"]["epoch"] == int(np.argmin(enc))  # every epoch is within a tolerance of 1


def test_workflow_passes_the_tolerance_only_when_set():
    from fairmedia.grid import evaluation_args

    assert "--encoding-tolerance" not in evaluation_args({}, in_distribution=True)
    assert "--encoding-tolerance 0.05" in evaluation_args(
        {"evaluation": {"encoding_tolerance": 0.05}}, in_distribution=True)
    assert "--encoding-tolerance" not in evaluation_args({"evaluation": {"encoding_tolerance": 0.05}})
