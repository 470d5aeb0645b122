"""Procedurally generated "chest-phantom" images with tunable sources of unfairness.

Each knob injects one source of bias named in the review behind this project (under-representation,
prevalence shift, difficulty, group visibility, a shortcut marker, under-diagnosis label noise);
``datasets/synthetic.yaml`` documents what each preset is expected to do to ERM. The generator is
vectorised numpy and deterministic from ``seed``. Group ``F`` of ``sex`` is the group the knobs act
on (an arbitrary choice; nothing here models real anatomy).

With ``task="segmentation"`` (the ``seg-*`` presets, ``synthetic_masks.py``) the generator also
writes the mask of the lesion it drew; the images, labels and splits stay those of the same knobs
without it, and a classification dataset is byte-for-byte what it was before masks existed.
"""

from __future__ import annotations

import math
import typing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.prepared import write_prepared
from fairmedia.data.splits import patient_split
from fairmedia.data.synthetic_masks import (
    ADDED_WITH_MASKS,
    CLASSES,
    SEGMENTATION_PRESETS,
    add_mask_noise,
    check_segmentation_knobs,
    lesion_mask,
)
from fairmedia.errors import UserError

GROUPS = ("M", "F")  # index 1 is the group every knob acts on
CARD_VERSION = 1


@dataclass(frozen=True)
class SyntheticSpec:
    n: int = 4000
    size: int = 64
    seed: int = 0
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    group_share_train: float = 0.5  # share of group F among training patients
    group_share_eval: float = 0.5  # share of group F among val/test patients
    prevalence: tuple[float, float] = (0.5, 0.5)  # P(disease) for M, F
    contrast: tuple[float, float] = (1.0, 1.0)  # lesion contrast for M, F (lower = harder)
    presentation_shift: float = 0.0  # 0: same lesion look; 1: F lesions are dark instead of bright
    visibility: float = 0.0  # 0: groups look alike; 1: F bodies clearly wider
    shortcut: tuple[float, float] = (0.0, 0.0)  # marker–label correlation in train/val for M, F
    shortcut_test: str = "same"  # same | reverse | remove
    underdiagnosis: tuple[float, float] = (0.0, 0.0)  # P(positive labelled 0) in train/val
    second_attribute: bool = False  # add `age` / `age_group` (>60) with its own difficulty
    age_contrast: float = 1.0  # lesion contrast multiplier for age_group 1
    noise: float = 0.12
    dims: int = 2  # 2: N×1×S×S images; 3: N×1×S×S×S phantom volumes (synthetic_3d.py)
    task: str = "classification"  # segmentation: also write the lesion masks (synthetic_masks.py)
    lesion_size: tuple[float, float] = (1.0, 1.0)  # lesion radius multiplier for M, F
    mask_erosion: tuple[float, float] = (0.0, 0.0)  # segmentation: mask erosion (px) in train/val
    # Scanner shift (the shifted twin): stored grey level v becomes v·scale + offset·255.
    intensity_scale: float = 1.0
    intensity_offset: float = 0.0
    shift: str = "none"  # a named shift from SHIFTS, applied on top of the preset
    extra: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, dict[str, Any]] = {
    "none": {},
    "representation": {"group_share_train": 0.1, "presentation_shift": 1.0, "visibility": 0.5},
    "prevalence": {"prevalence": (0.5, 0.15), "visibility": 1.0},
    "difficulty": {"contrast": (1.0, 0.45)},
    "shortcut": {"shortcut": (0.2, 0.9), "shortcut_test": "reverse", "visibility": 1.0},
    "underdiagnosis": {"underdiagnosis": (0.0, 0.5), "visibility": 1.0},
    "mixed": {
        "group_share_train": 0.2,
        "presentation_shift": 1.0,
        "contrast": (1.0, 0.7),
        "underdiagnosis": (0.0, 0.2),
        "visibility": 0.5,
        "second_attribute": True,
        "age_contrast": 0.8,
    },
    **SEGMENTATION_PRESETS,
}


# Shifted twins: the same preset, seed and patients seen through another "scanner" (gain, offset,
# more noise) and/or with the shortcut marker reversed at test. A model trained on the preset and
# tested on its twin measures out-of-distribution behaviour (docs/ood.md).
SHIFTS: dict[str, dict[str, Any]] = {
    "none": {},
    "scanner": {"intensity_scale": 0.8, "intensity_offset": 0.1, "noise": 0.18},
    "shortcut": {"shortcut_test": "reverse"},
    "scanner+shortcut": {"intensity_scale": 0.8, "intensity_offset": 0.1, "noise": 0.18,
                         "shortcut_test": "reverse"},
}


# Smallest sensible values of the size-like knobs (a phantom needs a few pixels per side).
_MINIMUM = {"n": 1, "size": 8, "seed": 0}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_knob(name: str, value: Any, kind: Any) -> None:
    """A ``UserError`` naming the knob, the expected type and the value when ``value`` does not
    fit the field's annotation (``--set contrast=abc``, ``--n -5``)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is int:
        ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif kind is float:
        ok, expected = _number(value) and math.isfinite(value), "a number"
    elif kind is bool:
        ok, expected = isinstance(value, bool), "true or false"
    elif kind is str:
        ok, expected = isinstance(value, str), "a string"
    elif origin is tuple:
        expected = f"a list of {len(args)} numbers, e.g. [{', '.join(['0.5'] * len(args))}]"
        ok = isinstance(value, (tuple, list)) and len(value) == len(args) and all(
            _number(v) and math.isfinite(v) for v in value)
    elif origin is dict:
        ok, expected = isinstance(value, dict), "a mapping"
    else:  # a field type this check does not know: leave it to the generator
        return
    if ok and name in _MINIMUM and value < _MINIMUM[name]:
        ok, expected = False, f"an integer >= {_MINIMUM[name]}"
    if not ok:
        raise UserError(f"synthetic option {name!r} must be {expected}; got {value!r}"
                        f" ({type(value).__name__})")


def spec_from_preset(preset: str, **overrides: Any) -> SyntheticSpec:
    if preset not in PRESETS:
        raise UserError(f"unknown synthetic preset {preset!r}; valid: {', '.join(PRESETS)}")
    fields = set(SyntheticSpec.__dataclass_fields__)
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UserError(f"unknown synthetic option(s) {unknown}; valid: {sorted(fields)}")
    shift = overrides.pop("shift", "none")
    if shift not in SHIFTS:
        raise UserError(f"unknown synthetic shift {shift!r}; valid: {', '.join(SHIFTS)}")
    spec = replace(SyntheticSpec(), **PRESETS[preset])
    spec = replace(spec, **SHIFTS[shift], shift=shift)  # explicit overrides below still win
    kinds = typing.get_type_hints(SyntheticSpec)
    for key, value in overrides.items():
        _check_knob(key, value, kinds[key])
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    spec = replace(spec, **overrides)
    if spec.shortcut_test not in ("same", "reverse", "remove"):
        raise UserError(f"shortcut_test must be same, reverse or remove, got {spec.shortcut_test!r}")
    check_segmentation_knobs(spec)
    return spec


def _patients(spec: SyntheticSpec, rng: np.random.Generator) -> np.ndarray:
    # 1 or 2 images per patient, so patient-level splitting matters.
    per_patient = rng.integers(1, 3, size=spec.n)
    owner = np.repeat(np.arange(spec.n), per_patient)[: spec.n]
    return owner


def generate_metadata(spec: SyntheticSpec) -> pd.DataFrame:
    rng = np.random.default_rng([spec.seed, 0])
    owner = _patients(spec, rng)
    n_pat = int(owner.max()) + 1
    pids = np.array([f"p{i:06d}" for i in range(n_pat)])
    split_of_patient = patient_split(pids, spec.split_fractions, seed=spec.seed)
    share = np.where(split_of_patient == "train", spec.group_share_train, spec.group_share_eval)
    female = rng.random(n_pat) < share
    age = rng.integers(20, 91, size=n_pat)
    split = split_of_patient[owner]
    g = female[owner].astype(int)
    prevalence = np.asarray(spec.prevalence)[g]
    y_clean = (rng.random(spec.n) < prevalence).astype(int)
    in_dev = split != "test"
    flip = (y_clean == 1) & in_dev & (rng.random(spec.n) < np.asarray(spec.underdiagnosis)[g])
    y = np.where(flip, 0, y_clean)
    corr = np.asarray(spec.shortcut)[g]
    agrees = rng.random(spec.n) < (1 + corr) / 2
    marker = np.where(agrees, y, 1 - y)
    has_shortcut = corr > 0
    marker = np.where(has_shortcut, marker, rng.random(spec.n) < 0.5).astype(int)
    test = split == "test"
    if spec.shortcut_test == "reverse":
        marker = np.where(test & has_shortcut, 1 - marker, marker)
    elif spec.shortcut_test == "remove":
        marker = np.where(test, 0, marker)
    meta = pd.DataFrame(
        {
            "sample_id": [f"s{i:06d}" for i in range(spec.n)],
            "patient_id": pids[owner],
            "split": split.astype(str),
            "y": y.astype(int),
            "y_clean": y_clean,
            "sex": np.asarray(GROUPS)[g],
            "marker": marker,
        }
    )
    if spec.second_attribute:
        meta["age"] = age[owner]
        meta["age_group"] = np.where(meta["age"] > 60, "61+", "0-60")
    return meta


def _ellipse(xx: np.ndarray, yy: np.ndarray, cx: np.ndarray, cy: np.ndarray, rx: Any, ry: Any) -> np.ndarray:
    # Soft edge (a steep logistic) instead of a hard mask, so resizing does not alias.
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    return 1.0 / (1.0 + np.exp(np.clip((d - 1.0) * 12.0, -30, 30)))


def render_images(meta: pd.DataFrame, spec: SyntheticSpec, chunk: int = 1024,
                  masks: np.ndarray | None = None) -> np.ndarray:
    """Draw all images (uint8, N×1×S×S), ``chunk`` rows at a time to bound memory. Given
    ``masks`` (uint8 N×S×S), fill it with the mask of each drawn lesion (``lesion_mask``)."""
    s = spec.size
    grid = np.linspace(-1, 1, s, dtype=np.float32)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    xx, yy = xx[None], yy[None]
    out = np.empty((len(meta), 1, s, s), dtype=np.uint8)
    g_all = (meta["sex"].to_numpy() == GROUPS[1]).astype(np.float32)
    old = (meta["age_group"].to_numpy() == "61+") if "age_group" in meta else np.zeros(len(meta), bool)
    for start in range(0, len(meta), chunk):
        sl = slice(start, min(start + chunk, len(meta)))
        rng = np.random.default_rng([spec.seed, 1, start])
        b = sl.stop - sl.start
        g = g_all[sl][:, None, None]
        col = lambda v: np.asarray(v, dtype=np.float32)[:, None, None]  # noqa: E731
        shift_x, shift_y = col(rng.normal(0, 0.04, b)), col(rng.normal(0, 0.04, b))
        width = 0.72 * (1 + 0.18 * spec.visibility * g) * col(rng.normal(1, 0.03, b))
        img = 0.55 * _ellipse(xx, yy, shift_x, shift_y, width, 0.9)
        for side in (-1, 1):
            lung = _ellipse(xx, yy, shift_x + side * 0.33 * width / 0.72, shift_y - 0.05, 0.22, 0.5)
            img = img - 0.25 * lung
        # Benign structures of either sign make lesions less trivial to spot.
        for _ in range(2):
            bx, by = col(rng.uniform(-0.5, 0.5, b)), col(rng.uniform(-0.5, 0.5, b))
            amp = col(rng.normal(0, 0.08, b))
            img = img + amp * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * 0.07**2))
        y = meta["y_clean"].to_numpy()[sl].astype(np.float32)
        side = np.where(rng.random(b) < 0.5, -1.0, 1.0)
        lx = col(side * 0.33 + rng.uniform(-0.1, 0.1, b)) + shift_x
        ly = col(rng.uniform(-0.35, 0.25, b)) + shift_y
        sigma = col(rng.uniform(0.07, 0.11, b))
        if spec.lesion_size != (1.0, 1.0):  # skipped at the default: images as before, bit for bit
            sigma = sigma * col(np.asarray(spec.lesion_size, dtype=np.float32)[g_all[sl].astype(int)])
        if masks is not None:
            masks[sl] = lesion_mask(((xx - lx) ** 2 + (yy - ly) ** 2), sigma, y)
        contrast = np.asarray(spec.contrast, dtype=np.float32)[g_all[sl].astype(int)]
        contrast = contrast * np.where(old[sl], spec.age_contrast, 1.0)
        polarity = 1.0 - 2.0 * spec.presentation_shift * g_all[sl]
        amp = col(0.4 * y * contrast * polarity)
        img = img + amp * np.exp(-((xx - lx) ** 2 + (yy - ly) ** 2) / (2 * sigma**2))
        img = img * col(rng.normal(1, 0.05, b)) + rng.normal(0, spec.noise, img.shape).astype(np.float32)
        marker = meta["marker"].to_numpy()[sl].astype(bool)
        m = max(2, s // 16)
        img[marker, 1 : 1 + m, 1 : 1 + m] = 1.0
        out[sl, 0] = np.clip(img * 255.0, 0, 255).astype(np.uint8)
    return out


def apply_scanner(images: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """A scanner's gain and offset on the stored grey levels (uint8 in, uint8 out)."""
    if scale == 1.0 and offset == 0.0:
        return images  # the default leaves the array untouched (bit-identical to earlier versions)
    shifted = images.astype(np.float32) * scale + offset * 255.0
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


def generate(spec: SyntheticSpec, *, clean_masks: bool = False
             ) -> tuple[pd.DataFrame, np.ndarray] | tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Metadata and images; for ``task="segmentation"`` also the masks (uint8 N×S×S or
    N×S×S×S), with the train/val label noise applied unless ``clean_masks``."""
    meta = generate_metadata(spec)
    segmentation = spec.task == "segmentation"
    masks = np.zeros((len(meta), *[spec.size] * spec.dims), np.uint8) if segmentation else None
    if spec.dims == 3:
        from fairmedia.data.synthetic_3d import render_volumes

        images = render_volumes(meta, spec, masks=masks)
    elif spec.dims == 2:
        images = render_images(meta, spec, masks=masks)
    else:
        raise UserError(f"synthetic dims must be 2 or 3, got {spec.dims}")
    images = apply_scanner(images, spec.intensity_scale, spec.intensity_offset)
    if masks is None:
        return meta, images
    meta, masks = add_mask_noise(meta, masks, spec, apply=not clean_masks)
    return meta, images, masks


def write_synthetic(out_dir: str | Path, preset: str = "mixed", **overrides: Any) -> Path:
    """Generate a preset and write it through the prepared-dataset contract."""
    spec = spec_from_preset(preset, **overrides)
    attributes = ["sex"] + (["age_group"] if spec.second_attribute else [])
    options = {"preset": preset, **{k: v for k, v in asdict(spec).items() if k != "extra"}}
    if spec.task == "classification":  # the manifest of a classification dataset as before masks
        default = SyntheticSpec()
        for key in ADDED_WITH_MASKS:
            if options[key] == getattr(default, key):
                options.pop(key)
    written = dict(dataset=f"synthetic-{preset}", card_version=CARD_VERSION,
                   attributes=attributes, options=options)
    if spec.task == "segmentation":
        meta, images, masks = generate(spec)
        return write_prepared(out_dir, meta, images, **written, task="segmentation",
                              classes=dict(CLASSES), masks=masks)
    meta, images = generate(spec)
    return write_prepared(out_dir, meta, images, **written)
