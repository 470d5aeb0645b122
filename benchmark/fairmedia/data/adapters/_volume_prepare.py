"""The part of preparing that every 3D dataset shares: resample each volume once to the card's
spacing and size, scale it to uint8, and write the prepared-dataset contract.

Resampling uses ``scipy.ndimage.zoom`` (linear) after a Gaussian anti-aliasing filter when a side
shrinks, rather than MONAI's ``Spacing``/``Resize``: it runs on plain numpy in the worker
processes (no MetaTensor or affine bookkeeping, no torch threads competing with the pool), takes
per-axis factors for anisotropic scans directly, and is deterministic. The card's ``image``:

- ``spacing: [d, h, w]`` (mm) — resample to this spacing, then crop or pad (centred) to ``size``:
  every voxel is the same physical size, the field of view is ``spacing × size``;
- ``spacing: null`` — the volume has no reliable spacing (OCT ``.mat``/``.npz``): resize the
  whole volume to ``size``;
- ``intensity`` — see :func:`fairmedia.data.transforms.intensity`.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from fairmedia.data.adapters._common import finish
from fairmedia.data.adapters._image_decode import check_free_space, drop_rows
from fairmedia.data.adapters._volume_io import read_volume
from fairmedia.data.prepared import ImageArrayWriter
from fairmedia.data.transforms import intensity
from fairmedia.errors import UserError
from fairmedia.progress import progress

ROWS_PER_TASK = 4  # volumes are large: small tasks keep every worker busy to the end


def locate_glob(root: Path, card: dict[str, Any], key: str) -> Path:
    """The first file matching ``card['files'][key]['candidates']`` (glob patterns, e.g. IDA's
    dated ``ADNI1_Screening_1.5T_*.csv``) under ``root``."""
    spec = card["files"][key]
    patterns = spec.get("candidates", [key])
    for pattern in patterns:
        hits = sorted(p for p in root.glob(pattern) if p.is_file())
        if hits:
            return hits[0]
    raise UserError(f"{card['name']}: expected a file matching {patterns[0]!r} under {root} "
                    f"(looked for: {', '.join(patterns)}). {spec.get('hint', '')}".strip())


def image_size(card: dict[str, Any]) -> tuple[int, int, int]:
    size = card.get("image", {}).get("size", 64)
    size = [size] * 3 if isinstance(size, int) else list(size)
    if len(size) != 3 or any(int(s) < 1 for s in size):
        raise UserError(f"{card['name']}: image size must be one number or [D, H, W], got {size}")
    return tuple(int(s) for s in size)


def resample(volume: np.ndarray, spacing: tuple[float, ...] | None,
             target_spacing: tuple[float, ...] | None, size: tuple[int, int, int]) -> np.ndarray:
    """Float volume → the card's grid (see the module docstring)."""
    if target_spacing is not None and spacing is not None:
        factors = np.asarray(spacing, dtype=float) / np.asarray(target_spacing, dtype=float)
    else:
        factors = np.asarray(size, dtype=float) / np.asarray(volume.shape, dtype=float)
    # Gaussian pre-filter when a side shrinks (sigma as skimage's anti_aliasing), else linear
    # interpolation aliases thin structures (OCT layers, vessels) into moiré.
    sigma = np.maximum(0.0, (1.0 / factors - 1.0) / 2.0)
    if (sigma > 0).any():
        volume = ndimage.gaussian_filter(volume, sigma, mode="nearest")
    out_shape = np.maximum(1, np.round(np.asarray(volume.shape) * factors)).astype(int)
    zoom = out_shape / np.asarray(volume.shape)
    return ndimage.zoom(volume, zoom, order=1, mode="nearest", grid_mode=True)


def crop_or_pad(volume: np.ndarray, size: tuple[int, int, int], fill: float = 0) -> np.ndarray:
    """Centre-crop or pad each axis to ``size``."""
    out = np.full(size, fill, dtype=volume.dtype)
    src, dst = [], []
    for have, want in zip(volume.shape, size):
        if have >= want:
            start = (have - want) // 2
            src.append(slice(start, start + want))
            dst.append(slice(0, want))
        else:
            start = (want - have) // 2
            src.append(slice(0, have))
            dst.append(slice(start, start + have))
    out[tuple(dst)] = volume[tuple(src)]
    return out


def load_prepared_volume(path: Path, image: dict[str, Any], size: tuple[int, int, int],
                         transpose: tuple[int, int, int] | None = None) -> np.ndarray:
    """One raw volume → uint8 1×D×H×W on the card's grid."""
    volume, spacing = read_volume(path, image.get("key"))
    if transpose is not None:
        volume = np.ascontiguousarray(volume.transpose(transpose))
        spacing = None if spacing is None else tuple(spacing[i] for i in transpose)
    target = image.get("spacing")
    volume = resample(volume, spacing, None if target is None else tuple(target), size)
    scaled = intensity(volume, image.get("intensity"))
    return crop_or_pad(scaled, size)[None]


def _decode_chunk(partial: str, root: str, rows: list[int], paths: list[str], image: dict[str, Any],
                  size: tuple[int, int, int]) -> list[tuple[int, str]]:
    array = np.load(partial, mmap_mode="r+")
    transpose = tuple(image["transpose"]) if image.get("transpose") else None
    failures = []
    for row, rel in zip(rows, paths):
        try:
            array[row] = load_prepared_volume(Path(root) / rel, image, size, transpose)
        except Exception as err:  # noqa: BLE001 — any reader failure means "unreadable volume"
            failures.append((row, f"{type(err).__name__}: {err}"))
    array.flush()
    return failures


def decode_volumes(root: Path, out: Path, paths: list[str], *, image: dict[str, Any],
                   size: tuple[int, int, int], workers: int) -> list[tuple[int, str, str]]:
    """Fill ``out/images.npy`` (N×1×D×H×W) in worker processes; returns skipped rows."""
    writer = ImageArrayWriter(out, len(paths), (1, *size))
    writer.array.flush()
    check_free_space(writer.partial)
    failures: dict[int, str] = {}
    # Import MONAI once here (seconds) so forked workers inherit it instead of each paying again.
    import monai.transforms  # noqa: F401
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [
            pool.submit(_decode_chunk, str(writer.partial), str(root), list(range(s, s2)),
                        paths[s:s2], image, size)
            for s in range(0, len(paths), ROWS_PER_TASK)
            for s2 in [min(s + ROWS_PER_TASK, len(paths))]
        ]
        sizes = {fut: min(ROWS_PER_TASK, len(paths) - s)
                 for fut, s in zip(futures, range(0, len(paths), ROWS_PER_TASK))}
        with progress(total=len(paths), desc="  volumes", unit="vol") as bar:
            for fut in as_completed(futures):
                failures.update(dict(fut.result()))
                bar.update(sizes[fut])
    max_bad = float(image.get("max_bad_fraction", 0.01))
    if len(paths) and len(failures) > max_bad * len(paths):
        row = min(failures)
        raise UserError(f"{len(failures)} of {len(paths)} volumes could not be read (more than the "
                        f"allowed fraction {max_bad}); first: {root / paths[row]}: {failures[row]}")
    skipped = [(row, paths[row], failures[row]) for row in sorted(failures)]
    if skipped:
        drop_rows(writer, np.setdiff1d(np.arange(len(paths)), [s[0] for s in skipped]))
    else:
        writer.finalize()
    return skipped


def finish_volumes(raw: pd.DataFrame, root: Path, out: Path, *, card: dict[str, Any],
                   sources: dict[str, str], metadata_only: bool, workers: int, seed: int | None,
                   notes: dict[str, Any] | None = None) -> Path:
    """``_common.finish`` (label drop, attribute rules, split, manifest) with volumes."""
    size = image_size(card)  # checked before any work, as for 2D sizes
    return finish(
        raw, root, out, card=card, sources=sources, metadata_only=metadata_only, workers=workers,
        seed=seed, notes=notes,
        decode=lambda r, o, paths, image, w: decode_volumes(r, o, paths, image=dict(image),
                                                            size=size, workers=w),
    )


def category_label(values: pd.Series, label: dict[str, Any], source: str) -> pd.Series:
    """A diagnosis column → 1 (``positive`` values), 0 (``negative``), NaN (``drop``: e.g. MCI).
    Any other value is an error naming its row, so a new diagnosis code never becomes a silent 0."""
    column = label["column"]
    text = values.astype("string").str.strip()
    known = {**{str(v): 1.0 for v in label.get("positive", [])},
             **{str(v): 0.0 for v in label.get("negative", [])},
             **{str(v): np.nan for v in label.get("drop", [])}}
    bad = ~text.isin(list(known)) | text.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{source}: row {row + 1} of column {column!r} holds {values.iloc[row]!r}; "
                        f"expected one of {list(known)} (the card's label positive/negative/drop)")
    return text.map(known).astype(float)
