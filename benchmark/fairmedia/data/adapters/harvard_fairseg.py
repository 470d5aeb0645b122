"""Harvard-FairSeg (Tian et al., ICLR 2024): one ``data_XXXXX.npz`` per subject holding the SLO
fundus image, its optic disc/cup mask and the subject's attributes (race, gender, ethnicity,
language, marital status, age); ``data_summary.csv`` beside them. See
``datasets/harvard-fairseg.yaml`` for the keys, the mask values and the split.

The attributes are read from the .npz files, the documented place for them (FairSeg's README
and loader), so the adapter does not depend on the summary table's columns; the table only gives
the official split of files that do not lie in a Training/Test folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from fairmedia import layout
from fairmedia.data.adapters._common import finish, hash_sources, locate, read_table
from fairmedia.data.prepared import ImageArrayWriter
from fairmedia.errors import UserError

SPLIT_FOLDERS = {"training": "train", "train": "train", "validation": "val", "val": "val",
                 "test": "test", "testing": "test"}
DAYS_PER_YEAR = 365.25
NPZ_LISTING = "*.npz (names and sizes)"


def _listing_hash(root: Path, paths: pd.Series) -> str:
    """A cheap stand-in for hashing ~10 GB of .npz files on every prepare: their names and byte
    sizes, so an added, removed or re-exported file changes the fingerprint."""
    listing = "\n".join(f"{p}\t{(root / p).stat().st_size}" for p in sorted(paths))
    return hashlib.sha256(listing.encode()).hexdigest()


def _key(data: Any, names: list[str], path: Path, what: str) -> str:
    for name in names:
        if name in data.files:
            return name
    raise UserError(f"{path}: no {what} key; expected one of {names}, found {sorted(data.files)}")


def _scalar(value: np.ndarray) -> Any:
    return value.item() if value.size == 1 else value


def _code(value: Any) -> str:
    """Integer codes as "0", "1", "-1" (stored as ints, floats or strings)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).strip()
    return str(int(number)) if number.is_integer() else str(number)


def _split_of_folder(path: Path, root: Path) -> str | None:
    for part in reversed(path.relative_to(root).parts[:-1]):
        if part.lower() in SPLIT_FOLDERS:
            return SPLIT_FOLDERS[part.lower()]
    return None


def _summary_splits(root: Path, card: dict[str, Any]) -> tuple[dict[str, str], Path | None]:
    path = locate(root, card, "data_summary.csv", required=False)
    if path is None:
        return {}, None
    table = read_table(path, card, "data_summary.csv")
    if not {"filename", "use"} <= set(table.columns):
        return {}, path
    names = table["filename"].astype(str).str.strip()
    names = names.where(names.str.lower().str.endswith(".npz"), names + ".npz")
    use = table["use"].astype(str).str.strip().str.lower().map(SPLIT_FOLDERS)
    return dict(zip(names, use)), path


def read_raw(root: Path, card: dict[str, Any]) -> tuple[pd.DataFrame, list[Path]]:
    files = sorted(root.rglob("*.npz"))
    if not files:
        raise UserError(f"{card['name']}: no .npz files under {root}. "
                        f"{card['files']['data_summary.csv'].get('hint', '')}")
    summary, summary_path = _summary_splits(root, card)
    keys = card["npz"]
    rows = []
    for path in files:
        split = _split_of_folder(path, root) or summary.get(path.name)
        if split is None:
            raise UserError(f"{path}: no official split — it lies in no Training/Test folder and "
                            "data_summary.csv has no `use` for it")
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise UserError(f"{path}: not a readable .npz file: {err}") from None
        with data:
            row = {"sample_id": path.stem, "path": path.relative_to(root).as_posix(),
                   "official_split": split}
            pid = keys.get("patient")
            row["patient_id"] = (_code(_scalar(data[pid])) if pid in data.files else path.stem)
            for name, candidates in keys["attributes"].items():
                found = next((c for c in candidates if c in data.files), None)
                value = _scalar(data[found]) if found else None
                row[name if name == "age" else f"{name}_code"] = (
                    value if name == "age" else (None if value is None else _code(value)))
            mask = data[_key(data, keys["mask"], path, "mask")]
            row["y"] = int((mask != 0).any())
        rows.append(row)
    raw = pd.DataFrame(rows)
    raw["age"] = pd.to_numeric(raw["age"], errors="coerce")
    raw["gender"] = raw.pop("gender_code")
    return raw, [summary_path] if summary_path else []


def _square(arr: np.ndarray) -> np.ndarray:
    """Centre crop to the shorter side, so resizing keeps the fundus round."""
    h, w = arr.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return arr[top:top + side, left:left + side]


def _as_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    return ((image - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(image)).astype(np.uint8)


def load_pair(path: Path, card: dict[str, Any], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The image (uint8 1×size×size, bilinear) and its mask (uint8 size×size, nearest, labels by
    the card's ``mask_values``) of one subject."""
    with np.load(path, allow_pickle=False) as data:
        image = np.asarray(data[_key(data, card["npz"]["image"], path, "image")])
        mask = np.asarray(data[_key(data, card["npz"]["mask"], path, "mask")])
    if image.ndim == 3 and image.shape[-1] in (1, 3):
        image = image.mean(axis=-1) if image.shape[-1] == 3 else image[..., 0]
    if image.ndim != 2 or mask.shape != image.shape:
        raise UserError(f"{path}: expected a 2D image and a mask of the same shape; got image "
                        f"{image.shape} and mask {mask.shape}")
    lookup = {int(k): int(v) for k, v in card["mask_values"].items()}
    values = np.unique(mask)
    unknown = [int(v) for v in values if int(v) not in lookup]
    if unknown:
        raise UserError(f"{path}: mask values {unknown} are not in the card's mask_values "
                        f"{sorted(lookup)}")
    labels = np.zeros(mask.shape, np.uint8)
    for raw_value, label in lookup.items():
        labels[mask == raw_value] = label
    img = Image.fromarray(_as_uint8(_square(image))).resize((size, size), Image.BILINEAR)
    lab = Image.fromarray(_square(labels)).resize((size, size), Image.NEAREST)
    return np.asarray(img, np.uint8)[None], np.asarray(lab, np.uint8)


def decode(root: Path, out: Path, paths: list[str], card: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Fill images.npy and masks.npy. One process: a FairSeg .npz decodes in milliseconds, and
    an unreadable one is an error (its mask cannot be skipped silently), so there is nothing to
    gain from the 2D decoder's worker pool and skip list."""
    size = int(card["image"]["size"])
    images = ImageArrayWriter(out, len(paths), (1, size, size))
    masks = ImageArrayWriter(out, len(paths), (size, size), name=layout.MASKS)
    for row, rel in enumerate(paths):
        images.array[row], masks.array[row] = load_pair(root / rel, card, size)
    images.finalize()
    masks.finalize()
    return []


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    raw, read = read_raw(root, card)
    ages = raw["age"].dropna()
    in_days = bool(len(ages)) and float(ages.median()) > float(card.get("age_in_days_above", 150))
    if in_days:
        raw["age"] = raw["age"] / DAYS_PER_YEAR
    sources = {**hash_sources(root, read), NPZ_LISTING: _listing_hash(root, raw["path"])}
    return finish(raw, root, out, card=card, sources=sources, metadata_only=metadata_only,
                  workers=workers, seed=seed, notes={"age_unit": "days" if in_days else "years"},
                  decode=lambda r, o, paths, image, w: decode(r, o, paths, card))
