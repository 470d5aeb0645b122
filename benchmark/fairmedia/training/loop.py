"""The training loop: one run = one (dataset, arch, method, attribute, seed, hyperparameters).

Each epoch: train, score every val and test image, append a history row, save the epoch's weights
and an atomic checkpoint. A rerun resumes after the last checkpointed epoch and — on CPU — ends
bit-identical to an uninterrupted run, because every random draw comes from generators seeded by
(seed, epoch) or restored from the checkpoint. A checkpoint is resumed only when its identity
(configuration and the prepared data's content hash) is this run's; otherwise, or when it is
damaged, the run starts afresh — saying why — and the earlier run's files are removed.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from fairmedia import layout, provenance
from fairmedia.data.prepared import PreparedDataset, load_prepared
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.diagnostics import encoding
from fairmedia.errors import UserError
from fairmedia.methods.registry import get_method, resolve_hparams
from fairmedia.metrics.groups import attribute_grouping
from fairmedia.models.registry import build_model
from fairmedia.training import accelerate, outputs
from fairmedia.training.checkpoint import DamagedCheckpoint, load_checkpoint, save_atomic
from fairmedia.training.config import TrainConfig
from fairmedia.training.devices import resolve_device


def _groups(prepared: PreparedDataset, attribute: str) -> tuple[np.ndarray, list[str]]:
    if attribute == "any":
        return np.zeros(len(prepared.metadata), dtype=np.int64), ["all"]
    return prepared.attribute_codes(attribute)


def _val_summary(prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    meta = prepared.metadata.iloc[rows]
    val = (meta["split"] == "val").to_numpy()
    y, s = meta["y"].to_numpy()[val], scores[val]
    out = {"val_auc": float(roc_auc_score(y, s)) if len(np.unique(y)) > 1 else float("nan")}
    for attr in prepared.attributes:
        grouping = attribute_grouping(meta[val], attr, None, str(prepared.root))
        aucs = []
        for code, name in enumerate(grouping.keys):
            m = grouping.codes == code
            auc = float(roc_auc_score(y[m], s[m])) if len(np.unique(y[m])) > 1 else float("nan")
            out[f"val_auc_{attr}={name}"] = auc
            aucs.append(auc)
        out[f"val_worst_auc_{attr}"] = float(np.nanmin(aucs)) if np.isfinite(aucs).any() else float("nan")
    return out


def _bce(y: np.ndarray, scores: np.ndarray) -> float:
    """Mean binary cross-entropy of scored probabilities against labels (the validation loss)."""
    y = y.astype(np.float64)
    # float32 sigmoid outputs can be exactly 0 or 1; clip as torch's BCE clamps its log at -100
    p = np.clip(scores.astype(np.float64), np.exp(-100.0), 1.0 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def _train_inputs(dataset: PreparedImageDataset, batch_size: int, steps: int,
                  accel: accelerate.Acceleration, num_workers: int
                  ) -> Callable[[], Iterator[torch.Tensor]]:
    """A callable giving one epoch's worth (``steps`` batches) of training images on the device
    in a fixed order — for a method that recomputes batch-norm statistics
    (``torch.optim.swa_utils.update_bn``). The workers' seeds come from a fixed generator, so the
    pass does not move the global random state that a resumed run restores."""
    def batches() -> Iterator[torch.Tensor]:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                            generator=torch.Generator().manual_seed(0),
                            **accel.loader_options(num_workers))
        for step, (x, *_rest) in enumerate(loader):
            if step >= steps:
                break
            yield accel.to_device(x)
    return batches


@torch.no_grad()
def score_rows_and_features(
    method: Any, loader: DataLoader, device: torch.device,
    accel: accelerate.Acceleration | None = None, *, features: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores (probability of y = 1) of the loader's rows and, with ``features``, the penultimate
    features: the input of ``method.feature_layer()``, caught by a forward pre-hook in the same
    pass, so every method's own ``predict`` path (harmonised inputs, averaged networks, group
    heads) is what the features come from, at no extra forward pass."""
    accel = accel or accelerate.Acceleration(device)
    method.eval()
    out, caught = [], []
    hook = (method.feature_layer().register_forward_pre_hook(
        lambda _module, inputs: caught.append(inputs[0].detach().float().cpu()))
        if features else None)
    try:
        for x, _, a, _ in loader:
            with accel.autocast():
                logits = method.predict(accel.to_device(x), accel.to_device(a))
            out.append(torch.sigmoid(logits.float()).cpu())
    finally:
        if hook is not None:
            hook.remove()
    method.train()
    if features and len(caught) != len(out):
        raise RuntimeError(f"{type(method).__name__}.feature_layer() is not called by its "
                           "predict(): no penultimate features were caught")
    feats = torch.cat(caught).flatten(1).numpy() if features else None
    return torch.cat(out).numpy(), feats


def score_rows(
    method: Any, loader: DataLoader, device: torch.device,
    accel: accelerate.Acceleration | None = None,
) -> np.ndarray:
    return score_rows_and_features(method, loader, device, accel, features=False)[0]


def remove_partial_files(out: Path) -> None:
    """Half-written files of a killed job (``*.partial``) are never read; drop them on restart."""
    for path in out.rglob("*.partial"):
        path.unlink(missing_ok=True)


# What a run writes besides its checkpoint; removed when a run starts afresh so that nothing of
# an earlier, different run (other data, other configuration) sits beside the new one's files.
RUN_OUTPUTS = (layout.RUN_JSON, layout.PREDICTIONS, layout.EPOCH_SCORES, layout.HISTORY)


def clear_run_outputs(out: Path) -> None:
    shutil.rmtree(out / layout.WEIGHTS, ignore_errors=True)
    shutil.rmtree(out / layout.FEATURES, ignore_errors=True)
    shutil.rmtree(out / "tmp", ignore_errors=True)
    for name in (layout.CHECKPOINT, *RUN_OUTPUTS):
        (out / name).unlink(missing_ok=True)


def _load_resumable(ckpt_path: Path, log) -> dict[str, Any] | None:
    """The checkpoint, or None when there is none or it is damaged. A damaged one (empty, cut
    short) cannot come from our atomic writes, only from outside (disk, copy): it is moved aside
    to ``checkpoint.pt.corrupt`` for inspection and the run starts afresh, so a retry is not
    blocked forever. One holding foreign objects is refused (load_checkpoint's UserError): this
    program never writes such a file, and a person should look at it."""
    if not ckpt_path.exists():
        return None
    try:
        return load_checkpoint(ckpt_path)
    except DamagedCheckpoint as err:
        aside = ckpt_path.with_name(ckpt_path.name + ".corrupt")
        os.replace(ckpt_path, aside)
        log(f"{ckpt_path}: checkpoint is damaged ({err.reason}); moved it to {aside} and starting "
            "afresh")
        return None


def _why_not_resumable(ckpt: dict[str, Any], identity: str, parts: dict[str, Any]) -> str | None:
    """None when the checkpoint belongs to this run (same configuration, same data); else why not."""
    if ckpt.get("identity") == identity:
        return None
    old = ckpt.get("identity_parts")
    if not isinstance(old, dict):
        return ("checkpoint records no hash of the prepared data it was trained on (written by an "
                "older version), so it cannot be shown to belong to this dataset")
    reasons = []
    old_hash, new_hash = old.get("dataset_content_hash"), parts["dataset_content_hash"]
    if old_hash != new_hash:
        reasons.append(f"checkpoint was trained on prepared data with hash {str(old_hash)[:16]}, "
                       f"this dataset has hash {new_hash[:16]}")
    old_cfg, new_cfg = old.get("config") or {}, parts["config"]
    changed = sorted(k for k in {*old_cfg, *new_cfg} if old_cfg.get(k) != new_cfg.get(k))
    if changed:
        reasons.append("checkpoint is from a different configuration ("
                       + ", ".join(f"{k}: {old_cfg.get(k)!r} -> {new_cfg.get(k)!r}" for k in changed)
                       + ")")
    return "; ".join(reasons) or "checkpoint is from a different run identity"


def train_run(cfg: TrainConfig, log=print) -> Path:
    t0 = time.time()
    out = Path(cfg.out)
    prepared = load_prepared(cfg.prepared)
    method_cls = get_method(cfg.method)
    if cfg.attribute == "any" and method_cls.uses_attribute:
        raise UserError(f"method {cfg.method!r} trains with the sensitive attribute; name one "
                        f"(available: {prepared.attributes}) instead of 'any'")
    if cfg.attribute != "any":
        prepared.check_attribute(cfg.attribute)
    if prepared.spatial_dims == 3 and not method_cls.supports_3d:
        raise UserError(f"method {cfg.method!r} does not run on 3D data: {method_cls.unsupported_reason}")
    hp = resolve_hparams(cfg.method, cfg.hparams, sample_seed=cfg.hparam_sample)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device, device_line = resolve_device(cfg.device)
    torch.use_deterministic_algorithms(device.type == "cpu", warn_only=True)
    accel = accelerate.resolve(device, amp=cfg.amp, channels_last=cfg.channels_last,
                               compile=cfg.compile, pin_memory=cfg.pin_memory,
                               spatial_dims=prepared.spatial_dims, log=log)
    tag = f"[{cfg.method} {cfg.arch} {cfg.attribute} seed{cfg.seed}]"
    # Where and in which precision a run computes, first in its log: a GPU node that silently
    # trains on the CPU, or an AMP run in fp32, is seen before the first epoch ends.
    precision = f"{accel.describe()['amp']} autocast (AMP)" if accel.amp_dtype else "fp32"
    log(f"{tag} {device_line}; precision {precision}")

    groups, group_names = _groups(prepared, cfg.attribute)
    train_rows = prepared.indices("train")
    val_rows = prepared.indices("val")
    eval_rows = np.concatenate([val_rows, prepared.indices("test")])
    if len(train_rows) == 0 or len(eval_rows) == 0:
        raise UserError(f"{prepared.root}: needs train, val and test rows")
    train_ds = PreparedImageDataset(prepared, train_rows, groups)
    if cfg.augment:
        from fairmedia.data.transforms import train_transform

        train_ds.transform = train_transform(prepared.spatial_dims, tuple(prepared.images.shape[1:]))
    eval_loader = DataLoader(
        PreparedImageDataset(prepared, eval_rows, groups), batch_size=cfg.eval_batch_size,
        shuffle=False, **accel.loader_options(cfg.num_workers),
    )
    val_loader = DataLoader(
        PreparedImageDataset(prepared, val_rows, groups), batch_size=cfg.eval_batch_size,
        shuffle=False, **accel.loader_options(cfg.num_workers),
    )
    y_val = prepared.metadata["y"].to_numpy()[val_rows]
    steps = len(train_rows) // cfg.batch_size or 1
    if cfg.max_steps_per_epoch:
        steps = min(steps, cfg.max_steps_per_epoch)

    torch.manual_seed(cfg.seed)
    model = build_model(cfg.arch, prepared.images.shape[1], spatial_dims=prepared.spatial_dims,
                        pretrained=cfg.pretrained)
    method = method_cls(model, len(group_names), hp, lr=cfg.lr, weight_decay=cfg.weight_decay,
                        epochs=cfg.epochs, steps_per_epoch=steps).to(device)
    accel.prepare_model(method.model)
    method.train_inputs = _train_inputs(train_ds, cfg.batch_size, steps, accel, cfg.num_workers)
    y_train = prepared.metadata["y"].to_numpy()[train_rows]

    out.mkdir(parents=True, exist_ok=True)
    remove_partial_files(out)
    ckpt_path = out / layout.CHECKPOINT
    dataset_hash = prepared.content_hash(log)
    identity = cfg.identity(dataset_hash)
    identity_parts = {"config": cfg.identity_fields(), "dataset_content_hash": dataset_hash}
    history: list[dict[str, Any]] = []
    scores = np.zeros((0, len(eval_rows)), dtype=np.float32)
    start_epoch = 0
    ckpt = _load_resumable(ckpt_path, log)
    if ckpt is not None:
        why = _why_not_resumable(ckpt, identity, identity_parts)
        if why:
            log(f"{ckpt_path}: {why}; starting afresh")
        else:
            method.load_state_dict(ckpt["method"])
            for name, opt in method.optimizers().items():
                opt.load_state_dict(ckpt["optimizers"][name])
            torch.set_rng_state(ckpt["rng"])
            history, scores = ckpt["history"], ckpt["scores"].numpy()
            start_epoch = int(ckpt["epoch"]) + 1
            log(f"resuming {out} after epoch {start_epoch}/{cfg.epochs}")
    if start_epoch == 0:
        clear_run_outputs(out)

    for epoch in range(start_epoch, cfg.epochs):
        te = time.time()
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        sampler = method.train_sampler(y_train, groups[train_rows], gen)
        loader = DataLoader(
            train_ds, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler,
            generator=gen, drop_last=len(train_rows) > cfg.batch_size,
            **accel.loader_options(cfg.num_workers),
        )
        method.train()
        logs: list[dict[str, float]] = []
        points = max(1, int(method.validation_points()))
        within = {round(steps * j / points) for j in range(1, points)} - {0, steps}
        for step, (x, y, a, _) in enumerate(loader):
            if step >= steps:
                break
            with accel.autocast():  # bf16 autocast on a GPU when asked; a no-op otherwise
                logs.append(method.update(accel.to_device(x), accel.to_device(y), accel.to_device(a)))
            if step + 1 in within:  # a validation point inside the epoch: val rows only
                val_scores = score_rows(method, val_loader, device, accel)
                method.on_validation(epoch, _bce(y_val, val_scores), end_of_epoch=False)
        method.on_epoch_end(epoch)
        epoch_scores, feats = score_rows_and_features(method, eval_loader, device, accel)
        val_loss = _bce(y_val, epoch_scores[:len(val_rows)])  # eval rows: val, then test
        if method.on_validation(epoch, val_loss):  # the network to score changed (SWAD's end)
            epoch_scores, feats = score_rows_and_features(method, eval_loader, device, accel)
        scores = np.concatenate([scores, epoch_scores[None]], axis=0)
        row = {"epoch": epoch, **pd.DataFrame(logs).mean().to_dict()}
        # val_loss is of the network the method was first scored with this epoch (what
        # on_validation saw); candidate: whether model selection may choose this epoch.
        row["val_loss"] = val_loss
        row["candidate"] = bool(method.selection_candidate(epoch))
        row.update(_val_summary(prepared, eval_rows, epoch_scores))
        tp = time.time()
        # The float16 features the file keeps, so the recorded score is recomputable from it.
        feats = feats.astype(np.float16)
        row.update({f"{outputs.ENCODING_PREFIX}{attr}": auc for attr, auc in
                    encoding.epoch_encoding(prepared, val_rows, feats[:len(val_rows)]).items()})
        encoding.save_features(out, epoch, prepared.metadata["sample_id"].to_numpy()[eval_rows],
                               feats)
        row["encoding_seconds"] = time.time() - tp  # probe + features file: the added cost
        row["seconds"] = time.time() - te
        history.append(row)
        save_atomic(method.eval_model().state_dict(), layout.weights_file(out, epoch))
        save_atomic(
            {"identity": identity, "identity_parts": identity_parts, "epoch": epoch,
             "method": method.state_dict(),
             "optimizers": {k: o.state_dict() for k, o in method.optimizers().items()},
             "rng": torch.get_rng_state(), "history": history, "scores": torch.from_numpy(scores)},
            ckpt_path,
        )
        worst = {k: v for k, v in row.items() if k.startswith("val_worst_auc_")}
        worst_txt = "  ".join(f"worst-group AUC {v:.3f} ({k[14:]})" for k, v in worst.items())
        log(f"{tag} epoch {epoch + 1}/{cfg.epochs}  loss {row.get('loss', float('nan')):.4f}  "
            f"val AUC {row['val_auc']:.3f}  {worst_txt}  {row['seconds']:.1f}s")
        sys.stdout.flush()

    selected = _finish(cfg, prepared, eval_rows, scores, history, hp, accel, t0, identity)
    log(summary_line(tag, cfg.epochs, start_epoch, selected, time.time() - t0, out))
    return out


def summary_line(tag: str, epochs: int, resumed_after: int, selected: tuple[str, dict[str, int]],
                 seconds: float, out: Path) -> str:
    """The run's last log line: epochs, the epoch each model-selection criterion chose, time."""
    attribute, epochs_by = selected
    chosen = ", ".join(f"{c} {e + 1}" for c, e in epochs_by.items())
    resumed = f", resumed after epoch {resumed_after}" if resumed_after else ""
    return (f"{tag} done: {epochs} epochs{resumed}; selected epoch (by val, {attribute}): "
            f"{chosen}; {seconds:.1f}s; outputs in {out}")


def _finish(cfg: TrainConfig, prepared: PreparedDataset, eval_rows: np.ndarray, scores: np.ndarray,
            history: list[dict[str, Any]], hp: dict[str, Any], accel: accelerate.Acceleration,
            t0: float, identity: str) -> tuple[str, dict[str, int]]:
    """Write the run's outputs; return the selection attribute and the epoch (0-based) each
    criterion selects for it."""
    out = Path(cfg.out)
    candidates = outputs.candidate_epochs(history)
    enc = outputs.encoding_by_epoch(history)
    keep: set[int] = set()
    selected: dict[str, dict[str, int]] = {}
    for attr in prepared.attributes or ["any"]:
        selected[attr] = outputs.selected_epochs(prepared, eval_rows, scores, attr,
                                                 candidates=candidates, encoding=enc)
        keep.update(selected[attr].values())
    kept_files = [*(out / layout.WEIGHTS).glob("epoch*.pt"),
                  *(out / layout.FEATURES).glob("epoch*.npz")]
    for path in kept_files:
        if layout.weights_epoch(path) not in keep:  # only epochs some criterion selects are kept
            path.unlink()
    sel_attr = cfg.attribute if cfg.attribute != "any" else (prepared.attributes or ["any"])[0]
    outputs.atomic_parquet(outputs.epoch_scores_frame(prepared, eval_rows, scores,
                                                      candidates=candidates, encoding=enc),
                           out / layout.EPOCH_SCORES)
    outputs.atomic_parquet(outputs.predictions_frame(prepared, eval_rows, scores, sel_attr,
                                                     candidates=candidates, encoding=enc),
                           out / layout.PREDICTIONS)
    hist = pd.DataFrame(history)
    outputs.atomic_text(hist.to_csv(index=False), out / layout.HISTORY)
    info = {
        "config": asdict(cfg), "hparams": hp, "seed": cfg.seed, "identity": identity,
        "dataset_manifest": {**{k: prepared.manifest.get(k) for k in ("dataset", "card_version", "n",
                                                                     "image_shape", "options")},
                             "content_hash": prepared.content_hash(),
                             # a derived dataset's spec, base hash and counts (data/injection.py)
                             **({"injection": prepared.manifest["injection"]}
                                if "injection" in prepared.manifest else {})},
        "selection_attribute": sel_attr, "epochs_kept": sorted(keep),
        "selection_candidates": [int(e) for e in candidates],
        "code": provenance.git_commit(), "packages": provenance.package_versions(),
        "device": provenance.device_info(accel.device), "acceleration": accel.describe(),
        "scheduler": provenance.scheduler_info(),
        "wall_seconds": time.time() - t0,
        "train_seconds_per_epoch": float(hist["seconds"].mean()) if len(hist) else None,
    }
    outputs.write_run_json(out, info)
    shutil.rmtree(out / "tmp", ignore_errors=True)
    return sel_attr, selected.get(sel_attr) or next(iter(selected.values()))
