"""Subgroup separability: how well the sensitive attribute itself can be predicted from the image.

Jones et al., MICCAI 2023 ("The role of subgroup separability in group-fair medical image
classification"): an attribute classifier's test AUC tells whether a label bias against one group
can be learnt by a disease model at all. Here a model from the zoo is trained to predict the
attribute's groups on the train split; the epoch with the best val AUC of the attribute is kept and
its test AUC (one-vs-rest macro for more than two groups, as ``sklearn.metrics.roc_auc_score(...,
multi_class="ovr", average="macro")``) is reported with a patient-clustered bootstrap CI.

The training loop is a small dedicated one rather than ``training.loop.train_run``: that loop is
built around a binary disease label, fairness methods, resumable checkpoints and the run layout
(``predictions.parquet``, per-group model selection); predicting a k-class attribute would need a
different head, loss and selection rule threaded through all of it. What is reused: the prepared
loader and its grouper (``PreparedDataset.attribute_codes``), the torch dataset, the model zoo,
the device resolution and the project's bootstrap/AUC kernels.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset, load_prepared
from fairmedia.errors import UserError
from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.bootstrap import ClusteredResampler, percentile_ci
from fairmedia.progress import progress

SPLITS = ("train", "val", "test")


def scores_path(out: str | Path) -> Path:
    """Where the per-row val and test scores go: ``FILE.scores.parquet`` beside ``FILE.json``."""
    return Path(layout.separability_scores(out))


def check_groups(prepared: PreparedDataset, attribute: str) -> tuple[np.ndarray, list[str]]:
    """Group codes of every row; every split must hold at least two groups (else no AUC)."""
    if attribute not in prepared.attributes:
        raise UserError(f"attribute {attribute!r} is not an attribute of {prepared.root} "
                        f"(manifest.json); valid attributes: {', '.join(prepared.attributes)}")
    codes, names = prepared.attribute_codes(attribute)
    split = prepared.metadata["split"].to_numpy()
    for s in SPLITS:
        present = sorted({names[c] for c in codes[split == s]})
        if len(present) < 2:
            raise UserError(f"{prepared.root / 'metadata.parquet'}: the {s} split has "
                            f"{'only group ' + repr(present[0]) if present else 'no rows'} of "
                            f"attribute {attribute!r}; separability needs at least two groups in "
                            "each of train, val and test")
    return codes, names


def ovr_auc(codes: np.ndarray, probs: np.ndarray, n_groups: int,
            weights: np.ndarray | None = None) -> np.ndarray:
    """(B,) AUCs: binary AUC of group 1's probability for two groups, else the unweighted mean of
    the one-vs-rest AUCs (sklearn's ``multi_class="ovr", average="macro"``), per weight column.
    Uses the project's weighted AUC kernel so B resamples cost one sort per class."""
    zeros = np.zeros(len(codes), dtype=np.int64)
    if n_groups == 2:
        return GroupedAUC((codes == 1).astype(int), probs[:, 1], zeros, 1)(weights)[:, 0]
    per_class = [GroupedAUC((codes == c).astype(int), probs[:, c], zeros, 1)(weights)[:, 0]
                 for c in range(n_groups)]
    return np.mean(per_class, axis=0)


def _predict(model: Any, loader: Any, device: Any) -> np.ndarray:
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for x, *_ in loader:
            out.append(torch.softmax(model(x.to(device)).float(), dim=1).cpu())
    model.train()
    return torch.cat(out).numpy().astype(np.float64)


def run_separability(prepared_dir: str | Path, attribute: str, out: str | Path, *,
                     arch: str = "cnn-small", epochs: int = 5, seed: int = 0,
                     bootstrap: int = 1000, batch_size: int = 64, lr: float = 1e-3,
                     weight_decay: float = 1e-4, device: str = "auto", level: float = 0.95,
                     log=print) -> dict[str, Any]:
    """Train the attribute classifier, write ``out`` (JSON) and its scores parquet; return the
    JSON content."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    from fairmedia.data.torch_dataset import PreparedImageDataset
    from fairmedia.models.registry import build_model
    from fairmedia.training.devices import resolve_device

    t0 = time.time()
    root = Path(prepared_dir)
    if not root.is_dir():
        raise UserError(f"--prepared {root}: no such folder (run `fairmedia prepare` or "
                        "`fairmedia synth` to create it)")
    prepared = load_prepared(root)
    codes, names = check_groups(prepared, attribute)
    k = len(names)
    dev, device_line = resolve_device(device)
    log(f"[separability {attribute} {arch} seed{seed}] {device_line}; {k} groups: {names}")
    rows = {s: prepared.indices(s) for s in SPLITS}

    torch.manual_seed(seed)
    model = build_model(arch, prepared.images.shape[1], spatial_dims=prepared.spatial_dims)
    model.head = nn.Linear(model.feature_dim, k)  # one logit per group (softmax), not the 1-logit head
    model = model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    train_ds = PreparedImageDataset(prepared, rows["train"], codes)
    loaders = {s: DataLoader(PreparedImageDataset(prepared, rows[s], codes), batch_size=256)
               for s in ("val", "test")}

    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, Any]] | None = None
    for epoch in progress(range(epochs), total=epochs, desc="separability", unit="epoch"):
        gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=gen,
                            drop_last=len(train_ds) > batch_size)
        losses = []
        for x, _y, a, _i in loader:
            opt.zero_grad()
            loss = loss_fn(model(x.to(dev)), a.to(dev))
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        val_probs = _predict(model, loaders["val"], dev)
        val_auc = float(ovr_auc(codes[rows["val"]], val_probs, k)[0])
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_auc": val_auc})
        log(f"  epoch {epoch + 1}/{epochs}  loss {history[-1]['loss']:.4f}  val AUC {val_auc:.3f}")
        if best is None or val_auc > best[0]:  # first best epoch wins ties
            best = (val_auc, epoch, {n: p.detach().clone() for n, p in model.state_dict().items()})
    assert best is not None  # epochs >= 1 is checked by the command
    model.load_state_dict(best[2])
    test_probs = _predict(model, loaders["test"], dev)
    # rescored from the restored weights (not the copy kept at selection), so the saved val AUC
    # proves the test scores come from the selected epoch's model
    val_probs = _predict(model, loaders["val"], dev)
    test_codes = codes[rows["test"]]
    auc = float(ovr_auc(test_codes, test_probs, k)[0])

    meta = prepared.metadata.iloc[rows["test"]]
    clusters = meta["patient_id"].to_numpy() if "patient_id" in meta.columns else None
    # Strata = the attribute's group, so every resample keeps each group's number of patients.
    resampler = ClusteredResampler(test_codes, clusters)
    samples = np.concatenate([ovr_auc(test_codes, test_probs, k, w)
                              for w in resampler.blocks(bootstrap, seed)]) if bootstrap else None
    low, high = percentile_ci(samples, level) if samples is not None else (np.nan, np.nan)

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # val rows too (of the selected epoch), so both the selection and the estimate can be checked
    both = np.concatenate([rows["val"], rows["test"]])
    probs = np.concatenate([val_probs, test_probs])
    scores = pd.DataFrame({"split": prepared.metadata["split"].to_numpy()[both],
                           "sample_id": prepared.metadata["sample_id"].to_numpy()[both],
                           "patient_id": prepared.metadata["patient_id"].to_numpy()[both],
                           attribute: [names[c] for c in codes[both]], "code": codes[both]})
    for c, name in enumerate(names):
        scores[f"p_{name}"] = probs[:, c]
    scores_file = scores_path(out)
    scores.to_parquet(scores_file, index=False)
    split = prepared.metadata["split"].to_numpy()
    result = {
        "attribute": attribute, "groups": names,
        "auc": auc, "ci": [float(low), float(high)], "ci_level": level, "n_boot": bootstrap,
        "auc_kind": f"binary ({names[1]!r} vs {names[0]!r})" if k == 2 else "ovr macro",
        "n_per_group": {s: {n: int(np.sum(codes[split == s] == c)) for c, n in enumerate(names)}
                        for s in SPLITS},
        "arch": arch, "epochs": epochs, "selected_epoch": best[1] + 1, "val_auc": best[0],
        "seed": seed, "lr": lr, "batch_size": batch_size, "weight_decay": weight_decay,
        "prepared": str(root), "dataset": prepared.manifest.get("dataset"),
        "content_hash": prepared.content_hash(log),
        "scores": scores_file.name, "history": history, "wall_seconds": time.time() - t0,
    }
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    log(f"separability of {attribute}: test AUC {auc:.3f} [{low:.3f}, {high:.3f}] "
        f"(epoch {best[1] + 1} by val AUC {best[0]:.3f}); wrote {out} and {scores_file}")
    return result
