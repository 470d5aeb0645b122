"""Equity-scaled segmentation scores: overall performance discounted by the spread over groups.

Two published variants, both reported because they disagree on what "spread" is:

* FairSeg (Tian et al., ICLR 2024, "FairSeg: a large-scale medical image segmentation dataset for
  fairness learning using SAM with fair error-bound scaling"):
  ``es_dice_fairseg = Dice_all / (1 + Σ_g |Dice_g − Dice_all|)``. The sum grows with the number
  of groups, so values are comparable only between attributes with equally many groups.
* FairMedFM (Jin et al., NeurIPS 2024 datasets track): ``es_dice_fairmedfm = Dice_all / (1 +
  std_g Dice_g)``. Their code handles two groups; here the std is over all groups' means, the
  *population* std (ddof 0), as their ``np.std`` computes: the groups are every group of the
  attribute, not a sample of groups, and ddof 0 keeps it defined and unchanged for two groups.
  (FairSeg's repository has a std variant with the sample std; it is not reported.)

``Dice_all`` is the mean over all cases and ``Dice_g`` the mean over the cases of group ``g``.

HD95 is a distance (lower is better), so dividing would reward disparity. The "equity-scaled"
distances multiply by one plus the *relative* spread, so a disparity always makes them worse and
the score keeps the distance's unit (changing pixels to mm scales it, never reorders it)::

    es_hd95_fairseg   = HD_all · (1 + Σ_g |HD_g − HD_all| / HD_all) = HD_all + Σ_g |HD_g − HD_all|
    es_hd95_fairmedfm = HD_all · (1 + std_g HD_g / HD_all)          = HD_all + std_g HD_g

(``1 + Σ|ΔHD|`` with absolute distances would add millimetres to a pure number, making the
score depend on the unit.) These two are this benchmark's definitions, not the papers'.
"""

from __future__ import annotations

import numpy as np


def _arrays(overall: np.ndarray | float, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``overall`` (...,) and ``groups`` (..., G): leading axes are resamples when bootstrapping."""
    return np.asarray(overall, dtype=float), np.asarray(groups, dtype=float)


def es_fairseg(overall: np.ndarray | float, groups: np.ndarray) -> np.ndarray:
    """``overall / (1 + Σ_g |group_g − overall|)`` (FairSeg) for a higher-is-better score."""
    overall, groups = _arrays(overall, groups)
    return overall / (1.0 + np.abs(groups - overall[..., None]).sum(axis=-1))


def es_fairmedfm(overall: np.ndarray | float, groups: np.ndarray) -> np.ndarray:
    """``overall / (1 + std_g group_g)``, population std (FairMedFM) for a higher-is-better score."""
    overall, groups = _arrays(overall, groups)
    return overall / (1.0 + groups.std(axis=-1, ddof=0))


def es_distance_fairseg(overall: np.ndarray | float, groups: np.ndarray) -> np.ndarray:
    """``overall + Σ_g |group_g − overall|`` for a distance (lower is better)."""
    overall, groups = _arrays(overall, groups)
    return overall + np.abs(groups - overall[..., None]).sum(axis=-1)


def es_distance_fairmedfm(overall: np.ndarray | float, groups: np.ndarray) -> np.ndarray:
    """``overall + std_g group_g`` (population std) for a distance (lower is better)."""
    overall, groups = _arrays(overall, groups)
    return overall + groups.std(axis=-1, ddof=0)


def equity_scaled(metric: str, overall: np.ndarray | float,
                  groups: np.ndarray) -> dict[str, np.ndarray]:
    """Both variants for ``metric``: ``{"es_<metric>_fairseg": ..., "es_<metric>_fairmedfm": ...}``;
    distances (``hd95``) use the distance forms."""
    if metric == "hd95":
        return {"es_hd95_fairseg": es_distance_fairseg(overall, groups),
                "es_hd95_fairmedfm": es_distance_fairmedfm(overall, groups)}
    return {f"es_{metric}_fairseg": es_fairseg(overall, groups),
            f"es_{metric}_fairmedfm": es_fairmedfm(overall, groups)}
