"""Model-selection rules over a candidates × groups table of validation AUCs.

The same small pure functions choose at two levels (docs/statistics.md, "Model selection"):

- across the epochs of one run (``select_epoch``; ``training/outputs.py`` and
  ``evaluation/run_evaluation.py``), from the saved per-epoch val scores;
- across hyperparameter configurations ``<method>@hp<k>`` (``report/hparam_choice.py``), from the
  val metrics of each configuration's selected model averaged over seeds.

Rules (Zong et al., "MEDFAIR: Benchmarking Fairness for Medical Imaging", ICLR 2023, §4 and its
``notebooks/results_analysis.ipynb``); ``A`` is the candidates × groups matrix of val AUC:

- ``overall``: argmax of the overall val AUC;
- ``worst_group``: argmax_c min_g A[c, g];
- ``dto``: MEDFAIR's distance to the optimum: argmin_c ||A[c, :] / u - 1||_2 with the utopia
  point u_g = max_c A[c, g];
- ``pareto``: MEDFAIR's minimax Pareto rule: among the Pareto-optimal candidates (no other is >= in
  every group and > in one), the one with the best AUC on the group g* = argmin_g max_c A[c, g]
  (the group whose best achievable AUC is lowest). MEDFAIR fixes g* once from ERM's candidates; a
  caller passes it as ``worst_group=`` (the hyperparameter level does so from the baseline's
  configurations), otherwise g* is taken from these candidates themselves;
- ``min_encoding`` (after Yang et al., "The limits of fair medical imaging AI in real-world
  generalization", Nature Medicine 2024): among the candidates whose overall val AUC is within
  ``tolerance`` (absolute, default ``ENCODING_TOLERANCE`` = 0.01) of the best, the one whose val
  features encode the attribute least — the lowest cross-validated probe AUC (the raw AUC, not
  its distance from 0.5: an out-of-fold AUC below 0.5 is noise of a probe that finds nothing;
  ``diagnostics/encoding.py`` for the probe). With a single candidate within tolerance that one
  is chosen; a candidate without an encoding score is not eligible; with no encoding scores at
  all (a run trained before they were recorded, or the hyperparameter level, where none are
  collected) the rule is ``overall``.

Groups whose AUC is undefined (one class) for some candidate are left out of the table; with no
group left every rule falls back to ``overall``. Ties go to the earliest candidate.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

SELECTIONS = ("overall", "worst_group", "dto", "pareto", "min_encoding")
ENCODING_TOLERANCE = 0.01


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def val_auc_by_epoch(
    scores: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``scores`` is epochs × val rows. Returns overall AUC per epoch and an epochs × groups
    matrix of per-group AUC (NaN for a group with one class)."""
    names = np.unique(groups)
    overall = np.array([_auc(y, s) for s in scores])
    per_group = np.array([[_auc(y[groups == g], s[groups == g]) for g in names] for s in scores])
    return overall, per_group.reshape(len(scores), len(names))


# --- the rules: pure functions of a candidates × groups matrix (all groups defined) -----------

def worst_group_scores(aucs: np.ndarray) -> np.ndarray:
    """min_g A[c, g] per candidate (higher is better)."""
    return aucs.min(axis=1)


def dto_distances(aucs: np.ndarray) -> np.ndarray:
    """MEDFAIR's DTO per candidate (lower is better): ||A[c, :] / max_c A[:, g] - 1||_2."""
    utopia = aucs.max(axis=0)
    # A zero utopia (every candidate AUC 0) leaves that group's ratio at 1, i.e. no distance.
    ratio = aucs / np.where(utopia > 0, utopia, 1.0)
    ratio[:, utopia <= 0] = 1.0
    return np.sqrt(((ratio - 1.0) ** 2).sum(axis=1))


def pareto_front(aucs: np.ndarray) -> np.ndarray:
    """Boolean mask of the Pareto-optimal candidates when every group's AUC is maximised:
    candidate c is dominated when some d has A[d] >= A[c] everywhere and > somewhere. Identical
    candidates do not dominate each other (both stay on the front)."""
    geq = (aucs[:, None, :] >= aucs[None, :, :]).all(axis=2)  # geq[d, c]: d >= c everywhere
    gt = (aucs[:, None, :] > aucs[None, :, :]).any(axis=2)
    dominated = (geq & gt).any(axis=0)
    return ~dominated


def minimax_group(aucs: np.ndarray) -> int:
    """g* = argmin_g max_c A[c, g]: the group whose best AUC over the candidates is lowest
    (MEDFAIR's ``find_mingroup``)."""
    return int(np.argmin(aucs.max(axis=0)))


def pareto_choice(aucs: np.ndarray, worst_group: int | None = None) -> int:
    """Index of the Pareto-optimal candidate best on ``worst_group`` (default: ``minimax_group``
    of these candidates); the earliest among ties."""
    g = minimax_group(aucs) if worst_group is None else int(worst_group)
    on_front = pareto_front(aucs)
    value = np.where(on_front, aucs[:, g], -np.inf)
    return int(np.argmax(value))


def min_encoding_choice(overall: np.ndarray, encoding: np.ndarray,
                        tolerance: float = ENCODING_TOLERANCE) -> int:
    """Index of the candidate with the lowest ``encoding`` among those whose ``overall`` is at
    least max(overall) - ``tolerance`` (earliest among ties); the best ``overall`` when no such
    candidate has a finite encoding."""
    overall, encoding = np.asarray(overall, dtype=float), np.asarray(encoding, dtype=float)
    best = int(np.nanargmax(overall)) if np.isfinite(overall).any() else len(overall) - 1
    eligible = (overall >= overall[best] - tolerance) & np.isfinite(encoding)
    if not eligible.any():
        return best
    return int(np.argmin(np.where(eligible, encoding, np.inf)))


def choose(
    rule: str, overall: np.ndarray, per_group: np.ndarray, *, worst_group: int | None = None,
    encoding: np.ndarray | None = None, tolerance: float = ENCODING_TOLERANCE,
) -> int:
    """Index of the candidate ``rule`` picks from ``overall`` (candidates,) and ``per_group``
    (candidates × groups, NaN where undefined). ``worst_group``: the pareto rule's fixed group,
    a column of ``per_group`` (ignored by the other rules; recomputed from these candidates when
    that column is undefined for some candidate). ``encoding`` (candidates,) and ``tolerance``:
    the min_encoding rule's per-candidate attribute encoding and AUC tolerance."""
    overall = np.asarray(overall, dtype=float)
    per_group = np.asarray(per_group, dtype=float).reshape(len(overall), -1)
    if rule not in SELECTIONS:
        raise ValueError(f"unknown selection {rule!r}; valid: {', '.join(SELECTIONS)}")
    if rule == "min_encoding":
        if encoding is None:
            return choose("overall", overall, per_group)
        return min_encoding_choice(overall, encoding, tolerance)
    if rule == "overall":
        return int(np.nanargmax(overall)) if np.isfinite(overall).any() else len(overall) - 1
    keep = np.isfinite(per_group).all(axis=0)
    valid = per_group[:, keep]
    if valid.shape[1] == 0:
        return choose("overall", overall, per_group)
    if rule == "worst_group":
        return int(np.argmax(worst_group_scores(valid)))
    if rule == "dto":
        return int(np.argmin(dto_distances(valid)))
    fixed = None
    if worst_group is not None and keep[worst_group]:
        fixed = int(np.cumsum(keep)[worst_group] - 1)  # its column among the kept groups
    return pareto_choice(valid, fixed)


def select_epoch(criterion: str, overall: np.ndarray, per_group: np.ndarray, *,
                 encoding: np.ndarray | None = None,
                 tolerance: float = ENCODING_TOLERANCE) -> int:
    """Index of the chosen epoch of one run (see the module docstring for the rules).

    Within a run, ``pareto``'s group g* is fixed from the run's own epochs: the runs of a grid
    are independent jobs, and the baseline's run of the same seed need not exist when a run is
    trained or evaluated. MEDFAIR's fixing from ERM's candidates applies at the hyperparameter
    level (``report/hparam_choice.py``), where the baseline's runs are part of the block; for ERM
    itself the two coincide.
    """
    return choose(criterion, overall, per_group, encoding=encoding, tolerance=tolerance)
