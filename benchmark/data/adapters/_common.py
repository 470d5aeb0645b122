"""The part of preparing that every real dataset shares.

An adapter reads its files into a *raw table* — ``sample_id, patient_id, path`` (relative to the
root), ``y`` (0/1, NaN to drop), optionally ``official_split``, and the raw attribute columns its
card's ``attribute_rules`` name — and hands it to :func:`finish`, which groups the attributes,
assigns the split, decodes the images and writes the prepared-dataset contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.data.adapters.attribute_rules import apply_attribute_rules, parse_numbers
from benchmark.data.adapters.image_decode import check_relative_paths, decode_images
from benchmark.data.prepared import file_sha256, write_prepared
from benchmark.data.splits import patient_split
from benchmark.errors import UserError

UNCERTAIN_POLICIES = ("zeros", "ones", "drop")


def locate(root: Path, card: dict[str, Any], key: str, *, required: bool = True) -> Path | None:
    """The first existing candidate path of ``card['files'][key]`` under ``root``."""
    spec = card["files"][key]
    candidates = spec.get("candidates", [key])
    for rel in candidates:
        path = root / rel
        if path.is_file():
            return path
    if required and spec.get("required", True):
        raise UserError(
            f"{card['name']}: expected file {candidates[0]!r} under {root} (looked for: "
            f"{', '.join(candidates)}). {spec.get('hint', '')}".strip()
        )
    return None


def read_table(path: Path, card: dict[str, Any], key: str, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV (plain or gzipped) or Excel file and check the card's expected columns."""
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            table = pd.read_excel(path, **kwargs)
        else:
            table = pd.read_csv(path, low_memory=False, **kwargs)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise UserError(f"{path}: could not be read as a table: {err}") from None
    return require_columns(table, card["files"][key].get("columns", []), path)


def require_columns(table: pd.DataFrame, columns: list[str], source: Path | str) -> pd.DataFrame:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"{source}: missing column(s) {missing}; columns present: {list(table.columns)}")
    return table


def uncertain_label(values: pd.Series, policy: str, source: str, column: str) -> pd.Series:
    """CheXpert-style label column (1 positive, 0 or blank negative, −1 uncertain) → 0/1, with
    uncertain mapped by the named policy (Irvin et al. 2019: U-Zeros, U-Ones, U-Ignore)."""
    if policy not in UNCERTAIN_POLICIES:
        raise UserError(f"label uncertain_policy {policy!r} is not one of {', '.join(UNCERTAIN_POLICIES)}")
    v = parse_numbers(values, source, column)
    bad = ~(v.isna() | v.isin([-1.0, 0.0, 1.0]))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{source}: row {pos + 1} of column {column!r} holds {values.iloc[pos]!r}; "
                        "expected 1, 0, -1 or blank")
    y = (v == 1.0).astype(float)
    y[v == -1.0] = {"zeros": 0.0, "ones": 1.0, "drop": np.nan}[policy]
    return y


def assign_split(table: pd.DataFrame, split: dict[str, Any], seed: int) -> np.ndarray:
    """``patient_random``: random patient split by ``fractions``; ``official``: the dataset's own
    train/val/test column; ``official_test``: the official test set, with val carved out of the
    official training patients (``val_fraction``)."""
    protocol = split.get("protocol", "patient_random")
    if protocol == "patient_random":
        return patient_split(table["patient_id"], tuple(split.get("fractions", (0.8, 0.1, 0.1))), seed)
    if protocol not in ("official", "official_test"):
        raise UserError(f"split protocol {protocol!r} is not patient_random, official or official_test")
    official = table["official_split"].to_numpy(dtype=object).copy()
    if protocol == "official_test":
        dev = official != "test"
        val_fraction = float(split.get("val_fraction", 0.1))
        fractions = (1 - val_fraction, val_fraction, 0.0)
        official[dev] = patient_split(table.loc[dev, "patient_id"], fractions, seed)
    return official


def image_paths(root: Path, names: pd.Series, folders: list[str], metadata_only: bool) -> pd.Series:
    """Path (relative to root) of each image file name, found in the first of ``folders`` (glob
    patterns, e.g. ``images_*/images`` for NIH's Kaggle layout) that holds it. A name found
    nowhere points into the first folder, so decoding reports it as unreadable."""
    first = folders[0].rstrip("/")
    default = names.map(lambda n: n if first in ("", ".") else f"{first}/{n}")
    if metadata_only:
        return default
    found: dict[str, str] = {}
    for pattern in folders:
        for folder in sorted(root.glob(pattern)) if pattern not in ("", ".") else [root]:
            if folder.is_dir():
                for entry in folder.iterdir():
                    found.setdefault(entry.name, entry.relative_to(root).as_posix())
    return pd.Series([found.get(n, d) for n, d in zip(names, default)], index=names.index, dtype=object)


def hash_sources(root: Path, paths: list[Path | None]) -> dict[str, str]:
    return {str(p.relative_to(root)): file_sha256(p) for p in paths if p is not None}


def _decode_2d(root: Path, out: Path, paths: list[str], image: dict[str, Any], workers: int
               ) -> list[tuple[int, str, str]]:
    return decode_images(root, out, paths, size=int(image.get("size", 256)),
                         channels=int(image.get("channels", 1)), workers=workers,
                         max_bad_fraction=float(image.get("max_bad_fraction", 0.01)))


def finish(
    raw: pd.DataFrame,
    root: Path,
    out: Path,
    *,
    card: dict[str, Any],
    sources: dict[str, str],
    metadata_only: bool,
    workers: int,
    seed: int | None,
    notes: dict[str, Any] | None = None,
    decode: Callable[[Path, Path, list[str], dict[str, Any], int], list[tuple[int, str, str]]]
    | None = None,
) -> Path:
    """Label drop, attribute rules, split, image decoding and manifest. ``decode(root, out, paths,
    image, workers)`` fills images.npy and returns the skipped rows; the default decodes 2D
    images (3D adapters pass their volume decoder)."""
    name = card["name"]
    seed = int(card["split"].get("seed", 0) if seed is None else seed)
    image = card.get("image", {})
    options = {
        "label": card["label"], "attribute_rules": card.get("attribute_rules", {}), "split": card["split"],
        "seed": seed, "image": image, "metadata_only": metadata_only, **(notes or {}),
    }
    fingerprint = hashlib.sha256(json.dumps([card, sources, options], sort_keys=True, default=str)
                                 .encode()).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        previous = json.loads(manifest_path.read_text())
        if previous.get("options", {}).get("fingerprint") == fingerprint:
            print(f"{name}: {out} is already prepared from the same files and card; nothing to do")
            return out
        manifest_path.unlink()  # never leave an old manifest next to half-rewritten files

    n_raw = len(raw)
    raw = raw[raw["y"].notna()].reset_index(drop=True)
    options["dropped_uncertain_or_unlabelled"] = n_raw - len(raw)
    table, dropped = apply_attribute_rules(raw, card.get("attribute_rules", {}), f"{name} metadata")
    options["dropped_unknown_attribute"] = dropped
    if table.empty:
        raise UserError(f"{name}: no rows left after applying the label and attribute rules")
    table["y"] = table["y"].astype(int)
    table["split"] = assign_split(table, card["split"], seed)

    skipped: list[tuple[int, str, str]] = []
    if metadata_only:
        (out / "images.npy").unlink(missing_ok=True)
    else:
        check_relative_paths(table["path"], root, f"{name} metadata")
        skipped = (decode or _decode_2d)(root, out, table["path"].tolist(), image, workers)
        if skipped:
            table = table.drop(index=[s[0] for s in skipped]).reset_index(drop=True)
    skipped_csv = out / "skipped_images.csv"
    pd.DataFrame(skipped, columns=["row", "path", "error"]).to_csv(skipped_csv, index=False)
    options["skipped_images"] = len(skipped)
    options["fingerprint"] = fingerprint

    attributes = list(card["attributes"])
    front = ["sample_id", "patient_id", "split", "y"]
    rest = [c for c in table.columns if c not in front and c != "official_split"]
    return write_prepared(out, table[front + rest], None, dataset=name, card_version=card["version"],
                          attributes=attributes, sources=sources, options=options)
