"""3D mode of the synthetic generator: small phantom volumes (``SyntheticSpec.dims == 3``).

The phantom is the 2D chest phantom of ``synthetic.py`` given depth: an ellipsoidal "body" with
two darker ellipsoids (lungs or ventricles), two benign blobs of either sign, and — for positive
cases — a Gaussian lesion blob in one of the dark regions. Every knob acts as in 2D:

- ``visibility`` widens group F's body (the group is visible in the volume);
- ``contrast`` and ``age_contrast`` scale the lesion's amplitude per group (difficulty);
- ``lesion_size`` scales the lesion's radius per group (and its mask, for segmentation);
- ``presentation_shift`` turns group F's lesions from bright to dark (polarity);
- the shortcut ``marker`` is a bright cube in a corner;
- ``noise`` is additive Gaussian noise; labels, groups and splits come from the shared metadata.

Vectorised numpy over a chunk of volumes at a time (bounded memory), deterministic from
``spec.seed``: each chunk has its own generator keyed by (seed, 3, first row).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.synthetic_masks import lesion_mask

GROUP_F = "F"
VOXELS_PER_CHUNK = 1 << 23  # ~8M voxels: each float32 temporary of a chunk stays near 32 MB


def _ellipsoid(grid: tuple[np.ndarray, ...], centre: tuple[Any, ...], radii: tuple[Any, ...]) -> np.ndarray:
    # Soft edge (a steep logistic), as in 2D, so the shape does not alias at small sizes.
    d = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii))
    return 1.0 / (1.0 + np.exp(np.clip((d - 1.0) * 12.0, -30, 30)))


def _blob(grid: tuple[np.ndarray, ...], centre: tuple[Any, ...], sigma: Any) -> np.ndarray:
    d2 = sum((g - c) ** 2 for g, c in zip(grid, centre))
    return np.exp(-d2 / (2 * sigma**2))


def render_volumes(meta: pd.DataFrame, spec: Any, chunk: int | None = None,
                   masks: np.ndarray | None = None) -> np.ndarray:
    """Draw every volume (uint8, N×1×S×S×S) for the rows of ``meta``. Given ``masks`` (uint8
    N×S×S×S), fill it with the mask of each drawn lesion (``synthetic_masks.lesion_mask``)."""
    s = int(spec.size)
    if chunk is None:
        chunk = max(1, VOXELS_PER_CHUNK // s**3)
    axis = np.linspace(-1, 1, s, dtype=np.float32)
    zz, yy, xx = (a[None] for a in np.meshgrid(axis, axis, axis, indexing="ij"))
    grid = (xx, yy, zz)
    out = np.empty((len(meta), 1, s, s, s), dtype=np.uint8)
    female = (meta["sex"].to_numpy() == GROUP_F).astype(np.float32)
    old = (meta["age_group"].to_numpy() == "61+") if "age_group" in meta else np.zeros(len(meta), bool)
    y_all = meta["y_clean"].to_numpy().astype(np.float32)
    marker_all = meta["marker"].to_numpy().astype(bool)

    for start in range(0, len(meta), chunk):
        sl = slice(start, min(start + chunk, len(meta)))
        b = sl.stop - sl.start
        rng = np.random.default_rng([spec.seed, 3, start])

        def col(v: Any) -> np.ndarray:
            return np.asarray(v, dtype=np.float32).reshape(-1, 1, 1, 1)

        g = col(female[sl])
        shift = tuple(col(rng.normal(0, 0.04, b)) for _ in range(3))
        width = 0.72 * (1 + 0.18 * spec.visibility * g) * col(rng.normal(1, 0.03, b))
        vol = 0.55 * _ellipsoid(grid, shift, (width, 0.9, 0.8))
        for side in (-1, 1):
            centre = (shift[0] + side * 0.33 * width / 0.72, shift[1] - 0.05, shift[2])
            vol = vol - 0.25 * _ellipsoid(grid, centre, (0.22, 0.5, 0.45))
        # Benign structures of either sign make lesions less trivial to spot.
        for _ in range(2):
            centre = tuple(col(rng.uniform(-0.5, 0.5, b)) for _ in range(3))
            vol = vol + col(rng.normal(0, 0.08, b)) * _blob(grid, centre, 0.07)
        side = np.where(rng.random(b) < 0.5, -1.0, 1.0)
        lesion = (
            col(side * 0.33 + rng.uniform(-0.1, 0.1, b)) + shift[0],
            col(rng.uniform(-0.35, 0.25, b)) + shift[1],
            col(rng.uniform(-0.3, 0.3, b)) + shift[2],
        )
        sigma = col(rng.uniform(0.09, 0.13, b))  # a little wider than 2D: fewer voxels per side
        if tuple(spec.lesion_size) != (1.0, 1.0):  # skipped at the default: volumes as before
            sigma = sigma * col(np.asarray(spec.lesion_size, dtype=np.float32)[female[sl].astype(int)])
        if masks is not None:
            d2 = sum((g_ - c) ** 2 for g_, c in zip(grid, lesion))
            masks[sl] = lesion_mask(d2, sigma, y_all[sl])
        contrast = np.asarray(spec.contrast, dtype=np.float32)[female[sl].astype(int)]
        contrast = contrast * np.where(old[sl], spec.age_contrast, 1.0)
        polarity = 1.0 - 2.0 * spec.presentation_shift * female[sl]
        vol = vol + col(0.4 * y_all[sl] * contrast * polarity) * _blob(grid, lesion, sigma)
        vol = vol * col(rng.normal(1, 0.05, b))
        vol = vol + rng.normal(0, spec.noise, vol.shape).astype(np.float32)
        m = max(2, s // 16)
        vol[marker_all[sl], : m, 1 : 1 + m, 1 : 1 + m] = 1.0
        out[sl, 0] = np.clip(vol * 255.0, 0, 255).astype(np.uint8)
    return out
