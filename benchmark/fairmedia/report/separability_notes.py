"""The subgroup-separability line printed under each leaderboard block (docs/diagnostics.md).

Each ``results/separability/<dataset>/<attribute>.json`` (layout.separability_file) is written by
``fairmedia separability``; the leaderboard only reads them, so a block whose dataset × attribute
has no result (separability disabled, or an intersection attribute) simply gets no line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fairmedia import layout
from fairmedia.errors import UserError

COLUMNS = ["dataset", "attribute", "auc", "ci_low", "ci_high", "arch", "epochs", "n_test", "file"]


def read_separability(files: list[str | Path]) -> pd.DataFrame:
    """One row per file (``COLUMNS``); the dataset and attribute come from the file's path."""
    rows = []
    for file in map(Path, files):
        key = layout.parse_separability_file(file)
        if key is None:
            raise UserError(f"{file}: not a separability result path (expected "
                            f"{layout.separability_file()})")
        try:
            result = json.loads(file.read_text())
            low, high = result["ci"]
            n_test = sum(result["n_per_group"]["test"].values())
            rows.append(dict(zip(COLUMNS[:2], key), auc=float(result["auc"]), ci_low=low,
                             ci_high=high, arch=result["arch"], epochs=int(result["epochs"]),
                             n_test=int(n_test), file=str(file)))
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise UserError(f"{file}: not a readable `fairmedia separability` result ({err!r})") \
                from None
    return pd.DataFrame(rows, columns=COLUMNS)


def block_notes(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    """``{(dataset, attribute): line}`` for the Markdown/LaTeX block headings."""
    def ci(low: float | None, high: float | None) -> str:
        return "" if low is None or pd.isna(low) else f" [{low:.3f}, {high:.3f}]"

    return {(r.dataset, r.attribute): (
        f"Subgroup separability of {r.attribute}: test AUC {r.auc:.3f}{ci(r.ci_low, r.ci_high)} "
        f"(95 % CI) of an attribute classifier ({r.arch}, {r.epochs} epochs, n = {r.n_test}); "
        "0.5: the groups cannot be told apart from the image.") for r in table.itertuples()}
