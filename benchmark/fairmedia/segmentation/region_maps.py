"""Per-region disparity maps: where in the image each group's segmentation errors fall.

After Ioannou et al. (2022, "A study of demographic bias in CNN-based brain MR segmentation"),
who compare groups' errors region by region rather than as one number. Here a case's error map
is 1 where the prediction and the reference disagree on the class (false positive or false
negative pixel), and a group's map is the mean over its cases: the per-pixel error rate. Cases of
different shapes are averaged on a coarse ``grid`` of equal fractions of each axis (each cell the
case's fraction of wrong pixels in it); masks of one shape can use the pixel grid itself.
The figure shows each group's map and the difference worst − best group (by mean Dice).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from fairmedia.errors import UserError


def _coarse(error: np.ndarray, grid: Sequence[int]) -> np.ndarray:
    """Mean of ``error`` in each cell of a ``grid`` of equal fractions of every axis."""
    cell = [np.minimum((np.arange(n) * g) // n, g - 1) for n, g in zip(error.shape, grid)]
    ids = np.ravel_multi_index(np.meshgrid(*cell, indexing="ij"), tuple(grid)).ravel()
    size = int(np.prod(grid))
    sums = np.bincount(ids, weights=error.ravel().astype(float), minlength=size)
    counts = np.bincount(ids, minlength=size)
    with np.errstate(invalid="ignore"):
        return (sums / counts).reshape(grid)


class GroupErrorMaps:
    """Running per-group sums of error maps for one class (``labels``), case by case, so a
    folder of masks is read once and never held in memory whole."""

    def __init__(self, labels: Sequence[int], grid: Sequence[int] | None = None):
        self.labels = list(labels)
        self.grid = None if grid is None else tuple(int(g) for g in grid)
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}
        self.shape: tuple[int, ...] | None = None

    def add(self, group: str, pred: np.ndarray, ref: np.ndarray, case_id: str = "") -> None:
        error = np.isin(pred, self.labels) != np.isin(ref, self.labels)
        if self.grid is not None:
            if len(self.grid) != error.ndim:
                raise UserError(f"case {case_id}: a {error.ndim}-D mask and a "
                                f"{len(self.grid)}-D map grid {list(self.grid)}")
            error = _coarse(error, self.grid)
        elif self.shape is not None and error.shape != self.shape:
            raise UserError(f"case {case_id}: shape {error.shape} differs from the earlier cases' "
                            f"{self.shape}; a per-pixel map needs one shape, give a coarse grid "
                            "(e.g. --map-grid 32,32)")
        self.shape = error.shape
        self.sums[group] = self.sums.get(group, 0) + error
        self.counts[group] = self.counts.get(group, 0) + 1

    def maps(self) -> dict[str, dict[str, object]]:
        """``{group: {"map": per-pixel error rate, "n": cases}}``, groups sorted by name."""
        return {g: {"map": self.sums[g] / self.counts[g], "n": self.counts[g]}
                for g in sorted(self.sums)}


def group_error_maps(
    cases: Iterable[tuple[str, np.ndarray, np.ndarray]],
    labels: Sequence[int],
    *,
    grid: Sequence[int] | None = None,
) -> dict[str, dict[str, object]]:
    """``{group: {"map", "n"}}`` over ``(group, pred, ref)``; ``grid=None``: one shape for all."""
    acc = GroupErrorMaps(labels, grid)
    for group, pred, ref in cases:
        acc.add(group, pred, ref)
    return acc.maps()


def _shown(image: np.ndarray) -> np.ndarray:
    """A 3-D map is shown as its mean over the first axis (slices), a 2-D one as it is."""
    return image.mean(axis=0) if image.ndim == 3 else image


def plot_region_maps(maps: dict[str, dict[str, object]], worst: str, best: str, stem: Path,
                     *, title: str) -> list[Path]:
    """Each group's error-rate map and the difference worst − best; PNG (200 dpi) + PDF."""
    import matplotlib.pyplot as plt

    from fairmedia.report.style import RC, save

    with plt.rc_context(RC):
        n = len(maps) + 1
        fig, axes = plt.subplots(1, n, figsize=(2.0 * n + 0.6, 2.4), squeeze=False)
        axes = axes[0]
        top = max(float(np.nanmax(_shown(m["map"]))) for m in maps.values()) or 1.0
        for ax, (group, entry) in zip(axes, maps.items()):
            im = ax.imshow(_shown(entry["map"]), cmap="viridis", vmin=0, vmax=top)
            ax.set_title(f"{group} (n={entry['n']})")
        fig.colorbar(im, ax=list(axes[:-1]), shrink=0.8, label="error rate ↓")
        diff = _shown(maps[worst]["map"]) - _shown(maps[best]["map"])
        span = float(np.nanmax(np.abs(diff))) or 1.0
        im = axes[-1].imshow(diff, cmap="RdBu_r", vmin=-span, vmax=span)
        axes[-1].set_title(f"{worst} − {best}")
        fig.colorbar(im, ax=axes[-1], shrink=0.8, label="error-rate difference")
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)  # an image needs no axis lines
        flat = any(np.ndim(m["map"]) == 3 for m in maps.values())
        fig.suptitle(title + (" (3-D: mean over the first axis)" if flat else ""))
        return save(fig, stem)
