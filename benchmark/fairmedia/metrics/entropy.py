"""Between-group generalized entropy and Theil indices (Speicher et al., KDD 2018; AIF360).

Each row's benefit is b_i = ŷ_i − y_i + 1 (2 for a false positive, 0 for a false negative, 1 when
right), with y = 1 the favourable outcome. The *between-group* index replaces every b_i by its
group's mean benefit μ_g = selection_rate_g − base_rate_g + 1 and takes the generalized entropy
of those values over the rows:

    GE(α) = 1 / (n α(α−1)) Σ_i [(b_i / μ)^α − 1] = 1/(α(α−1)) Σ_g (n_g/n) [(μ_g/μ)^α − 1]
    Theil = GE(α → 1)                              = Σ_g (n_g/n) (μ_g/μ) ln(μ_g/μ)

with μ the mean benefit of the rows counted. AIF360's ``ClassificationMetric`` has two
groupings of it (default α = 2, Theil at α = 1): ``between_all_groups_*`` gives every value of
the protected attribute its own mean (here: the criteria ``between_all_groups_*``, over the groups
with n ≥ min_group_size as for the other criteria, so with ``min_group_size=0`` AIF360's value),
and ``between_group_*`` only two groups, the privileged and the pooled unprivileged rows (here:
``privileged.vs_rest``, ``metrics/privileged.py``). A group with μ_g = 0 adds 0 to the Theil index
(the limit of x ln x).

Works on the summed group counts, so bootstrap resamples come at no extra cost: inputs carry any
leading shape, the group axis last.
"""

from __future__ import annotations

import numpy as np

DEFAULT_ALPHA = 2.0


def _shares(n: np.ndarray, n_pos: np.ndarray, predicted_pos: np.ndarray, eligible: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """(n_g / n, μ_g / μ) over eligible groups; 0 weight for the others."""
    keep = np.asarray(eligible, bool) & (n > 0)
    n = np.where(keep, n, 0.0)
    benefit_sum = np.where(keep, predicted_pos - n_pos + n, 0.0)  # Σ_i b_i within the group
    total = n.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = benefit_sum.sum(axis=-1, keepdims=True) / total
        mu_g = np.where(n > 0, benefit_sum / np.where(n > 0, n, 1), 0.0)
        return n / total, mu_g / mu


def between_group_generalized_entropy(n: np.ndarray, n_pos: np.ndarray,
                                      predicted_pos: np.ndarray, eligible: np.ndarray,
                                      alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """GE(α) of the group-mean benefits; NaN when fewer than 2 groups count or μ = 0."""
    weight, ratio = _shares(n, n_pos, predicted_pos, eligible)
    with np.errstate(invalid="ignore", divide="ignore"):
        if alpha == 1:
            terms = np.where(ratio > 0, ratio * np.log(np.where(ratio > 0, ratio, 1)), 0.0)
        elif alpha == 0:
            terms = -np.log(ratio)
        else:
            terms = (ratio ** alpha - 1) / (alpha * (alpha - 1))
        value = np.sum(np.where(weight > 0, weight * terms, 0.0), axis=-1)
    counted = (weight > 0).sum(axis=-1)
    return np.where((counted >= 2) & np.isfinite(value), value, np.nan)


def between_group_theil(n: np.ndarray, n_pos: np.ndarray, predicted_pos: np.ndarray,
                        eligible: np.ndarray) -> np.ndarray:
    """The Theil index: GE at α = 1."""
    return between_group_generalized_entropy(n, n_pos, predicted_pos, eligible, alpha=1.0)
