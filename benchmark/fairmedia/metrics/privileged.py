"""Signed differences against a named privileged group, as AIF360's ``ClassificationMetric``.

With the privileged group p and the unprivileged rows u (every other group of the attribute,
pooled: AIF360's condition "any of the unprivileged groups"), each is unprivileged − privileged:

- ``true_positive_rate_difference``  = TPR_u − TPR_p (AIF360 ``equal_opportunity_difference``)
- ``false_positive_rate_difference`` = FPR_u − FPR_p
- ``statistical_parity_difference``  = P(ŷ=1 | u) − P(ŷ=1 | p), on the decisions
- ``average_odds_difference``        = ½ [(FPR_u − FPR_p) + (TPR_u − TPR_p)]
- ``average_abs_odds_difference``    = ½ [|FPR_u − FPR_p| + |TPR_u − TPR_p|]
- ``between_group_generalized_entropy`` (α = 2), ``between_group_theil``: AIF360's
  ``between_group_*_index``, the generalized entropy of the benefit ŷ − y + 1 with the two groups
  p and u each given its mean benefit (``metrics/entropy.py``)

``vs_rest`` holds them for the pooled unprivileged rows, ``vs_group`` for each other group alone
(u = that group), which AIF360 gives when called with one unprivileged group at a time. Unlike
the gap-based criteria these use every group, small ones included (pooling keeps them stable);
a small privileged group is flagged by the report. Which group is privileged is the user's
choice (``privileged={"sex": "M"}``); by default the largest group of a reference set of rows
(``choose_privileged``), recorded in metrics.json with how it was chosen.
"""

from __future__ import annotations

import numpy as np

from fairmedia.errors import UserError
from fairmedia.metrics.entropy import between_group_generalized_entropy, between_group_theil
from fairmedia.metrics.groups import Grouping

MEASURES = ("true_positive_rate_difference", "false_positive_rate_difference",
            "statistical_parity_difference", "average_odds_difference",
            "average_abs_odds_difference", "between_group_generalized_entropy",
            "between_group_theil")


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _rates(n, n_pos, tp, fp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _div(tp, n_pos), _div(fp, n - n_pos), _div(tp + fp, n)


def differences(unprivileged: tuple, privileged: tuple) -> dict[str, np.ndarray]:
    """The measures from (n, n_pos, tp, fp) of the unprivileged and privileged rows."""
    tpr_u, fpr_u, sr_u = _rates(*unprivileged)
    tpr_p, fpr_p, sr_p = _rates(*privileged)
    d_tpr, d_fpr = tpr_u - tpr_p, fpr_u - fpr_p
    return {
        "true_positive_rate_difference": d_tpr,
        "false_positive_rate_difference": d_fpr,
        "statistical_parity_difference": sr_u - sr_p,
        "average_odds_difference": (d_fpr + d_tpr) / 2,
        "average_abs_odds_difference": (np.abs(d_fpr) + np.abs(d_tpr)) / 2,
        **_two_group_entropy(unprivileged, privileged),
    }


def _two_group_entropy(unprivileged: tuple, privileged: tuple) -> dict[str, np.ndarray]:
    n, n_pos, tp, fp = (np.stack([np.asarray(u, float), np.asarray(p, float)], axis=-1)
                        for u, p in zip(unprivileged, privileged))
    both = np.ones(2, bool)
    return {"between_group_generalized_entropy":
            between_group_generalized_entropy(n, n_pos, tp + fp, both),
            "between_group_theil": between_group_theil(n, n_pos, tp + fp, both)}


def privileged_statistics(table: dict[str, np.ndarray], keys: list[str], index: int
                          ) -> dict[tuple[str, ...], np.ndarray]:
    """``{("vs_rest", measure) | ("vs_group", key, measure): values}`` from a per-group table
    (``metrics_from_sums``, group axis last) with group ``index`` privileged."""
    counts = [table[c] for c in ("n", "n_pos", "tp", "fp")]
    priv = tuple(c[..., index] for c in counts)
    rest = tuple(c.sum(axis=-1) - p for c, p in zip(counts, priv))
    out = {("vs_rest", m): v for m, v in differences(rest, priv).items()}
    for j, key in enumerate(keys):
        if j != index:
            group = tuple(c[..., j] for c in counts)
            out.update({("vs_group", key, m): v for m, v in differences(group, priv).items()})
    return out


def choose_privileged(groupings: list[Grouping], given: dict[str, str] | None,
                      reference: list[Grouping] | None, reference_name: str
                      ) -> dict[str, dict]:
    """Per grouping name: ``{"group", "index", "chosen_by"}``. A group ``given`` by the user must
    be one of the evaluated groups; otherwise the largest group of ``reference`` (the same
    groupings over other rows, e.g. the training split) that is also evaluated, ties to the first
    in display order; without a reference (or with none of its groups evaluated), the largest
    evaluated group."""
    given = dict(given or {})
    names = {g.name for g in groupings}
    unknown = sorted(set(given) - names)
    if unknown:
        raise UserError(f"privileged group given for {unknown}, which are not evaluated; "
                        f"evaluated attributes: {sorted(names)}")
    by_name = {g.name: g for g in reference or []}
    out = {}
    for g in groupings:
        if not g.keys:
            continue
        if g.name in given:
            key = str(given[g.name])
            if key not in g.keys:
                raise UserError(f"privileged group {key!r} of {g.name!r} is not among its "
                                f"evaluated groups: {g.keys}")
            out[g.name] = {"group": key, "index": g.keys.index(key), "chosen_by": "given"}
            continue
        ref = by_name.get(g.name)
        counts = _sizes(ref, g.keys) if ref is not None else None
        where = reference_name
        if counts is None or counts.max() == 0:
            counts, where = _sizes(g, g.keys), "the evaluated rows"
        j = int(np.argmax(counts))
        out[g.name] = {"group": g.keys[j], "index": j,
                       "chosen_by": f"largest group of {where} (n={int(counts[j])})"}
    return out


def _sizes(grouping: Grouping, keys: list[str]) -> np.ndarray:
    """Rows of ``grouping`` in each of ``keys`` (0 for a key it lacks)."""
    n = np.bincount(grouping.codes[grouping.codes >= 0], minlength=len(grouping.keys))
    size = dict(zip(grouping.keys, n))
    return np.array([size.get(k, 0) for k in keys])
