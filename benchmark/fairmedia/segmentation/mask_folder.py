"""Reading a folder of predicted and a folder of reference masks, and the cases' metadata CSV.

A case ``ID`` is the file ``ID.png``, ``ID.nii.gz`` or ``ID.nii`` in each folder. PNG masks
(PIL) must be single-channel; their spacing is unknown, so distances are in pixels. NIfTI masks
(nibabel) carry their voxel size: the reference's header spacing is used (array-axis order).
Labels must be non-negative integers (a float NIfTI holding 0.0/1.0 is accepted, 0.5 is not).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fairmedia.errors import UserError

SUFFIXES = (".png", ".nii.gz", ".nii")


def find_mask(folder: Path, case_id: str) -> Path | None:
    """The mask file of ``case_id`` in ``folder``, or None; two files for one case are an error."""
    found = [folder / f"{case_id}{s}" for s in SUFFIXES if (folder / f"{case_id}{s}").is_file()]
    if len(found) > 1:
        raise UserError(f"case {case_id}: several mask files in {folder}: "
                        f"{', '.join(p.name for p in found)}; keep one")
    return found[0] if found else None


def read_mask(path: Path, case_id: str) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """An integer label array and its spacing (None for PNG); bad files are errors naming them."""
    try:
        if path.name.endswith((".nii", ".nii.gz")):
            import nibabel as nib

            image = nib.load(str(path))
            data = np.asanyarray(image.dataobj)
            zooms = tuple(float(z) for z in image.header.get_zooms())
            while data.ndim > 2 and data.shape[-1] == 1:  # a 2-D mask stored as (H, W, 1)
                data = data[..., 0]
            spacing: tuple[float, ...] | None = zooms[:data.ndim]
        else:
            from PIL import Image

            with Image.open(path) as image:
                if image.mode not in ("1", "L", "P", "I", "I;16"):
                    raise UserError(f"{path} (case {case_id}): a {image.mode} image; a mask must "
                                    "be single-channel (mode L, P, I or 1) with one label a pixel")
                data = np.array(image)
            spacing = None
    except UserError:
        raise
    except Exception as err:  # nibabel and PIL raise many types; the user needs file and reason
        raise UserError(f"{path} (case {case_id}): cannot be read as a mask: {err}") from err
    return _integer_labels(data, path, case_id), spacing


def _integer_labels(data: np.ndarray, path: Path, case_id: str) -> np.ndarray:
    if data.dtype == bool:
        return data.astype(np.int64)
    if not np.issubdtype(data.dtype, np.number):
        raise UserError(f"{path} (case {case_id}): labels of type {data.dtype}; expected integers")
    if np.issubdtype(data.dtype, np.floating):
        bad = ~np.isfinite(data) | (data != np.round(data))
        if bad.any():
            example = data[bad].flat[0]
            raise UserError(f"{path} (case {case_id}): non-integer label {example!r} at "
                            f"{int(bad.sum())} voxel(s); a mask holds integer class labels "
                            "(threshold probabilities before evaluating)")
    if (data < 0).any():
        raise UserError(f"{path} (case {case_id}): negative labels; expected 0 (background) "
                        "and positive class labels")
    return data.astype(np.int64)


def read_metadata(path: Path, *, case_col: str, patient_col: str | None,
                  attributes: Sequence[str], patient_optional: bool = False) -> pd.DataFrame:
    """The metadata CSV with its case ids as strings; missing columns and repeated case ids are
    errors naming them. With ``patient_optional`` an absent patient column is no error (each
    case is then its own patient)."""
    if not path.is_file():
        raise UserError(f"{path}: no such metadata file")
    try:
        meta = pd.read_csv(path, dtype={case_col: str})
    except Exception as err:  # pandas raises many types
        raise UserError(f"{path}: cannot be read as CSV: {err}") from err
    if patient_optional and patient_col not in meta.columns:
        patient_col = None
    wanted = [case_col, *([patient_col] if patient_col else []), *attributes]
    missing = [c for c in wanted if c not in meta.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}; the file has "
                        f"{', '.join(map(str, meta.columns))}")
    repeated = meta[case_col][meta[case_col].duplicated()].unique()
    if len(repeated):
        raise UserError(f"{path}: case id(s) on more than one row: {', '.join(repeated[:10])}")
    if meta[case_col].isna().any():
        rows = (np.flatnonzero(meta[case_col].isna()) + 2).tolist()[:10]
        raise UserError(f"{path}: empty {case_col} on line(s) {rows}")
    return meta


def mask_pairs(pred_dir: Path, ref_dir: Path, case_ids: Sequence[str], *,
               labels: set[int]) -> Iterator[tuple[str, np.ndarray, np.ndarray,
                                                   tuple[float, ...] | None]]:
    """``(case_id, pred, ref, spacing)`` per case. All missing files are named before any is
    read; a shape mismatch or a label outside ``labels`` (plus 0) is an error naming the case."""
    for folder, what in ((pred_dir, "prediction"), (ref_dir, "reference")):
        if not folder.is_dir():
            raise UserError(f"{folder}: no such {what} folder")
        absent = [c for c in case_ids if find_mask(folder, c) is None]
        if absent:
            more = f" and {len(absent) - 10} more" if len(absent) > 10 else ""
            raise UserError(f"{folder}: no {what} mask for case(s) {', '.join(absent[:10])}{more} "
                            f"listed in the metadata (expected <case>{'|'.join(SUFFIXES)})")
    allowed = labels | {0}
    for case in case_ids:
        pred, _ = read_mask(find_mask(pred_dir, case), case)
        ref, spacing = read_mask(find_mask(ref_dir, case), case)
        if pred.shape != ref.shape:
            raise UserError(f"case {case}: prediction shape {pred.shape} differs from the "
                            f"reference shape {ref.shape}")
        for mask, what in ((pred, "prediction"), (ref, "reference")):
            extra = sorted(set(np.unique(mask).tolist()) - allowed)
            if extra:
                raise UserError(f"case {case}: {what} labels {extra} are not declared classes "
                                f"(declared: {sorted(labels)}); e.g. --class lesion={extra[0]}")
        yield case, pred, ref, spacing
