"""Run the paired patient-level bootstrap over every block of a runs tree (in parallel over blocks).

Loads each run's ``scored.parquet`` (data contract: ``sample_id, patient_id, y, score, group,
decision``) and the ``min_group_size`` its ``metrics.json`` was computed with, and hands a block's
runs to ``fairmedia.stats.paired_bootstrap.bootstrap_block``, so the bootstrap leaves out of
worst/gap the groups the printed numbers leave out. Threshold metrics use the run's test
decisions: scored.parquet's ``decision`` column, or — for a scored.parquet written before that
column was part of the contract — ``score >= threshold.value`` of the metrics.json beside it (the
threshold the evaluation fitted on validation rows), so older trees need no re-evaluation.

Each block gets its own random stream derived from ``seed`` and the block's name, so results do
not depend on the number of workers or the order of blocks.
"""

from __future__ import annotations

import json
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from fairmedia import layout
from fairmedia.errors import UserError
from fairmedia.metrics.thresholds import apply_threshold
from fairmedia.progress import progress
from fairmedia.report.leaderboard import BLOCK
from fairmedia.stats.paired_bootstrap import bootstrap_block

SCORED_COLUMNS = ["sample_id", "patient_id", "y", "score", "group"]
DECISION = "decision"


def _read_metrics(eval_dir: Path, what: str) -> dict:
    path = Path(eval_dir) / layout.METRICS
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: cannot read the evaluation's {what} ({err})") from err


def recorded_min_group_size(eval_dir: Path) -> int:
    """The ``min_group_size`` the run's evaluation used, from the metrics.json beside scored.parquet."""
    path = Path(eval_dir) / layout.METRICS
    value = _read_metrics(eval_dir, "min_group_size").get("min_group_size")
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{path} records no min_group_size (found {value!r}); the bootstrap must "
                        "leave out the groups the evaluation left out. Re-run the evaluation "
                        "(fairmedia evaluate-run) to rewrite it")
    return value


def recorded_threshold(eval_dir: Path) -> float | None:
    """The threshold the run's evaluation applied to its test scores (``threshold.value`` of
    metrics.json); None when it used per-row decisions or records none."""
    value = (_read_metrics(eval_dir, "threshold").get("threshold") or {}).get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def load_scored(eval_dir: Path) -> pd.DataFrame:
    """A run's scored.parquet with its ``decision`` column (derived from metrics.json's threshold
    when the file predates it; absent when neither records the decisions)."""
    path = Path(eval_dir) / layout.SCORED
    has_decision = DECISION in pq.read_schema(path).names
    # pyarrow directly: pandas' read_parquet wrapper doubles the cost of 5k-row files.
    columns = SCORED_COLUMNS + [DECISION] * has_decision
    frame = pq.read_table(path, columns=columns).to_pandas()
    if not has_decision:
        threshold = recorded_threshold(eval_dir)
        if threshold is not None:
            frame[DECISION] = apply_threshold(frame["score"].to_numpy(dtype=float), threshold)
    elif frame[DECISION].isna().any():
        raise UserError(f"{path}: the decision column has missing values; re-run the evaluation "
                        "(fairmedia evaluate-run)")
    else:
        frame[DECISION] = frame[DECISION].to_numpy().astype(np.int8)
    return frame


def block_min_group_size(key: tuple, eval_dirs: list[Path]) -> int:
    """The one min_group_size of a block's runs; runs evaluated with different ones are an error."""
    found: dict[int, list[Path]] = {}
    for eval_dir in eval_dirs:
        found.setdefault(recorded_min_group_size(eval_dir), []).append(Path(eval_dir))
    if len(found) > 1:
        examples = "; ".join(f"{v} in {len(d)} run(s), e.g. {d[0] / layout.METRICS}"
                             for v, d in sorted(found.items()))
        raise UserError(f"block {'/'.join(map(str, key))}: its runs were evaluated with different "
                        f"min_group_size ({examples}); their worst/gap are not comparable. "
                        "Re-evaluate them with one evaluation.min_group_size")
    return next(iter(found))


def _block_task(args: tuple) -> pd.DataFrame:
    key, runs, baseline, metrics, n_boot, seed = args
    scored, missing, dirs = {}, [], []
    for method, run_seed, eval_dir in runs:
        path = Path(eval_dir) / layout.SCORED
        if not path.exists():
            missing.append(method)
            continue
        scored[(method, run_seed)] = load_scored(Path(eval_dir))
        dirs.append(Path(eval_dir))
    block_seed = [seed, zlib.crc32("/".join(map(str, key)).encode())]
    min_group_size = block_min_group_size(key, dirs) if dirs else 0
    result = bootstrap_block(scored, baseline, metrics, min_group_size=min_group_size,
                             n_boot=n_boot, seed=block_seed)
    for method in set(missing):
        sel = result["method"] == method
        result.loc[sel, "note"] = (result.loc[sel, "note"].fillna("") +
                                   "; some runs lack scored.parquet").str.lstrip("; ")
    for column, value in zip(BLOCK, key):
        result[column] = value
    return result


def bootstrap_runs(eval_table: pd.DataFrame, baseline: str, metrics: list[str], n_boot: int,
                   seed: int = 0, jobs: int = 1) -> pd.DataFrame:
    """Bootstrap rows (``BLOCK + method, metric, delta, ci_low, ci_high, p, n_boot, n_paired,
    note``) for every block of ``eval_table`` (from ``collect.eval_dirs``)."""
    tasks = []
    for key, block in eval_table.groupby(BLOCK, sort=True):
        runs = list(zip(block["method"], block["seed"], block["eval_dir"]))
        tasks.append((key, runs, baseline, metrics, n_boot, seed))
    if not tasks:
        return pd.DataFrame()
    desc = f"bootstrap ({n_boot} resamples per block)"
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(progress(pool.map(_block_task, tasks), total=len(tasks), desc=desc,
                                  unit="block"))
    else:
        parts = [_block_task(t) for t in progress(tasks, desc=desc, unit="block")]
    return pd.concat(parts, ignore_index=True)
