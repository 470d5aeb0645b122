"""Per-case segmentation metrics with MONAI: Dice, HD95 and normalised surface Dice (NSD).

Each class is a set of integer labels declared by the caller (``{"disc": (1, 2), "cup": (2,)}``
when the cup's label lies inside the disc, or ``{"lesion": (1,)}``); a class's mask is
``isin(mask, labels)``. Masks are 2-D (H, W) or 3-D (D, H, W) integer arrays.

Spacing: distances (HD95, the NSD tolerance) are in the units of ``spacing`` (one value per axis,
e.g. mm from a NIfTI header); without it every axis has spacing 1 and they are in pixels (voxels).

Empty masks. What MONAI 1.6 returns, and what is reported here instead (so means stay finite and
an empty case is scored rather than silently dropped):

============================  =====================  ===========================================
case                          MONAI                  reported
============================  =====================  ===========================================
both empty                    Dice NaN (ignore_empty  Dice 1, NSD 1, HD95 0: nothing to find,
                              =True), HD95 NaN, NSD   nothing predicted is a correct answer
                              NaN
reference empty, prediction   Dice NaN, HD95 NaN,     Dice 0, NSD 0, HD95 = the image diagonal
not                           NSD 0
prediction empty, reference   Dice 0, HD95 NaN,       Dice 0, NSD 0, HD95 = the image diagonal
not                           NSD 0
============================  =====================  ===========================================

The image diagonal (the largest distance between two voxel centres, in spacing units) is the
worst HD95 a prediction could have, as BraTS caps a missing structure at the volume's diagonal;
FairSeg's code scores a false-positive-only case Dice 1 and HD95 0, which we deliberately do not.
The ``empty`` column says which case a row is, so a report can count them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from fairmedia.errors import UserError

DEFAULT_NSD_TOLERANCE = 2.0  # spacing units (pixels without spacing): two voxels of slack
METRICS = ("dice", "hd95", "nsd")


def normalise_classes(classes: Mapping[str, int | Sequence[int]]) -> dict[str, tuple[int, ...]]:
    """``{"name": label or labels}`` as ``{"name": (labels, ...)}``; refuses label 0 (background)
    and non-integers, naming the class."""
    if not classes:
        raise UserError("no segmentation classes declared; e.g. --class lesion=1")
    out: dict[str, tuple[int, ...]] = {}
    for name, labels in classes.items():
        labels = (labels,) if isinstance(labels, (int, np.integer)) else tuple(labels)
        if not labels or any(not isinstance(v, (int, np.integer)) or v <= 0 for v in labels):
            raise UserError(f"class {name!r}: labels must be positive integers (0 is the "
                            f"background), got {list(labels)}")
        out[str(name)] = tuple(int(v) for v in labels)
    return out


def classes_from_manifest(classes: Mapping[str, int]) -> dict[str, tuple[int, ...]]:
    """The prepared contract's ``{name: label}`` (``background`` = 0 included, docs/contracts.md)
    as the classes to evaluate: every non-zero label its own class, e.g. Harvard-FairSeg's
    ``{"rim": (1,), "cup": (2,)}``; add ``"disc": (1, 2)`` to evaluate the whole disc."""
    return normalise_classes({name: label for name, label in classes.items() if label != 0})


def image_diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """The largest distance between two voxel centres of an image (spacing units)."""
    return math.sqrt(sum(((n - 1) * s) ** 2 for n, s in zip(shape, spacing)))


def _check_spacing(spacing: Sequence[float] | None, ndim: int, case: str) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * ndim
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != ndim or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise UserError(f"case {case}: spacing {list(spacing)} must be {ndim} positive numbers")
    return spacing


def case_metrics(
    pred: np.ndarray,
    ref: np.ndarray,
    classes: Mapping[str, int | Sequence[int]],
    *,
    spacing: Sequence[float] | None = None,
    nsd_tolerance: float = DEFAULT_NSD_TOLERANCE,
    case_id: str = "",
) -> list[dict[str, object]]:
    """One row per class: dice, hd95, nsd, ref_voxels, pred_voxels, ref_volume, empty.

    ``empty`` is ``""`` (both masks non-empty), ``"both"``, ``"ref"`` or ``"pred"`` (the side
    that is empty); see the module docstring for the values reported then."""
    import torch
    from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric

    pred, ref = np.asarray(pred), np.asarray(ref)
    if pred.shape != ref.shape:
        raise UserError(f"case {case_id}: prediction shape {pred.shape} differs from the "
                        f"reference shape {ref.shape}")
    if ref.ndim not in (2, 3):
        raise UserError(f"case {case_id}: masks must be 2-D or 3-D, got shape {ref.shape}")
    spacing = _check_spacing(spacing, ref.ndim, case_id)
    classes = normalise_classes(classes)
    # (1, C, *spatial) one channel per class: MONAI computes all classes in one call.
    p = torch.as_tensor(np.stack([np.isin(pred, v) for v in classes.values()])[None])
    r = torch.as_tensor(np.stack([np.isin(ref, v) for v in classes.values()])[None])
    with warnings.catch_warnings():
        # MONAI warns on every empty mask ("may result in nan/inf"); the cases are handled below
        warnings.simplefilter("ignore")
        dice = DiceMetric(include_background=True, reduction="none", ignore_empty=False)(p, r)
        hd95 = HausdorffDistanceMetric(include_background=True, percentile=95,
                                       reduction="none")(p, r, spacing=list(spacing))
        nsd = SurfaceDiceMetric([float(nsd_tolerance)] * len(classes), include_background=True,
                                reduction="none")(p, r, spacing=list(spacing))
    diagonal = image_diagonal(ref.shape, spacing)
    voxel = float(np.prod(spacing))
    rows = []
    for k, name in enumerate(classes):
        n_ref, n_pred = int(r[0, k].sum()), int(p[0, k].sum())
        empty = ("both" if n_ref == n_pred == 0 else "ref" if n_ref == 0
                 else "pred" if n_pred == 0 else "")
        values = {"dice": float(dice[0, k]), "hd95": float(hd95[0, k]), "nsd": float(nsd[0, k])}
        if empty == "both":
            values = {"dice": 1.0, "hd95": 0.0, "nsd": 1.0}
        elif empty:
            values = {"dice": 0.0, "hd95": diagonal, "nsd": 0.0}
        rows.append({"case_id": case_id, "class": name, **values, "ref_voxels": n_ref,
                     "pred_voxels": n_pred, "ref_volume": n_ref * voxel, "empty": empty})
    return rows


def cases_table(
    cases: Iterable[tuple[str, np.ndarray, np.ndarray, Sequence[float] | None]],
    classes: Mapping[str, int | Sequence[int]],
    *,
    nsd_tolerance: float = DEFAULT_NSD_TOLERANCE,
) -> pd.DataFrame:
    """The per-case, per-class table of ``case_metrics`` over ``(case_id, pred, ref, spacing)``."""
    rows: list[dict[str, object]] = []
    for case_id, pred, ref, spacing in cases:
        rows += case_metrics(pred, ref, classes, spacing=spacing, nsd_tolerance=nsd_tolerance,
                             case_id=str(case_id))
    if not rows:
        raise UserError("no cases to evaluate")
    return pd.DataFrame(rows)
