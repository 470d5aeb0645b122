"""Segmentation mode of the synthetic phantoms: the mask of the lesion the generator drew.

The lesion is a Gaussian blob of width ``sigma``; its mask is the disc (ball in 3D) where the blob
is at least half its peak, ``r² ≤ 2 ln 2 · sigma²`` (the full width at half maximum), drawn from
the geometry and not from the noisy pixels, so it is the ground truth of what was drawn. A case
without a lesion (``y_clean = 0``, probability ``1 - prevalence``) has an empty mask.

The bias knobs act on segmentation as on classification (``datasets/synthetic.yaml``,
``segmentation``): group share, per-group lesion contrast and size, the shortcut marker, and label
noise, here as masks of group F *eroded* (``mask_erosion``, pixels) or *missed* (emptied: the
``underdiagnosis`` knob) in train/val only; test masks are always the clean ones.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from fairmedia.data.masks import TASKS, foreground
from fairmedia.errors import UserError

CLASSES = {"background": 0, "lesion": 1}
HALF_MAX = 2.0 * math.log(2.0)  # r² / sigma² at which the Gaussian blob falls to half its peak
# Knobs added with segmentation: left out of a classification manifest while at their default,
# so that manifest is byte-identical to the one written before they existed.
ADDED_WITH_MASKS = ("task", "lesion_size", "mask_erosion")

SEG_PREVALENCE = (0.8, 0.8)  # p: every phantom has a lesion with probability 0.8 (both groups)
_SEG = {"task": "segmentation", "prevalence": SEG_PREVALENCE}
SEGMENTATION_PRESETS: dict[str, dict[str, Any]] = {
    "seg-none": dict(_SEG),
    "seg-contrast": {**_SEG, "contrast": (1.0, 0.45)},
    "seg-size": {**_SEG, "lesion_size": (1.0, 0.6)},
    "seg-noise": {**_SEG, "mask_erosion": (0.0, 1.0)},
    "seg-missed": {**_SEG, "underdiagnosis": (0.0, 0.5)},
    "seg-representation": {**_SEG, "group_share_train": 0.1, "presentation_shift": 1.0},
}


def check_segmentation_knobs(spec: Any) -> None:
    if spec.task not in TASKS:
        raise UserError(f"synthetic option 'task' must be one of {', '.join(TASKS)}; got {spec.task!r}")
    if min(spec.lesion_size) <= 0:
        raise UserError(f"synthetic option 'lesion_size' must be two positive numbers; got "
                        f"{list(spec.lesion_size)}")
    if any(k < 0 or k != int(k) for k in spec.mask_erosion):
        raise UserError(f"synthetic option 'mask_erosion' must be two whole numbers of pixels >= 0; "
                        f"got {list(spec.mask_erosion)}")
    if any(spec.mask_erosion) and spec.task != "segmentation":
        raise UserError("synthetic option 'mask_erosion' acts on masks: it needs task: segmentation")


def lesion_mask(d2: np.ndarray, sigma: np.ndarray, present: np.ndarray) -> np.ndarray:
    """uint8 masks (batch × spatial) of the lesions whose squared distance map is ``d2``."""
    inside = d2 <= HALF_MAX * sigma**2
    shape = (-1, *([1] * (d2.ndim - 1)))
    return (inside & (np.asarray(present).reshape(shape) > 0)).astype(np.uint8)


def erode(masks: np.ndarray, pixels: int) -> np.ndarray:
    """Each mask eroded by ``pixels`` steps of the face-connected structuring element (a cross
    in 2D), never across the batch axis; scipy's binary erosion, background outside the image."""
    cross = ndimage.generate_binary_structure(masks.ndim - 1, 1)[None]
    return ndimage.binary_erosion(masks > 0, structure=cross, iterations=pixels).astype(np.uint8)


def add_mask_noise(meta: pd.DataFrame, masks: np.ndarray, spec: Any, *, apply: bool = True
                   ) -> tuple[pd.DataFrame, np.ndarray]:
    """Train/val label noise on the masks of each group, test left clean. Adds ``mask_noise``
    (``none``, ``eroded`` or ``missed``) and sets ``y`` to whether the recorded mask is non-empty
    (a mask eroded to nothing is a missed lesion); ``y_clean`` stays "a lesion was drawn"."""
    meta = meta.copy()
    noise = np.full(len(meta), "none", dtype=object)
    if apply:
        dev = meta["split"].to_numpy() != "test"
        group_f = (meta["sex"].to_numpy() == "F").astype(int)
        has_lesion = foreground(masks)
        for g, pixels in enumerate(spec.mask_erosion):
            rows = np.flatnonzero(dev & (group_f == g) & has_lesion)
            if int(pixels) > 0 and len(rows):
                masks[rows] = erode(masks[rows], int(pixels))
                noise[rows] = "eroded"
        missed = dev & (meta["y_clean"].to_numpy() == 1) & (meta["y"].to_numpy() == 0)
        masks[missed] = 0  # under-diagnosis: the lesion is in the image but not in its mask
        noise[missed] = "missed"
        noise[(noise == "eroded") & ~foreground(masks)] = "missed"
    meta["y"] = foreground(masks).astype(int)
    meta["mask_noise"] = noise
    return meta, masks
