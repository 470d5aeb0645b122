"""Run the paired patient-level bootstrap over every block of a runs tree (in parallel over blocks).

Loads each run's ``scored.parquet`` (data contract: ``sample_id, patient_id, y, score, group``)
and hands a block's runs to ``fairmedia.stats.paired_bootstrap.bootstrap_block``. Each block gets
its own random stream derived from ``seed`` and the block's name, so results do not depend on the
number of workers or the order of blocks.
"""

from __future__ import annotations

import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from fairmedia import layout
from fairmedia.report.leaderboard import BLOCK
from fairmedia.stats.paired_bootstrap import bootstrap_block

SCORED_COLUMNS = ["sample_id", "patient_id", "y", "score", "group"]


def _block_task(args: tuple) -> pd.DataFrame:
    key, runs, baseline, metrics, n_boot, seed = args
    scored, missing = {}, []
    for method, run_seed, eval_dir in runs:
        path = Path(eval_dir) / layout.SCORED
        if not path.exists():
            missing.append(method)
            continue
        # pyarrow directly: pandas' read_parquet wrapper doubles the cost of 5k-row files.
        scored[(method, run_seed)] = pq.read_table(path, columns=SCORED_COLUMNS).to_pandas()
    block_seed = [seed, zlib.crc32("/".join(map(str, key)).encode())]
    result = bootstrap_block(scored, baseline, metrics, n_boot=n_boot, seed=block_seed)
    for method in set(missing):
        sel = result["method"] == method
        result.loc[sel, "note"] = (result.loc[sel, "note"].fillna("") +
                                   "; some runs lack scored.parquet").str.lstrip("; ")
    for column, value in zip(BLOCK, key):
        result[column] = value
    return result


def bootstrap_runs(eval_table: pd.DataFrame, baseline: str, metrics: list[str], n_boot: int,
                   seed: int = 0, jobs: int = 1) -> pd.DataFrame:
    """Bootstrap rows (``BLOCK + method, metric, delta, ci_low, ci_high, p, n_boot, note``)
    for every block of ``eval_table`` (from ``collect.eval_dirs``)."""
    tasks = []
    for key, block in eval_table.groupby(BLOCK, sort=True):
        runs = list(zip(block["method"], block["seed"], block["eval_dir"]))
        tasks.append((key, runs, baseline, metrics, n_boot, seed))
    if not tasks:
        return pd.DataFrame()
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(_block_task, tasks))
    else:
        parts = [_block_task(t) for t in tasks]
    return pd.concat(parts, ignore_index=True)
