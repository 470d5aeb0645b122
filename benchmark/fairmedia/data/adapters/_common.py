"""The part of preparing that every real dataset shares.

An adapter reads its files into a *raw table* — ``sample_id, patient_id, path`` (relative to the
root), ``y`` (0/1, NaN to drop), optionally ``official_split``, and the raw attribute columns its
card's ``attribute_rules`` name — and hands it to :func:`finish`, which groups the attributes,
assigns the split, decodes the images and writes the prepared-dataset contract.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.adapters._attribute_rules import apply_attribute_rules, parse_numbers
from fairmedia.data.adapters._image_decode import check_relative_paths, decode_images
from fairmedia.data.prepared import file_sha256, validate_metadata, write_prepared
from fairmedia.data.splits import patient_split
from fairmedia.errors import UserError

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
    raw = raw.assign(**{_RAW_ROW: np.arange(n_raw)})  # for messages naming metadata rows
    raw = raw[raw["y"].notna()].reset_index(drop=True)
    options["dropped_uncertain_or_unlabelled"] = n_raw - len(raw)
    rules = card.get("attribute_rules", {})
    table, dropped = apply_attribute_rules(raw, rules, f"{name} metadata")
    options["dropped_unknown_attribute"] = dropped
    if table.empty:
        raise UserError(_no_rows_left(name, n_raw, len(raw), card, dropped))
    reject_duplicate_ids(table, f"{name} metadata")  # before hours of decoding, not after
    raw_rows = table.pop(_RAW_ROW)
    table["y"] = table["y"].astype(int)
    table["split"] = assign_split(table, card["split"], seed)
    attributes = list(card["attributes"])
    validate_metadata(table, attributes, f"{name} metadata")  # splits, labels, leaks: before decoding

    skipped: list[tuple[int, str, str]] = []
    if metadata_only:
        (out / "images.npy").unlink(missing_ok=True)
    else:
        check_relative_paths(table["path"], root, f"{name} metadata", rows=raw_rows)
        with disk_full_is_user_error(out / "images.npy.partial", resumable=True):
            skipped = (decode or _decode_2d)(root, out, table["path"].tolist(), image, workers)
        if skipped:
            table = table.drop(index=[s[0] for s in skipped]).reset_index(drop=True)
    skipped_csv = out / "skipped_images.csv"
    with disk_full_is_user_error(skipped_csv):
        pd.DataFrame(skipped, columns=["row", "path", "error"]).to_csv(skipped_csv, index=False)
    options["skipped_images"] = len(skipped)
    options["fingerprint"] = fingerprint

    front = ["sample_id", "patient_id", "split", "y"]
    rest = [c for c in table.columns if c not in front and c != "official_split"]
    with disk_full_is_user_error(out):
        # A segmentation card (``task: segmentation``, ``classes``) has its decoder fill masks.npy.
        return write_prepared(out, table[front + rest], None, dataset=name,
                              card_version=card["version"], attributes=attributes,
                              sources=sources, options=options,
                              task=card.get("task", "classification"), classes=card.get("classes"))


_RAW_ROW = "_raw_row"  # position in the adapter's raw table, dropped before anything is written
_SHOWN = 5


def _no_rows_left(name: str, n_raw: int, n_labelled: int, card: dict[str, Any],
                  dropped: dict[str, int]) -> str:
    """Which step removed the rows, with the count each step removed."""
    if n_raw == 0:
        return (f"{name}: the metadata read from --root has no rows (after the adapter's own "
                "filters, e.g. views); check the metadata file and the card's files section")
    label = card.get("label", {})
    steps = [(f"the label rule (column {label.get('column')!r}"
              + (f", uncertain_policy {label['uncertain_policy']!r}" if "uncertain_policy" in label
                 else "") + ") dropped unlabelled or uncertain rows", n_raw - n_labelled)]
    rules = card.get("attribute_rules", {})
    for rule, count in dropped.items():
        steps.append((f"attribute rule {rule!r} (column {rules[rule].get('column')!r}, "
                      "unknown: drop) dropped rows with an unknown value", count))
    left, parts, culprit = n_raw, [], None
    for text, count in steps:
        left -= count
        parts.append(f"{text}: {count}, leaving {left}")
        if left == 0 and culprit is None and count:
            culprit = text.split(" (")[0]
    remedy = ("check the label column's values, or the card's label section"
              if culprit == "the label rule" else
              "set unknown: keep for that rule in an edited copy of the card (--card), or check "
              "the values of its column (its map must name them)")
    return (f"{name}: no rows left to prepare; {culprit} removed the last of them. {n_raw} rows "
            f"read; " + "; ".join(parts) + f". To fix: {remedy}")


def reject_duplicate_ids(table: pd.DataFrame, source: str) -> None:
    """A sample_id on several rows is an error naming the ids and their metadata rows (checked on
    the metadata, before any image is decoded)."""
    repeated = table["sample_id"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    ids = pd.unique(table.loc[repeated, "sample_id"])
    examples = []
    for sid in ids[:_SHOWN]:
        rows = table.loc[table["sample_id"] == sid, _RAW_ROW].to_numpy() + 1
        examples.append(f"{sid!r} (rows {', '.join(map(str, rows))})")
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    raise UserError(f"{source}: {len(ids)} sample_id(s) appear on more than one row: "
                    f"{'; '.join(examples)}{more} (rows of the metadata as read, 1-based); each "
                    "image must be listed once: remove the repeated rows")


@contextlib.contextmanager
def disk_full_is_user_error(target: Path, *, resumable: bool = False) -> Iterator[None]:
    """A full disk (or quota) while writing ``target`` becomes a ``UserError`` naming the file.
    Nothing written so far is removed: with ``resumable`` (the image array), the finished rows in
    images.npy.partial and images.progress.npz are kept and the same command resumes."""
    try:
        yield
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = err.filename or target
        then = ("the images decoded so far are kept (images.npy.partial) and rerunning the same "
                "command resumes from them" if resumable else "then rerun the same command")
        raise UserError(f"no space left on the device while writing {where} "
                        f"({err.strerror or err}); free space there (or choose another --out); "
                        f"{then}") from None
