"""Read MEDFAIR's published per-dataset result tables into our long format.

Source: Zong, Yang, Hospedales, "MEDFAIR: Benchmarking Fairness for Medical Imaging", ICLR 2023,
tables released under ``results/selections/<selection>/<Dataset>-<Attribute>.csv``. Rows are
methods (``baseline`` is ERM); cells are ``mean±std`` over 3 seeds, except the plain numbers in
``Max AUC``, ``Min AUC``, ``AUC Gap``. Metric names stay the CSV's column names.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fairmedia.errors import UserError

# The paper's in-distribution imaging analysis (MIMIC_III and RadFusion_EHR are tabular/EHR).
IMAGING_PAIRS = (
    "ADNI-Age", "ADNI-Sex", "COVID_CT_MD-Age", "COVID_CT_MD-Sex", "CXP-Age", "CXP-Race", "CXP-Sex",
    "Fitz17k-skin_type", "HAM10000-Sex", "HAM100004-Age", "MIMIC_CXR-Age", "MIMIC_CXR-Race",
    "MIMIC_CXR-Sex", "OCT-Age", "PAPILA-Age", "PAPILA-Sex",
)
METHOD_NAMES = {"baseline": "erm"}
IMPORT_COLUMNS = ["dataset", "attribute", "arch", "selection", "method", "metric", "mean", "std",
                  "source"]
SKIP_COLUMNS = {"methods", "hash"}


def parse_cell(text: object, where: str) -> tuple[float, float]:
    """``'0.8809±0.001'`` → (0.8809, 0.001); a plain number → (x, NaN); empty → (NaN, NaN)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return math.nan, math.nan
    s = str(text).strip()
    if not s:
        return math.nan, math.nan
    mean, _, std = s.partition("±")
    try:
        return float(mean), float(std) if std else math.nan
    except ValueError as err:
        raise UserError(f"{where}: cell {s!r} is not 'mean±std' or a number") from err


def read_table(path: Path, selection: str) -> pd.DataFrame:
    """One MEDFAIR CSV as long rows."""
    dataset, sep, attribute = path.stem.rpartition("-")
    if not sep:
        raise UserError(f"{path}: file name should be <Dataset>-<Attribute>.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "methods" not in raw.columns:
        raise UserError(f"{path}: no 'methods' column (columns: {', '.join(raw.columns[:8])}, ...)")
    rows = []
    for i, rec in raw.iterrows():
        method = METHOD_NAMES.get(rec["methods"], rec["methods"])
        for column in raw.columns:
            if column in SKIP_COLUMNS:
                continue
            mean, std = parse_cell(rec[column], f"{path}, row {i + 2}, column {column!r}")
            if math.isnan(mean):
                continue
            rows.append({"dataset": dataset, "attribute": attribute, "arch": "published",
                         "selection": selection, "method": method, "metric": column,
                         "mean": mean, "std": std, "source": str(path)})
    return pd.DataFrame(rows, columns=IMPORT_COLUMNS)


def import_medfair(root: str | Path, imaging_only: bool = False) -> pd.DataFrame:
    """All ``<selection>/<Dataset>-<Attribute>.csv`` under ``root`` as one long table."""
    root = Path(root)
    files = sorted(root.glob("*/*.csv"))
    if not files:
        raise UserError(f"{root}: no <selection>/<Dataset>-<Attribute>.csv files found")
    frames = [read_table(f, f.parent.name) for f in files
              if not imaging_only or f.stem in IMAGING_PAIRS]
    return pd.concat(frames, ignore_index=True)
