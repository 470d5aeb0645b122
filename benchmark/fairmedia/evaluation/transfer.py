"""Out-of-distribution evaluation: a finished run's selected checkpoints on another dataset.

``transfer_predict`` rebuilds the run's method (so methods whose prediction reads the group, such
as per-group normalisation, predict as they did in training), loads the weights of every epoch that
some model-selection criterion picks on the *source* val split for some evaluation attribute, and
scores the target's test split. It first re-scores a few source rows and compares them with the
run's recorded scores, so a checkpoint that does not reproduce its run is never transferred.

``evaluate_transfer`` fits the operating threshold on the **source** val rows of the selected
epoch (a deployed model keeps its development threshold; fitting on the target would use labels
a deployment does not have) and evaluates the target's test rows with it as ``fixed:<t>``.

Layout (mirrors the runs tree, so ``fairmedia leaderboard --runs results/transfer`` ranks it, with
the direction ``{source}__to__{target}`` as the dataset)::

    results/transfer/{source}__to__{target}/{arch}/{method}/{train_attribute}/seed{seed}/
        predictions.parquet  transfer.json  eval/{attribute}/{selection}/{metrics.json,scored.parquet}
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset, load_prepared
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import scored_frame, selected_predictions
from fairmedia.methods.base import Method
from fairmedia.methods.registry import get_method
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.groups import attribute_grouping
from fairmedia.metrics.thresholds import choose_threshold, parse_rule
from fairmedia.models.registry import build_model
from fairmedia.training.outputs import (
    atomic_parquet,
    atomic_text,
    load_candidates,
    load_encoding,
    load_epoch_scores,
    selected_epochs,
)
from fairmedia.training.selection import SELECTIONS

CHECK_ROWS = 32  # source rows re-scored to prove a checkpoint reproduces its run
CHECK_TOLERANCE = 1e-3  # on probabilities; CPU reproduces to ~1e-7, GPU kernels may differ more


def read_run(run_dir: Path) -> dict[str, Any]:
    path = run_dir / layout.RUN_JSON
    if not path.exists():
        raise UserError(f"{run_dir} is not a finished run: run.json is missing")
    info = json.loads(path.read_text())
    if not (run_dir / layout.EPOCH_SCORES).exists():
        raise UserError(f"{run_dir}: no epoch_scores.parquet — post-processing runs keep no "
                        "weights of their own and cannot be transferred; transfer their base run")
    return info


def rebuild_method(info: dict[str, Any], source: PreparedDataset, n_groups: int) -> Method:
    """The run's method around a freshly built network, as ``train_run`` made it."""
    cfg = info["config"]
    model = build_model(cfg["arch"], source.images.shape[1], spatial_dims=source.spatial_dims)
    return get_method(cfg["method"])(
        model, n_groups, info.get("hparams", {}), lr=cfg["lr"], weight_decay=cfg["weight_decay"],
        epochs=cfg["epochs"], steps_per_epoch=1,
    )


def load_epoch(method: Method, run_dir: Path, epoch: int) -> None:
    path = layout.weights_file(run_dir, epoch)
    if not path.exists():
        raise UserError(f"{path} is missing: the run kept only the epochs its selection criteria "
                        "pick for the attributes of its prepared dataset")
    state = torch.load(path, map_location="cpu", weights_only=True)
    method.eval_model().load_state_dict(state)


def _resize(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if tuple(x.shape[2:]) == shape:
        return x
    if x.ndim == 4:
        return F.interpolate(x, size=shape, mode="bilinear", align_corners=False, antialias=True)
    return F.interpolate(x, size=shape, mode="trilinear", align_corners=False)


@torch.no_grad()
def score(method: Method, prepared: PreparedDataset, rows: np.ndarray, groups: np.ndarray,
          shape: tuple[int, ...], device: torch.device, batch_size: int = 256) -> np.ndarray:
    """Probabilities for ``rows`` of ``prepared``, images resized to ``shape`` when they differ."""
    loader = DataLoader(PreparedImageDataset(prepared, rows, groups), batch_size=batch_size)
    method.eval()
    out = []
    for x, _, a, _ in loader:
        x = _resize(x.to(device), shape)
        out.append(torch.sigmoid(method.predict(x, a.to(device)).float()).cpu())
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


def _group_codes(source: PreparedDataset, target: PreparedDataset, train_attribute: str,
                 attribute_map: dict[str, str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Group codes of the run's training attribute for source and target rows, the target's
    values coded with the source's code book (a method's group-specific parts are indexed by it)."""
    if train_attribute == "any":
        return np.zeros(len(source.metadata), np.int64), np.zeros(len(target.metadata), np.int64), 1
    if train_attribute not in attribute_map:
        raise UserError(f"the run was trained with attribute {train_attribute!r}, which has no "
                        f"counterpart in the target (mapped: {attribute_map})")
    src_codes, names = source.attribute_codes(train_attribute)
    column = attribute_map[train_attribute]
    target_codes, target_names = target.attribute_codes(column)
    unknown = sorted(set(target_names) - set(names))
    if unknown:
        raise UserError(f"target column {column!r} has group(s) {unknown} that the source's "
                        f"{train_attribute!r} lacks ({names}); the run's group-specific parts "
                        "have nothing to apply to them")
    lookup = np.array([names.index(v) for v in target_names], dtype=np.int64)
    return src_codes, lookup[target_codes], len(names)


def transfer_predict(run_dir: str | Path, target_dir: str | Path, out_dir: str | Path,
                     attribute_map: dict[str, str], *, device: str = "cpu",
                     batch_size: int = 256, threads: int | None = None) -> Path:
    """Score the target's test split with every selected checkpoint of the run (see module doc).

    ``attribute_map``: source column → target column for each evaluation attribute.
    """
    t0 = time.time()
    run_dir, out = Path(run_dir), Path(out_dir)
    if not attribute_map:
        raise UserError("transfer needs at least one attribute to evaluate (source=target column)")
    if threads:
        torch.set_num_threads(threads)
    info = read_run(run_dir)
    source = load_prepared(info["config"]["prepared"])
    target = load_prepared(target_dir)
    src_shape, tgt_shape = tuple(source.images.shape[1:]), tuple(target.images.shape[1:])
    if len(src_shape) != len(tgt_shape) or src_shape[0] != tgt_shape[0]:
        raise UserError(f"target images {list(tgt_shape)} cannot feed a model trained on "
                        f"{list(src_shape)}: the channel count and dimensionality must agree")
    for column in attribute_map:
        source.check_attribute(column)
    rows, scores = load_epoch_scores(run_dir, source)
    candidates = load_candidates(run_dir)
    enc = load_encoding(run_dir)
    epochs = {a: selected_epochs(source, rows, scores, a, candidates=candidates, encoding=enc)
              for a in attribute_map}
    train_attr = info["config"]["attribute"]
    src_groups, tgt_groups, n_groups = _group_codes(source, target, train_attr, attribute_map)
    dev = torch.device(device)
    method = rebuild_method(info, source, n_groups).to(dev)
    test_rows = target.indices("test")
    if len(test_rows) == 0:
        raise UserError(f"{target.root}: no test rows to transfer to")
    meta = target.metadata.iloc[test_rows]
    by_epoch: dict[int, np.ndarray] = {}
    check_diff = 0.0
    for epoch in sorted({e for per in epochs.values() for e in per.values()}):
        load_epoch(method, run_dir, epoch)
        k = min(CHECK_ROWS, len(rows))
        again = score(method, source, rows[:k], src_groups, src_shape[1:], dev, batch_size)
        diff = float(np.max(np.abs(again - scores[epoch, :k]))) if k else 0.0
        if diff > CHECK_TOLERANCE:
            raise UserError(f"{layout.weights_file(run_dir, epoch)} does not reproduce the run's "
                            f"recorded scores (max difference {diff:.2g}); the run folder was "
                            "changed after training")
        check_diff = max(check_diff, diff)
        by_epoch[epoch] = score(method, target, test_rows, tgt_groups, src_shape[1:], dev,
                                batch_size)
    parts = [
        pd.DataFrame({
            "sample_id": meta["sample_id"].to_numpy(), "patient_id": meta["patient_id"].to_numpy(),
            "split": "test", "y": meta["y"].to_numpy(), "score": by_epoch[epoch],
            "attribute": attribute, "selection": selection, "epoch": epoch,
        })
        for attribute, per in epochs.items() for selection, epoch in per.items()
    ]
    out.mkdir(parents=True, exist_ok=True)
    atomic_parquet(pd.concat(parts, ignore_index=True), out / layout.PREDICTIONS)
    record = {
        "source_run": str(run_dir), "source_prepared": str(source.root),
        "target_prepared": str(target.root), "source_dataset": source.manifest.get("dataset"),
        "target_dataset": target.manifest.get("dataset"), "attribute_map": attribute_map,
        "epochs": epochs, "run_config": info["config"],
        "image_shape": {"source": list(src_shape), "target": list(tgt_shape),
                        "resized": src_shape != tgt_shape},
        "reproduction_check": {"rows": min(CHECK_ROWS, len(rows)), "max_abs_diff": check_diff},
        "n_test": int(len(test_rows)), "wall_seconds": time.time() - t0,
    }
    atomic_text(json.dumps(record, indent=2, sort_keys=True), out / "transfer.json")
    return out


def source_threshold(run_dir: Path, source: PreparedDataset, attribute: str, selection: str,
                     rule: str) -> tuple[float, int, int]:
    """(threshold, its epoch, number of val rows) fitted on the source val rows of the model
    that ``selection`` picks for ``attribute`` — the same value in-distribution evaluation uses."""
    preds = selected_predictions(run_dir, source, attribute, selection)
    val = preds[preds["split"] == "val"]
    if val.empty:
        raise UserError(f"{run_dir}: no val rows to fit the threshold on")
    t = choose_threshold(val["y"].to_numpy(), val["score"].to_numpy(), rule)
    return t, int(preds["epoch"].iloc[0]), len(val)


def evaluate_transfer(transfer_dir: str | Path, attribute: str, selection: str,
                      out_dir: str | Path, *, threshold: str = "youden", bootstrap: int = 0,
                      min_group_size: int = 20, seed: int = 0,
                      privileged: dict[str, str] | None = None,
                      target_specificity: float = 0.8) -> dict[str, Any]:
    """metrics.json + scored.parquet of one transferred run × attribute × selection.
    ``privileged`` may name groups of other attributes too (the config's); only ``attribute``'s
    is used."""
    tdir, out = Path(transfer_dir), Path(out_dir)
    if selection not in SELECTIONS:
        raise UserError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
    record_path = tdir / "transfer.json"
    if not record_path.exists():
        raise UserError(f"{tdir} holds no transfer.json; run `fairmedia transfer predict` first")
    record = json.loads(record_path.read_text())
    if attribute not in record["attribute_map"]:
        raise UserError(f"{tdir}: attribute {attribute!r} was not transferred; transferred: "
                        f"{sorted(record['attribute_map'])}")
    run_dir = Path(record["source_run"])
    source = load_prepared(record["source_prepared"], need_images=False)
    target = load_prepared(record["target_prepared"], need_images=False)
    rule = parse_rule(threshold)
    t, epoch, n_fit = source_threshold(run_dir, source, attribute, selection, str(rule))
    preds = pd.read_parquet(tdir / layout.PREDICTIONS)
    preds = preds[(preds["attribute"] == attribute) & (preds["selection"] == selection)]
    if preds.empty or int(preds["epoch"].iloc[0]) != epoch:
        raise UserError(f"{tdir / 'predictions.parquet'} does not hold epoch {epoch} that "
                        f"{selection!r} selects for {attribute!r}; rerun transfer predict")
    column = record["attribute_map"][attribute]
    groups = target.metadata[["sample_id", column]].rename(columns={column: attribute})
    df = preds.drop(columns=["attribute"]).merge(groups, on="sample_id", how="left",
                                                 validate="one_to_one")
    report = evaluate_predictions(
        df, [attribute], threshold=f"fixed:{float(t)!r}", bootstrap=bootstrap,
        min_group_size=min_group_size, seed=seed, source=str(tdir / layout.PREDICTIONS),
        privileged={k: v for k, v in (privileged or {}).items() if k == attribute},
        target_specificity=target_specificity,
    )
    report["threshold"] = {"value": t, "rule": str(rule), "fitted_on": "source val",
                           "n_fit": n_fit, "source_run": str(run_dir)}
    cfg = record["run_config"]
    report["run"] = {
        "run_dir": str(tdir), "method": cfg["method"], "arch": cfg["arch"],
        "train_attribute": cfg["attribute"], "seed": cfg["seed"], "selection": selection,
        "attribute": attribute, "epoch": epoch,
    }
    report["transfer"] = {"source_run": str(run_dir), "source": record["source_dataset"],
                          "target": record["target_dataset"], "target_column": column}
    out.mkdir(parents=True, exist_ok=True)
    # The decisions at the source-fitted threshold, as scored.parquet's contract says, so the
    # bootstrap does not depend on the fallback for files without them.
    scored = scored_frame(df, attribute_grouping(df, attribute, None, report["source"]), float(t))
    atomic_parquet(scored, out / layout.SCORED)
    atomic_text(json.dumps(report, indent=2, sort_keys=True), out / layout.METRICS)
    return report
