"""Lesion-size-stratified Dice: a group's Dice within strata of the reference structure's size.

Dice is lower on small structures for any model (one wrong boundary pixel costs more), so a group
whose lesions are smaller has a lower mean Dice without being treated worse. Strata are quantile
bins of the reference volume fixed on *all* cases of the class (not per group), so a group's
stratum Dice compares like with like. Cases with an empty reference form their own stratum
``"empty"``. The size-standardised Dice of a group is the mean of its stratum Dice weighted by
every case's stratum share (direct standardisation): the Dice it would have with the overall
size mix; ``None`` when the group has no case in some stratum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EMPTY = "empty"


def size_strata(volumes: np.ndarray, n_strata: int) -> tuple[np.ndarray, list[float]]:
    """Stratum labels for reference ``volumes`` and the quantile edges (on the non-empty ones)."""
    volumes = np.asarray(volumes, dtype=float)
    present = volumes > 0
    labels = np.full(len(volumes), EMPTY, dtype=object)
    if not present.any():
        return labels, []
    edges = np.unique(np.quantile(volumes[present], np.linspace(0, 1, n_strata + 1)))
    if len(edges) == 1:  # every lesion the same size: one stratum [v, v]
        edges = np.repeat(edges, 2)
    # inner edges only; a bin is [edge_k, edge_k+1) with the last closed at the maximum
    index = np.searchsorted(edges[1:-1], volumes[present], side="right")
    names = [f"[{edges[k]:g}, {edges[k + 1]:g}{']' if k == len(edges) - 2 else ')'}"
             for k in range(max(len(edges) - 1, 1))]
    labels[present] = [names[k] for k in index]
    return labels, [float(e) for e in edges]


def stratified_dice(cases: pd.DataFrame, attribute: str, *,
                    n_strata: int = 3) -> dict[str, dict[str, object]]:
    """``{class: {"edges", "strata", "groups": [{"group", "strata": [...], "standardised_dice"}],
    "standardised_gap"}}`` from the per-case table joined with the attribute column."""
    out: dict[str, dict[str, object]] = {}
    for name, table in cases.groupby("class", sort=False):
        table = table[table[attribute].notna()]
        labels, edges = size_strata(table["ref_volume"].to_numpy(), n_strata)
        frame = pd.DataFrame({"group": table[attribute].astype(str).to_numpy(),
                              "stratum": labels, "dice": table["dice"].to_numpy()})
        order = sorted(set(labels) - {EMPTY}, key=_lower)
        order += [EMPTY] if EMPTY in set(labels) else []
        share = frame["stratum"].value_counts(normalize=True)
        cells = frame.groupby(["group", "stratum"])["dice"].agg(["mean", "size"])
        groups = []
        for group in sorted(frame["group"].unique()):
            strata = [{"stratum": s, "n": int(cells.loc[(group, s), "size"]),
                       "dice": float(cells.loc[(group, s), "mean"])}
                      for s in order if (group, s) in cells.index]
            complete = len(strata) == len(order)
            standard = (float(sum(share[c["stratum"]] * c["dice"] for c in strata))
                        if complete else None)
            groups.append({"group": group, "strata": strata, "standardised_dice": standard})
        values = [g["standardised_dice"] for g in groups if g["standardised_dice"] is not None]
        out[str(name)] = {"edges": edges, "strata": order, "groups": groups,
                          "standardised_gap": (max(values) - min(values)) if values else None}
    return out


def _lower(label: str) -> float:
    return float(label[1:].split(",")[0])
