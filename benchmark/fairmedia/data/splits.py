"""Patient-level train/val/test splits, deterministic from a seed.

Every image of a patient lands in the same split, so no patient's anatomy leaks from training
into evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def patient_split(
    patient_ids: pd.Series | np.ndarray,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> np.ndarray:
    """Assign each row to ``train``/``val``/``test`` by its patient.

    Patients are sorted (so the result does not depend on row order), permuted with
    ``numpy.random.default_rng(seed)`` and cut at the cumulative ``fractions`` of patients.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1):
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    pids = pd.Series(np.asarray(patient_ids)).astype(str)
    unique = np.sort(pids.unique())
    order = np.random.default_rng(seed).permutation(len(unique))
    cuts = np.round(np.cumsum(fractions)[:2] * len(unique)).astype(int)
    assignment = np.empty(len(unique), dtype=object)
    assignment[order[: cuts[0]]] = "train"
    assignment[order[cuts[0] : cuts[1]]] = "val"
    assignment[order[cuts[1] :]] = "test"
    lookup = dict(zip(unique, assignment))
    return pids.map(lookup).to_numpy(dtype=object)
