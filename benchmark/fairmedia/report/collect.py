"""Collect a tree of evaluated runs into one long table (one row per run, attribute, selection, metric).

Input layout (data contract 4)::

    {runs}/{dataset}/{arch}/{method}/{train_attribute}/seed{seed}/eval/{attribute}/{selection}/metrics.json

with ``scored.parquet`` beside each ``metrics.json``. Output columns: ``dataset, attribute, arch,
method, seed, selection, metric, value, run_dir``. Metric names: overall metrics by name (``auc``),
disparity measures as ``<metric>_<measure>`` (``auc_gap``, ``auc_worst``) and criteria by name
(``equalized_odds``); only names with a declared direction are kept, so every row can be ranked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from fairmedia import layout
from fairmedia.errors import UserError
from fairmedia.metrics.directions import direction

LONG_COLUMNS = ["dataset", "attribute", "arch", "method", "seed", "selection", "metric", "value",
                "run_dir"]


def _has_direction(name: str) -> bool:
    try:
        direction(name)
    except KeyError:
        return False
    return True


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def flatten_metrics(report: dict, attribute: str) -> dict[str, float]:
    """Flatten one ``metrics.json`` (issue-3 shape) into ``{metric_name: value}`` for ``attribute``.

    Null values (e.g. AUC undefined for a single-class group) become NaN, so the cell stays visible.
    """
    out: dict[str, float] = {}
    for name, value in (report.get("overall") or {}).items():
        num = _number(value)
        if _has_direction(name) and (num is not None or value is None):
            out[name] = math.nan if num is None else num
    attrs = report.get("attributes") or {}
    block = attrs.get(attribute)
    if block is None and len(attrs) == 1:
        block = next(iter(attrs.values()))
    block = block or {}
    for metric, measures in (block.get("disparity") or {}).items():
        for measure, value in (measures or {}).items():
            name = f"{metric}_{measure}"
            num = _number(value)
            if _has_direction(name) and (num is not None or value is None):
                out[name] = math.nan if num is None else num
    for name, value in (block.get("criteria") or {}).items():
        num = _number(value)
        if _has_direction(name) and (num is not None or value is None):
            out[name] = math.nan if num is None else num
    return out


def find_metric_files(runs: Path, selection: str | None = None,
                      include: set[Path] | None = None) -> list[Path]:
    """All ``metrics.json`` files under ``runs`` (optionally of one selection, and only those in
    ``include`` — the workflow passes the files its config produces, so runs of other configs
    left in the same folder never enter a table), sorted."""
    files = sorted(runs.glob(layout.METRICS_GLOB))
    if selection is not None:
        files = [f for f in files if f.parent.name == selection]
    if include is not None:
        wanted = {p.resolve() for p in include}
        files = [f for f in files if f.resolve() in wanted]
    return files


def read_include_list(path: str | Path) -> set[Path]:
    """The ``--include-from`` file: one metrics.json path per line."""
    return {Path(line.strip()) for line in Path(path).read_text().splitlines() if line.strip()}


def parse_run_path(metrics_file: Path, runs: Path) -> dict[str, object]:
    """Read dataset, arch, method, train attribute, seed, attribute and selection from the path."""
    p = layout.parse_metrics_path(metrics_file, runs)
    return {"dataset": p.dataset, "arch": p.arch, "method": p.method, "train_attribute": p.train_attribute,
            "seed": p.seed, "attribute": p.attribute, "selection": p.selection,
            "run_dir": str(p.run_dir), "eval_dir": str(p.eval_dir)}


def collect(runs: str | Path, selection: str | None = None,
            include: set[Path] | None = None) -> pd.DataFrame:
    """Long table of every metric of every evaluated run under ``runs``.

    A method trained with a specific attribute (``train_attribute != any``) is only kept for the
    evaluation attribute it was trained for; attribute-free methods are kept for every attribute.
    """
    runs = Path(runs)
    if not runs.is_dir():
        raise UserError(f"runs folder {runs} does not exist")
    rows = []
    for path in find_metric_files(runs, selection, include):
        info = parse_run_path(path, runs)
        if info["train_attribute"] not in ("any", info["attribute"]):
            continue
        try:
            report = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: not valid JSON ({err})") from err
        for metric, value in flatten_metrics(report, str(info["attribute"])).items():
            rows.append({**{k: info[k] for k in LONG_COLUMNS if k in info},
                         "metric": metric, "value": value})
    table = pd.DataFrame(rows, columns=LONG_COLUMNS)
    return table.astype({"seed": "int64", "value": "float64"})


def eval_dirs(runs: str | Path, selection: str | None = None,
              include: set[Path] | None = None) -> pd.DataFrame:
    """One row per evaluated run: the identifying columns and the folder holding scored.parquet."""
    runs = Path(runs)
    rows = [parse_run_path(p, runs) for p in find_metric_files(runs, selection, include)]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    keep = frame["train_attribute"].isin(["any"]) | (frame["train_attribute"] == frame["attribute"])
    return frame[keep].reset_index(drop=True)


def selections_present(runs: str | Path) -> list[str]:
    """Names of the model selections found under ``runs``."""
    return sorted({p.parent.name for p in find_metric_files(Path(runs))})


def collect_group_auc(runs: str | Path, selection: str | None = None,
                      include: set[Path] | None = None) -> pd.DataFrame:
    """Per-group test AUC of every run: ``dataset, attribute, arch, method, seed, group, auc``."""
    runs = Path(runs)
    rows = []
    for path in find_metric_files(runs, selection, include):
        info = parse_run_path(path, runs)
        if info["train_attribute"] not in ("any", info["attribute"]):
            continue
        attrs = json.loads(path.read_text()).get("attributes") or {}
        block = attrs.get(str(info["attribute"])) or (next(iter(attrs.values())) if len(attrs) == 1
                                                      else {})
        for group, stats in (block.get("groups") or {}).items():
            auc = _number((stats or {}).get("auc"))
            rows.append({k: info[k] for k in ("dataset", "attribute", "arch", "method", "seed")}
                        | {"group": str(group), "auc": math.nan if auc is None else auc})
    return pd.DataFrame(rows, columns=["dataset", "attribute", "arch", "method", "seed", "group",
                                       "auc"])
