"""Segmentation masks in the prepared-dataset contract (docs/contracts.md, contract 1).

A segmentation dataset (manifest ``task: segmentation``) has ``masks.npy`` beside ``images.npy``:
uint8 label maps N×H×W (N×D×H×W for volumes), the spatial shape of the images without their
channel axis, row *i* the mask of image *i*. The manifest's ``classes`` names each label
(``{"background": 0, "lesion": 1}``); 0 is always the background. These checks run when the
contract is written and again whenever it is loaded, so a mask a model trains on is never
silently of the wrong shape or holds a label nobody declared.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fairmedia import layout
from fairmedia.errors import UserError

TASKS = ("classification", "segmentation")
DEFAULT_TASK = "classification"
BACKGROUND = "background"
ROWS_PER_CHECK = 256  # masks read per step of the label census (bounded memory on a memory map)


def check_task(task: Any, source: str) -> str:
    if task not in TASKS:
        raise UserError(f"{source}: task {task!r} is not one of {', '.join(TASKS)}")
    return str(task)


def validate_classes(classes: Any, source: str) -> dict[str, int]:
    """``{name: label}`` with distinct integer labels in 0..255 and ``background`` = 0."""
    if not isinstance(classes, Mapping) or not classes:
        raise UserError(f"{source}: classes must be a mapping of class name to integer label "
                        f"(e.g. {{background: 0, lesion: 1}}); got {classes!r}")
    out: dict[str, int] = {}
    for name, label in classes.items():
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 255:
            raise UserError(f"{source}: class {name!r} has label {label!r}; expected an integer "
                            "in 0..255 (masks.npy is uint8)")
        out[str(name)] = label
    if out.get(BACKGROUND) != 0:
        raise UserError(f"{source}: classes must map {BACKGROUND!r} to 0; got {classes!r}")
    if len(set(out.values())) != len(out):
        raise UserError(f"{source}: two classes share a label: {classes!r}")
    return out


def labels_present(masks: np.ndarray) -> set[int]:
    """Every label value that occurs in ``masks`` (read in blocks: masks may be memory-mapped)."""
    seen = np.zeros(256, dtype=bool)
    for lo in range(0, len(masks), ROWS_PER_CHECK):
        block = np.asarray(masks[lo:lo + ROWS_PER_CHECK])
        seen |= np.bincount(block.ravel(), minlength=256).astype(bool)
    return {int(v) for v in np.flatnonzero(seen)}


def validate_masks(masks: np.ndarray, image_shape: tuple[int, ...], classes: dict[str, int],
                   source: str | Path) -> None:
    """``masks`` fits images of shape ``image_shape`` (N×C×spatial) and holds declared labels."""
    expected = (image_shape[0], *image_shape[2:])
    if masks.dtype != np.uint8:
        raise UserError(f"{source}: masks must be uint8 label maps; got dtype {masks.dtype}")
    if tuple(masks.shape) != expected:
        raise UserError(f"{source}: masks have shape {tuple(masks.shape)}, expected {expected} "
                        f"(one label map per image of images.npy {tuple(image_shape)}, without "
                        "the channel axis)")
    undeclared = sorted(labels_present(masks) - set(classes.values()))
    if undeclared:
        raise UserError(f"{source}: masks hold label(s) {undeclared} that the manifest's classes "
                        f"{classes} do not declare")


def foreground(masks: np.ndarray) -> np.ndarray:
    """Per row, whether its mask has any non-background voxel (the image-level ``y`` of a
    segmentation dataset: lesion or structure present)."""
    flat = np.asarray(masks).reshape(len(masks), -1)
    return (flat > 0).any(axis=1)


def write_masks(out: Path, masks: np.ndarray | None, image_shape: tuple[int, ...],
                classes: dict[str, int]) -> None:
    """Publish ``masks`` as ``out/masks.npy`` (or check the one an ``ImageArrayWriter`` filled)."""
    path = out / layout.MASKS
    if masks is not None:
        validate_masks(masks, image_shape, classes, "masks to write")
        tmp = out / (layout.MASKS + ".partial")
        with open(tmp, "wb") as fh:
            np.save(fh, masks, allow_pickle=False)
        os.replace(tmp, path)
        return
    if not path.exists():
        raise ValueError(f"a segmentation dataset needs masks: none given and no {path}")
    validate_masks(np.load(path, mmap_mode="r", allow_pickle=False), image_shape, classes, path)


def load_masks(root: Path, manifest: dict[str, Any], image_shape: tuple[int, ...]) -> np.ndarray | None:
    """The memory-mapped, checked masks of a segmentation dataset; None for classification."""
    source = root / "manifest.json"
    if check_task(manifest.get("task", DEFAULT_TASK), str(source)) != "segmentation":
        return None
    classes = validate_classes(manifest.get("classes"), f"{source} (key 'classes')")
    path = root / layout.MASKS
    if not path.exists():
        raise UserError(f"prepared dataset {root} is a segmentation dataset but {path} is missing "
                        "(prepare it again)")
    try:
        masks = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise UserError(f"{path} is not a readable .npy array: {err}") from None
    validate_masks(masks, tuple(image_shape), classes, path)
    return masks
