"""Write a prepared dataset derived from another by a semi-synthetic bias injection.

The protocol is that of Jones et al. (MICCAI 2023, "The role of subgroup separability in
group-fair medical image classification"): under-diagnosis is injected by relabelling a share of
one group's positive training labels as negative, and models are tested on clean labels. Here it
works on any prepared dataset (real or synthetic) and the spec (``injection_spec``) may also
subsample a group or a group's positives. Test rows and labels are never touched.

Rounding: each change acts on ``round_half_up(fraction × eligible)`` rows per split, where
``eligible`` is the number of the group's positives (or rows, for ``subsample``) in that split
*after* the earlier changes of the spec; ``underdiagnosis`` flips that many, the subsamples keep
that many. Which rows: a permutation drawn from ``numpy.random.default_rng([seed, change index,
split index])``, so a spec is deterministic for its seed and independent of the other splits.

Images: when no row is dropped, ``images.npy`` is a *relative symbolic link* to the base's file
(nothing copied, memory-mapping follows the link). A hard link would share the base file's
modification time, which is older than the base manifest the prepare rule reads as input, so
Snakemake would see the derived dataset as out of date on every run (and a hard link cannot
cross file systems). A subsample changes which image is row *i* (the contract ties row *i* of
``metadata.parquet`` to row *i* of ``images.npy``), so it writes the kept rows' images, a subset.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.data.injection_spec import EDITABLE_SPLITS, check_spec
from fairmedia.data.prepared import ImageArrayWriter, file_sha256, load_prepared, write_prepared
from fairmedia.errors import UserError

ORIGINAL_LABEL = "y_original"  # the base dataset's label, kept beside the injected `y`
CHUNK = 1024  # image rows copied at a time when a subsample writes its images


def round_half_up(x: float) -> int:
    # Python's round() rounds halves to even (round(2.5) == 2); half-up is the rule people expect.
    return int(np.floor(x + 0.5))


def apply_injection(metadata: pd.DataFrame, spec: dict[str, Any]
                    ) -> tuple[pd.DataFrame, np.ndarray, list[dict[str, Any]]]:
    """(derived metadata, mask of the base rows kept, one record per change × split).

    ``spec`` is a checked spec (``injection_spec.check_spec``). The derived metadata has the
    injected label in ``y`` and the base's in ``ORIGINAL_LABEL``."""
    meta = metadata.reset_index(drop=True).copy()
    if ORIGINAL_LABEL not in meta.columns:
        meta[ORIGINAL_LABEL] = meta["y"].to_numpy()
    y = meta["y"].to_numpy().copy()
    split = meta["split"].to_numpy()
    keep = np.ones(len(meta), dtype=bool)
    records = []
    for i, change in enumerate(spec["changes"]):
        group_of = meta[change["attribute"]].astype(str).to_numpy()
        for s in change["splits"]:
            in_group = keep & (split == s) & (group_of == change["group"])
            eligible = np.flatnonzero(in_group if change["kind"] == "subsample" else in_group & (y == 1))
            target = round_half_up(change["fraction"] * len(eligible))
            rng = np.random.default_rng([spec["seed"], i, EDITABLE_SPLITS.index(s)])
            order = rng.permutation(eligible)
            record = {"change": i, **{k: change[k] for k in ("kind", "attribute", "group")},
                      "split": s, "eligible": int(len(eligible)), "flipped": 0, "dropped": 0}
            if change["kind"] == "underdiagnosis":
                y[order[:target]] = 0
                record["flipped"] = target
            else:
                keep[order[target:]] = False
                record["dropped"] = int(len(eligible) - target)
            records.append(record)
    meta["y"] = y.astype(meta["y"].dtype)
    return meta[keep].reset_index(drop=True), keep, records


def change_counts(base: pd.DataFrame, records: list[dict[str, Any]]) -> dict[str, Any]:
    """``{split: {attribute: {group: {"flipped", "dropped"}}}}`` over every split and every
    group of each attribute a change names (zeros where nothing changed: the test split)."""
    out: dict[str, Any] = {}
    attributes = sorted({r["attribute"] for r in records})
    for s in sorted(base["split"].unique()):
        out[str(s)] = {a: {str(g): {"flipped": 0, "dropped": 0}
                           for g in sorted(base[a].astype(str).unique())} for a in attributes}
    for r in records:
        cell = out[r["split"]][r["attribute"]][r["group"]]
        cell["flipped"] += r["flipped"]
        cell["dropped"] += r["dropped"]
    return out


def _link_images(base_images: Path, out: Path) -> None:
    target = os.path.relpath(base_images.resolve(), out.resolve())
    tmp = out / (layout.IMAGES + ".link.partial")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, out / layout.IMAGES)  # atomic, replaces an older file or link


def _write_subset(images: np.ndarray, keep: np.ndarray, out: Path) -> None:
    rows = np.flatnonzero(keep)
    old = out / layout.IMAGES
    if old.is_symlink():  # never write through a link into the base's file
        old.unlink()
    writer = ImageArrayWriter(out, len(rows), tuple(images.shape[1:]))
    for lo in range(0, len(rows), CHUNK):
        writer.array[lo:lo + CHUNK] = images[rows[lo:lo + CHUNK]]
    writer.finalize()


def write_injected(base_dir: str | Path, spec: Any, out_dir: str | Path) -> Path:
    """Derive ``out_dir`` from the prepared dataset ``base_dir`` by ``spec`` (unchecked input:
    it is checked here against the base's attributes and the groups present in its data)."""
    base_dir, out = Path(base_dir), Path(out_dir)
    if out.resolve() == base_dir.resolve():
        raise UserError(f"--out {out} is the base dataset itself; write the derived one elsewhere")
    base = load_prepared(base_dir)
    if base.manifest.get("metadata_only"):
        raise UserError(f"{base_dir} is metadata-only (no images.npy); prepare it with images first")
    groups = {a: sorted(base.metadata[a].astype(str).unique()) for a in base.attributes}
    checked = check_spec(spec, "--spec", groups)
    meta, keep, records = apply_injection(base.metadata, checked)
    out.mkdir(parents=True, exist_ok=True)
    (out / layout.MANIFEST).unlink(missing_ok=True)  # the folder is unfinished until rewritten
    if keep.all():
        _link_images(base_dir / layout.IMAGES, out)
        images = "symlink"
    else:
        _write_subset(base.images, keep, out)
        images = "subset"
    injection = {
        "spec": checked,
        "base": {"path": str(base_dir), "dataset": base.manifest.get("dataset"),
                 "content_hash": base.content_hash()},
        "images": images,
        "original_label_column": ORIGINAL_LABEL,
        "changes": records,
        "counts": change_counts(base.metadata, records),
    }
    return write_prepared(
        out, meta, None, dataset=str(base.manifest.get("dataset")),
        card_version=base.manifest.get("card_version"), attributes=base.attributes,
        sources={f"base/{layout.METADATA}": file_sha256(base_dir / layout.METADATA)},
        options=base.manifest.get("options"), injection=injection)
