"""Read MEDFAIR's published per-dataset result tables into our long format.

Source: Zong, Yang, Hospedales, "MEDFAIR: Benchmarking Fairness for Medical Imaging", ICLR 2023,
tables released under ``results/selections/<selection>/<Dataset>-<Attribute>.csv``. Rows are
methods (``baseline`` is ERM); cells are ``mean±std`` over 3 seeds, except the plain numbers in
``Max AUC``, ``Min AUC``, ``AUC Gap``. Metric names stay the CSV's column names.

The tables of the three selections are committed as one long table, ``data/medfair_iclr2023.csv``
(package data; its README names the MEDFAIR commit): ``selection, dataset_attribute, method,
metric, mean, std``, one row per non-empty numeric cell, with MEDFAIR's own names. ``import_medfair``
reads that file by default, or a folder of the original CSVs.
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
PUBLISHED = Path(__file__).resolve().parent / "data" / "medfair_iclr2023.csv"
# The commit of github.com/ys-zong/MEDFAIR whose results/selections/ the committed table holds.
MEDFAIR_COMMIT = "a00d2ef32345462afca0830c00741e035b892f9c"
PUBLISHED_COLUMNS = ["selection", "dataset_attribute", "method", "metric", "mean", "std"]


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


def read_published_csv(path: Path, selection: str) -> pd.DataFrame:
    """One original MEDFAIR CSV as rows of the committed long table (MEDFAIR's names kept)."""
    if not path.stem.rpartition("-")[1]:
        raise UserError(f"{path}: file name should be <Dataset>-<Attribute>.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "methods" not in raw.columns:
        raise UserError(f"{path}: no 'methods' column (columns: {', '.join(raw.columns[:8])}, ...)")
    rows = []
    for i, rec in raw.iterrows():
        for column in raw.columns:
            if column in SKIP_COLUMNS:
                continue
            mean, std = parse_cell(rec[column], f"{path}, row {i + 2}, column {column!r}")
            if math.isnan(mean):
                continue
            rows.append({"selection": selection, "dataset_attribute": path.stem,
                         "method": rec["methods"], "metric": column, "mean": mean, "std": std})
    return pd.DataFrame(rows, columns=PUBLISHED_COLUMNS)


def published_long_table(root: str | Path) -> pd.DataFrame:
    """All ``<selection>/<Dataset>-<Attribute>.csv`` under ``root`` as the committed long table
    (how ``data/medfair_iclr2023.csv`` was made)."""
    root = Path(root)
    files = sorted(root.glob("*/*.csv"))
    if not files:
        raise UserError(f"{root}: no <selection>/<Dataset>-<Attribute>.csv files found")
    return pd.concat([read_published_csv(f, f.parent.name) for f in files], ignore_index=True)


def read_long_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype={"selection": str, "dataset_attribute": str, "method": str,
                                         "metric": str}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise UserError(f"{path}: not readable as a CSV: {err}") from None
    missing = [c for c in PUBLISHED_COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"{path}: not a MEDFAIR long table (columns {', '.join(PUBLISHED_COLUMNS)}); "
                        f"missing {', '.join(missing)}")
    return table[PUBLISHED_COLUMNS]


def to_import_format(long: pd.DataFrame, source: pd.Series | str) -> pd.DataFrame:
    """Committed-table rows → our long format (dataset, attribute, arch ``published``, method
    names mapped: ``baseline`` → ``erm``)."""
    parts = long["dataset_attribute"].str.rpartition("-")
    out = pd.DataFrame({
        "dataset": parts[0], "attribute": parts[2], "arch": "published",
        "selection": long["selection"], "method": long["method"].replace(METHOD_NAMES),
        "metric": long["metric"], "mean": long["mean"].astype(float),
        "std": long["std"].astype(float), "source": source,
    })
    return out[IMPORT_COLUMNS].reset_index(drop=True)


def import_medfair(root: str | Path | None = None, imaging_only: bool = False) -> pd.DataFrame:
    """MEDFAIR's tables as one table in our long format, from the committed long table (default, or
    any file in its format) or from a folder of the original ``<selection>/<Dataset>-<Attribute>.csv``."""
    root = PUBLISHED if root is None else Path(root)
    if root.is_dir():
        files = sorted(root.glob("*/*.csv"))
        if not files:
            raise UserError(f"{root}: no <selection>/<Dataset>-<Attribute>.csv files found")
        files = [f for f in files if not imaging_only or f.stem in IMAGING_PAIRS]
        frames = [to_import_format(long, str(f)) for f in files
                  if not (long := read_published_csv(f, f.parent.name)).empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=IMPORT_COLUMNS)
    if not root.is_file():
        raise UserError(f"{root}: no such file or folder")
    long = read_long_table(root)
    if imaging_only:
        long = long[long["dataset_attribute"].isin(IMAGING_PAIRS)]
    source = root.name + ":" + long["selection"] + "/" + long["dataset_attribute"] + ".csv"
    return to_import_format(long, source)
