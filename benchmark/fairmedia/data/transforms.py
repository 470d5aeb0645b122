"""Image and volume transforms, built from MONAI's array transforms.

- :func:`train_transform` — on-the-fly augmentation for training images (already standardised
  floats, C×H×W or C×D×H×W, read one at a time from the memory-mapped array): a random left–right
  flip, a small random affine (rotation, scale) and, for volumes, a random crop of the padded
  volume back to the prepared shape (a translation that keeps the shape the network expects).
- :func:`intensity` — prepare-time intensity scaling of a raw volume to uint8 (percentile
  clipping for MRI/OCT, a fixed Hounsfield window for CT, or min–max).

Determinism: MONAI's random transforms draw from their own ``numpy.random.RandomState``. Seeding
it once would make every image's augmentation depend on how many images the process has seen
before, and would escape the training loop's checkpointed RNG state. Instead, each call draws one
seed from **torch's** RNG (seeded by the loop, saved in its checkpoints and, in DataLoader workers,
derived from the loader's generator) and reseeds the MONAI transforms with it. A CPU run —
resumed or not — therefore augments bit-identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from fairmedia.errors import UserError

ROTATE_RADIANS = 0.1  # ±5.7°: anatomy stays plausible
SCALE_RANGE = 0.08  # ±8 % zoom
TRANSLATE_FRACTION = 0.0625  # volumes: pad 1/16 of each side, then crop back at a random offset


class SeededFromTorch:
    """Apply a MONAI transform after reseeding it from torch's RNG (see the module docstring)."""

    def __init__(self, transform: Any):
        self.transform = transform

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        self.transform.set_random_state(seed=seed)
        out = self.transform(x)
        # MONAI returns a MetaTensor; a plain tensor keeps collation and methods unchanged.
        return out.as_tensor() if hasattr(out, "as_tensor") else torch.as_tensor(out)


def train_transform(
    spatial_dims: int, image_shape: tuple[int, ...]
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The augmentation for training images of shape ``image_shape`` (C×H×W or C×D×H×W)."""
    from monai.transforms import Compose, RandAffine, RandFlip, RandSpatialCrop, SpatialPad

    if spatial_dims not in (2, 3) or len(image_shape) != spatial_dims + 1:
        raise UserError(f"augmentation needs a C×H×W or C×D×H×W shape, got {image_shape} "
                        f"for {spatial_dims}D data")
    spatial = tuple(int(s) for s in image_shape[1:])
    rotate = (ROTATE_RADIANS,) if spatial_dims == 2 else (ROTATE_RADIANS,) * 3
    steps: list[Any] = [
        # Only the last axis (left–right) is flipped: an upside-down chest or brain is not a
        # plausible image, a mirrored one nearly is.
        RandFlip(prob=0.5, spatial_axis=spatial_dims - 1),
        # "border" repeats the edge voxels, so no mid-grey frame appears around the background.
        RandAffine(prob=0.5, rotate_range=rotate, scale_range=SCALE_RANGE, padding_mode="border",
                   spatial_size=spatial),
    ]
    if spatial_dims == 3:
        margin = tuple(max(1, round(s * TRANSLATE_FRACTION)) for s in spatial)
        steps += [
            SpatialPad(spatial_size=tuple(s + 2 * m for s, m in zip(spatial, margin)),
                       mode="replicate"),
            RandSpatialCrop(roi_size=spatial, random_size=False),
        ]
    return SeededFromTorch(Compose(steps))


def intensity(volume: np.ndarray, rule: dict[str, Any] | None = None) -> np.ndarray:
    """Scale a raw volume (any numeric dtype) to uint8 0..255 by ``rule``:

    - ``{mode: percentile, lower: 0.5, upper: 99.5}`` (default) — robust to the few very bright
      voxels MRI and OCT have (vessels, fat, reflections);
    - ``{mode: window, min: -1000, max: 400}`` — a fixed window in the scanner's units (CT: HU),
      so intensities mean the same thing in every volume;
    - ``{mode: minmax}`` — each volume's own range.
    """
    from monai.transforms import ScaleIntensityRange

    rule = rule or {}
    mode = rule.get("mode", "percentile")
    v = np.nan_to_num(np.asarray(volume, dtype=np.float32))
    if mode == "percentile":
        lo, hi = np.percentile(v, [float(rule.get("lower", 0.5)), float(rule.get("upper", 99.5))])
    elif mode == "window":
        if "min" not in rule or "max" not in rule:
            raise UserError(f"intensity window needs min and max, got {rule}")
        lo, hi = float(rule["min"]), float(rule["max"])
    elif mode == "minmax":
        lo, hi = float(v.min()), float(v.max())
    else:
        raise UserError(f"intensity mode {mode!r} is not percentile, window or minmax")
    if hi <= lo:  # mostly-constant volume (e.g. an all-black padded scan): fall back to its range
        lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return np.zeros(v.shape, dtype=np.uint8)
    out = np.asarray(ScaleIntensityRange(float(lo), float(hi), 0.0, 255.0, clip=True)(v))
    return np.rint(out).astype(np.uint8)
