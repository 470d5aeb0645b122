"""Diagnostics overhead: the demo workflow with its diagnostics (``diagnostics:`` as configured)
against the same workflow with every diagnostic off, each a full ``snakemake --cores N`` run in a
fresh scratch folder, interleaved over ``--rounds`` rounds (perf/_interleave.py; medians).

Three rounds by default, fewer than the other checks' five, since each side is a whole workflow
run of minutes. Both sides start from the same prepared dataset (made once in the untimed
warm-up and copied into each folder), so preparation is excluded from both — which makes the
ratio larger than the one a user sees from a fresh clone. Target: ratio <= 1.20 (issue #16).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from fairmedia import layout
from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "demo workflow with vs without diagnostics (separability); target ratio <= 1.20"
REPO = Path(__file__).resolve().parents[3]
TARGET = 1.20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"),
                   help="workflow config whose diagnostics are measured (default: the demo)")
    p.add_argument("--cores", type=int, default=2)
    add_rounds_argument(p, default=3)


def _without_diagnostics(config: dict) -> dict:
    off = copy.deepcopy(config)
    off["diagnostics"] = {"separability": {"enabled": False}}
    return off


def _workflow(config: Path, folder: Path, cores: int) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-s",
                          str(REPO / "Snakefile"), "-d", str(folder), "--configfile", str(config),
                          "--cores", str(cores), "--quiet", "rules", "--workflow-profile", "none"],
                         cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"snakemake in {folder}: exit {res.returncode}\n"
                           f"{(res.stdout + res.stderr)[-2000:]}")
    return seconds


def run(args: argparse.Namespace) -> int:
    config = yaml.safe_load(Path(args.config).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        on_cfg, off_cfg = tmp / "with.yaml", tmp / "without.yaml"
        on_cfg.write_text(yaml.safe_dump(config))
        off_cfg.write_text(yaml.safe_dump(_without_diagnostics(config)))
        prepared = tmp / "prepared-source"
        count = {"n": 0}

        def side(cfg: Path) -> float:
            folder = tmp / f"round{count['n']}"
            count["n"] += 1
            folder.mkdir()
            if prepared.exists():
                shutil.copytree(prepared, folder / layout.PREPARED)
            seconds = _workflow(cfg, folder, args.cores)
            if not prepared.exists():
                shutil.copytree(folder / layout.PREPARED, prepared)
            shutil.rmtree(folder)
            return seconds

        # The untimed warm-up round (with diagnostics first) makes the prepared copy.
        result = interleave(("with diagnostics", lambda: side(on_cfg)),
                            ("without diagnostics", lambda: side(off_cfg)), rounds=args.rounds)
    print(f"`snakemake --cores {args.cores}` on {args.config}, prepared data reused, interleaved:")
    print("\n".join(result.lines()))
    verdict = "ok" if result.ratio <= TARGET else "ABOVE TARGET"
    print(f"  median ratio {result.ratio:.3f} (target <= {TARGET:.2f}): {verdict}")
    return 0
