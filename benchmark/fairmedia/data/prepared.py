"""The prepared-dataset contract (docs/contracts.md, contract 1) — writing and loading.

``results/prepared/{dataset}/`` holds ``metadata.parquet`` (one row per image: ``sample_id,
patient_id, split, y`` and the attribute columns, raw values next to grouped ones),
``images.npy`` (uint8, N×C×H×W or N×C×D×H×W, opened memory-mapped), for a segmentation
dataset ``masks.npy`` (uint8 label maps N×H×W or N×D×H×W, ``data/masks.py``) and ``manifest.json``.
The manifest is written last, so a folder without one is never read as finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import __version__, layout
from fairmedia.data.masks import DEFAULT_TASK, check_task, load_masks, validate_classes, write_masks
from fairmedia.errors import UserError
from fairmedia.metrics.groups import attribute_grouping

REQUIRED_COLUMNS = ("sample_id", "patient_id", "split", "y")
VALID_SPLITS = {"train", "val", "test"}
FILES = layout.PREPARED_FILES


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


HASH_ROWS = 50_000  # metadata rows serialised per hashing step
HASH_BYTES = 1 << 26  # about this many image bytes read per hashing step


def content_hash(root: str | Path, attributes: list[str]) -> str:
    """SHA-256 of what a model trained on ``root`` sees: the attribute list, ``metadata.parquet``'s
    content (columns, dtypes and every value, split included) and ``images.npy``'s shape, dtype
    and pixel bytes. Content, not file bytes: the parquet writer's version stamp or the npy header
    padding do not enter, so the same data written again (anywhere) has the same hash. Images are
    streamed through the memory map in blocks, so memory stays bounded."""
    root = Path(root)
    h = hashlib.sha256()
    h.update(json.dumps({"attributes": list(attributes)}, sort_keys=True).encode())
    meta = pd.read_parquet(root / "metadata.parquet")
    h.update(json.dumps([[str(c), str(t)] for c, t in meta.dtypes.items()]).encode())
    for lo in range(0, max(len(meta), 1), HASH_ROWS):
        h.update(meta.iloc[lo:lo + HASH_ROWS].to_csv(index=False, header=lo == 0).encode())
    images = root / "images.npy"
    if not images.exists():
        h.update(b"no images")
        return h.hexdigest()
    arr = np.load(images, mmap_mode="r", allow_pickle=False)
    h.update(json.dumps({"shape": list(arr.shape), "dtype": arr.dtype.str}).encode())
    per_row = max(int(np.prod(arr.shape[1:])) * arr.dtype.itemsize, 1)
    step = max(HASH_BYTES // per_row, 1)
    for lo in range(0, len(arr), step):
        h.update(np.ascontiguousarray(arr[lo:lo + step]).data)
    masks = root / layout.MASKS
    if masks.exists():  # segmentation targets are part of what a model sees; absent: hash as before
        arr = np.load(masks, mmap_mode="r", allow_pickle=False)
        h.update(json.dumps({"masks": list(arr.shape), "dtype": arr.dtype.str}).encode())
        for lo in range(0, len(arr), step):
            h.update(np.ascontiguousarray(arr[lo:lo + step]).data)
    return h.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def split_group_label_counts(metadata: pd.DataFrame, attributes: list[str]) -> dict[str, Any]:
    """Counts per split × attribute × group × label, JSON-ready (group keys as strings)."""
    out: dict[str, Any] = {}
    for split, part in metadata.groupby("split", sort=True):
        entry: dict[str, Any] = {"n": int(len(part)), "n_pos": int(part["y"].sum())}
        for attr in attributes:
            table = part.groupby([part[attr].astype(str), "y"]).size().unstack(fill_value=0)
            entry[attr] = {
                str(g): {str(int(lbl)): int(n) for lbl, n in row.items()} for g, row in table.iterrows()
            }
        out[str(split)] = entry
    return out


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def validate_metadata(metadata: pd.DataFrame, attributes: list[str], source: str) -> None:
    missing = [c for c in (*REQUIRED_COLUMNS, *attributes) if c not in metadata.columns]
    if missing:
        raise UserError(f"{source}: missing column(s) {missing}; columns present: {list(metadata.columns)}")
    bad_split = ~metadata["split"].isin(VALID_SPLITS)
    if bad_split.any():
        row = int(np.flatnonzero(bad_split.to_numpy())[0])
        raise UserError(
            f"{source}: row {row} has split {_show(metadata['split'].iloc[row])}; "
            "expected one of train, val, test"
        )
    bad_y = ~metadata["y"].isin([0, 1])
    if bad_y.any():
        row = int(np.flatnonzero(bad_y.to_numpy())[0])
        raise UserError(f"{source}: row {row} has y={_show(metadata['y'].iloc[row])}; expected 0 or 1")
    if metadata["sample_id"].duplicated().any():
        dup = metadata.loc[metadata["sample_id"].duplicated(), "sample_id"].iloc[0]
        raise UserError(f"{source}: sample_id {dup!r} appears more than once")
    leaked = metadata.groupby("patient_id")["split"].nunique()
    if (leaked > 1).any():
        raise UserError(f"{source}: patient {leaked[leaked > 1].index[0]!r} appears in several splits")


class ImageArrayWriter:
    """Fill ``images.npy`` row by row through a memory map, then publish it atomically.

    Rows can be written in any order and by several workers; ``images.npy.partial`` is kept
    between attempts so an interrupted prepare can resume.
    """

    def __init__(self, out_dir: str | Path, n: int, shape: tuple[int, ...], name: str = layout.IMAGES):
        self.path = Path(out_dir) / name  # layout.MASKS for a segmentation dataset's masks
        self.partial = self.path.with_name(name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        full = (n, *shape)
        if self.partial.exists():
            arr = np.load(self.partial, mmap_mode="r+")
            if arr.shape != full or arr.dtype != np.uint8:
                del arr
                self.partial.unlink()
        if not self.partial.exists():
            np.lib.format.open_memmap(self.partial, mode="w+", dtype=np.uint8, shape=full).flush()
        self.array = np.load(self.partial, mmap_mode="r+")

    def finalize(self) -> Path:
        self.array.flush()
        del self.array
        os.replace(self.partial, self.path)
        return self.path


def write_prepared(
    out_dir: str | Path,
    metadata: pd.DataFrame,
    images: np.ndarray | None,
    *,
    dataset: str,
    card_version: str | int,
    attributes: list[str],
    sources: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    task: str = DEFAULT_TASK,
    classes: dict[str, int] | None = None,
    masks: np.ndarray | None = None,
    injection: dict[str, Any] | None = None,
) -> Path:
    """Write the contract. ``images=None`` means ``images.npy`` was already filled through an
    :class:`ImageArrayWriter` (or that this is a metadata-only prepare; see ``options``).
    ``task="segmentation"`` needs ``classes`` and the masks (``masks``, or ``masks.npy`` already
    filled through an ``ImageArrayWriter(..., name=layout.MASKS)``); a classification dataset's
    files and manifest are exactly as before segmentation existed. ``injection`` is recorded as
    the manifest's ``injection`` (a derived dataset, data/injection.py)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    validate_metadata(metadata, attributes, f"{dataset} metadata")
    check_task(task, f"{dataset}")
    segmentation = task == "segmentation"
    if segmentation:
        classes = validate_classes(classes, f"{dataset} classes")
    elif masks is not None or classes is not None:
        raise ValueError("masks and classes belong to task='segmentation'")
    if images is not None:
        if images.dtype != np.uint8 or images.ndim not in (4, 5) or len(images) != len(metadata):
            raise ValueError(
                f"images must be uint8 N×C×H×W or N×C×D×H×W with N={len(metadata)}, "
                f"got {images.dtype} {images.shape}"
            )
        tmp = out / "images.npy.partial"
        with open(tmp, "wb") as fh:  # a file handle: np.save would append ".npy" to the name
            np.save(fh, images, allow_pickle=False)
        os.replace(tmp, out / "images.npy")
    metadata_only = images is None and not (out / "images.npy").exists()
    shape = None
    if not metadata_only:
        arr = np.load(out / "images.npy", mmap_mode="r")
        shape = list(arr.shape[1:])
        if len(arr) != len(metadata):
            raise ValueError(f"images.npy has {len(arr)} rows but metadata has {len(metadata)}")
        if segmentation:
            write_masks(out, masks, tuple(arr.shape), classes)
    tmp_meta = out / "metadata.parquet.partial"
    metadata.reset_index(drop=True).to_parquet(tmp_meta, index=False)
    os.replace(tmp_meta, out / "metadata.parquet")
    manifest = {
        # Hashed once here, from the files as written; a run's identity includes it, so a model
        # trained on other data in this folder is never resumed (benchmark/fairmedia/training/loop.py).
        "content_hash": content_hash(out, attributes),
        "dataset": dataset,
        "card_version": card_version,
        "written_by": f"fairmedia-bench {__version__}",
        "attributes": list(attributes),
        "image_shape": shape,
        "metadata_only": metadata_only,
        "n": int(len(metadata)),
        "sources": sources or {},
        "options": options or {},
        "counts": split_group_label_counts(metadata, attributes),
    }
    if segmentation:  # only then, so a classification manifest is byte-identical to before
        manifest.update(task=task, classes=classes)
    if injection is not None:
        manifest["injection"] = injection
    _atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return out


@dataclass
class PreparedDataset:
    """A loaded prepared dataset; ``images`` (and, for segmentation, ``masks``: uint8 label maps
    N×H×W or N×D×H×W, row *i* the mask of image *i*) are read-only memory maps."""

    root: Path
    metadata: pd.DataFrame
    images: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)
    masks: np.ndarray | None = None
    _content_hash: str | None = field(default=None, repr=False, compare=False)

    def content_hash(self, log=print) -> str:
        """The manifest's ``content_hash``; computed (once per load) for a folder prepared by a
        version that did not record it — the folder itself is left untouched."""
        if self._content_hash is None:
            stored = self.manifest.get("content_hash")
            if stored:
                self._content_hash = str(stored)
            else:
                self._content_hash = content_hash(self.root, self.attributes)
                log(f"{self.root / 'manifest.json'} has no content_hash (prepared by an older "
                    f"version); computed it from the files: {self._content_hash[:16]}")
        return self._content_hash

    @property
    def attributes(self) -> list[str]:
        return list(self.manifest.get("attributes", []))

    @property
    def task(self) -> str:
        return str(self.manifest.get("task", DEFAULT_TASK))

    @property
    def classes(self) -> dict[str, int]:
        """``{name: label}`` of a segmentation dataset (0 = background); empty otherwise."""
        return dict(self.manifest.get("classes") or {})

    def split_masks(self, split: str) -> np.ndarray:
        """The masks of ``split``'s rows, in the order of ``indices(split)`` (a copy)."""
        if self.masks is None:
            raise UserError(f"{self.root}: {self.task} dataset has no masks "
                            f"({layout.MASKS} is written for task: segmentation only)")
        return np.asarray(self.masks[self.indices(split)])

    @property
    def spatial_dims(self) -> int:
        return self.images.ndim - 2

    def check_attribute(self, attribute: str) -> None:
        if attribute not in self.metadata.columns:
            raise UserError(
                f"attribute {attribute!r} is not in {self.root / 'metadata.parquet'}; "
                f"available attributes: {self.attributes}"
            )

    def attribute_codes(self, attribute: str) -> tuple[np.ndarray, list[str]]:
        """Group codes 0..k-1 of every row and the group names, from the one grouper
        (``metrics.groups.attribute_grouping``: names and order as in ``metrics.json``).

        Training and post-processing need a group for every row, so a row without a value is an
        error here (the evaluation leaves such rows out of the groups instead)."""
        self.check_attribute(attribute)
        source = str(self.root / "metadata.parquet")
        grouping = attribute_grouping(self.metadata, attribute, None, source)
        if grouping.n_missing:
            row = int(np.flatnonzero(grouping.codes < 0)[0])
            raise UserError(
                f"{source}: {grouping.n_missing} row(s) have no value for attribute {attribute!r} "
                f"(first: row {row}); a method that uses the attribute needs a group for every "
                "row. Give them an explicit value (e.g. 'unknown') when preparing the dataset"
            )
        return grouping.codes, list(grouping.keys)

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.metadata["split"].to_numpy() == split)


def load_prepared(root: str | Path, *, need_images: bool = True) -> PreparedDataset:
    """Open a prepared dataset, checking the contract; errors name the file and what is wrong."""
    root = Path(root)
    needed = FILES if need_images else ("metadata.parquet", "manifest.json")
    missing = [f for f in needed if not (root / f).exists()]
    if missing:
        raise UserError(
            f"prepared dataset {root} is incomplete: missing {', '.join(missing)} "
            "(run `fairmedia prepare` or `fairmedia synth` to create it)"
        )
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{root / 'manifest.json'} is not valid JSON: {err}") from None
    metadata = pd.read_parquet(root / "metadata.parquet")
    validate_metadata(metadata, manifest.get("attributes", []), str(root / "metadata.parquet"))
    images = np.empty((len(metadata), 0, 0, 0), dtype=np.uint8)
    if need_images:
        images = np.load(root / "images.npy", mmap_mode="r", allow_pickle=False)
        if len(images) != len(metadata):
            raise UserError(
                f"{root / 'images.npy'} has {len(images)} images but metadata.parquet has "
                f"{len(metadata)} rows"
            )
    masks = load_masks(root, manifest, images.shape) if need_images else None
    return PreparedDataset(root=root, metadata=metadata, images=images, manifest=manifest, masks=masks)
