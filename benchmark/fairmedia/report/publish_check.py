"""Does a config describe a leaderboard's runs? ``fairmedia publish`` asks before it copies, so a
published table never carries a config that ``fairmedia reproduce`` cannot re-run it from.

The leaderboard side: every row's block and method (``dataset, attribute, arch, method`` of
``leaderboard.csv``) and every run folder listed in its ``run_dirs``; the config side: what its
grid (``fairmedia.grid``, the same function the workflow plans with) produces. Each leaderboard
row and run must be in the grid, and each dataset, arch, method and seed of the grid must appear
in the leaderboard (a config with a method the table lacks would describe another table).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia import grid, layout
from fairmedia.errors import UserError

SHOWN = 5  # examples named per kind of mismatch


def _grid_sets(config: dict[str, Any]) -> tuple[set[tuple], set[tuple]]:
    """(cells, runs): ``(dataset, attribute, arch, method)`` as tabulated (variants under their
    base name, as the leaderboard shows them, and under their own), and ``(dataset, arch,
    method, train attribute, seed)`` run identities."""
    config = copy.deepcopy(config)
    grid.merge_aggregates(config)
    cells, runs = set(), set()
    for run in grid.runs(config):
        runs.add((run.dataset, run.arch, run.method, run.attribute, run.seed))
        for attribute in grid.eval_attributes(config, run):
            for method in {run.method, grid.base_method(run.method)}:
                cells.add((run.dataset, attribute, run.arch, method))
    return cells, runs


def _examples(items: set) -> str:
    shown = ["/".join(map(str, i)) for i in sorted(items, key=str)[:SHOWN]]
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(shown) + more


def check_config_describes(config: dict[str, Any], config_path: str | Path,
                           tables: list[Path]) -> None:
    """Raise a UserError naming the mismatch when ``config``'s grid does not produce the runs
    behind the ``leaderboard.csv`` files in ``tables``."""
    cells, runs = _grid_sets(config)
    found_cells: set[tuple] = set()
    found_runs: set[tuple] = set()
    for table in tables:
        frame = pd.read_csv(table, dtype=str, keep_default_na=False)
        missing = {"dataset", "attribute", "arch", "method"} - set(frame.columns)
        if missing:
            raise UserError(f"{table}: no column(s) {sorted(missing)}; is it a leaderboard.csv "
                            "written by `fairmedia leaderboard`?")
        found_cells |= set(frame[["dataset", "attribute", "arch", "method"]].itertuples(
            index=False, name=None))
        for cell in frame.get("run_dirs", pd.Series(dtype=str)):
            for run_dir in filter(None, cell.split(";")):
                identity = layout.parse_run_dir(run_dir)
                if identity is None:
                    raise UserError(f"{table}: run_dirs entry {run_dir!r} is not a run folder "
                                    f"({layout.run_dir()})")
                found_runs.add(identity)
    problems = []
    if found_cells - cells:
        problems.append(f"its grid has no (dataset/attribute/arch/method) "
                        f"{_examples(found_cells - cells)}")
    if found_runs - runs:
        problems.append(f"its grid has no run (dataset/arch/method/attribute/seed) "
                        f"{_examples(found_runs - runs)}")
    for index, what in ((0, "dataset"), (2, "arch"), (3, "method")):
        extra = {c[index] for c in cells} - {c[index] for c in found_cells}
        if what == "method":  # a variant's table row carries the base name
            extra = {m for m in extra if grid.base_method(m) not in {c[3] for c in found_cells}}
        if extra:
            problems.append(f"the leaderboard has no {what} {_examples({(e,) for e in extra})}")
    if found_runs:
        seeds = {r[4] for r in runs} - {r[4] for r in found_runs}
        if seeds:
            problems.append(f"the leaderboard has no run with seed {_examples({(s,) for s in seeds})}")
    if problems:
        raise UserError(f"{config_path} does not describe the leaderboard's runs "
                        f"({', '.join(map(str, tables))}): " + "; ".join(problems)
                        + ". Publish with the config the leaderboard was made with")
