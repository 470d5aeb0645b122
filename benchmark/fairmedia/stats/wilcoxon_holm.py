"""Each method vs the baseline across blocks: Wilcoxon signed-rank (scipy) with Holm correction.

Pairs are the blocks where both the method and the baseline have a value, so a method missing from
some blocks is still tested on the rest (its N is reported).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from fairmedia.stats.multiple_testing import adjust


def wilcoxon_vs_baseline(table: pd.DataFrame, baseline: str,
                         correction: str = "holm") -> pd.DataFrame:
    """One row per method ≠ baseline: n_pairs, median_diff, wilcoxon_p, holm_p (adjusted), note."""
    rows = []
    for method in table.columns:
        if method == baseline:
            continue
        pair = table[[method, baseline]].dropna()
        diff = (pair[method] - pair[baseline]).to_numpy(float)
        row = {"method": method, "n_pairs": len(diff),
               "median_diff": float(np.median(diff)) if len(diff) else np.nan,
               "wilcoxon_p": np.nan, "note": ""}
        if len(diff) == 0:
            row["note"] = "no block with both"
        elif np.all(diff == 0):
            row.update(wilcoxon_p=1.0, note="identical to baseline in every block")
        else:
            row["wilcoxon_p"] = float(stats.wilcoxon(diff, alternative="two-sided").pvalue)
        rows.append(row)
    out = pd.DataFrame(rows, columns=["method", "n_pairs", "median_diff", "wilcoxon_p", "note"])
    out["holm_p"] = adjust(out["wilcoxon_p"].to_numpy(), correction)
    return out
