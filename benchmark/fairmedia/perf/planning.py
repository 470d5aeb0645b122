"""Planning: `snakemake -n` of this workflow on a grid of ~24,000 jobs against the same number of
jobs in a trivial Snakefile (one rule touching N files), both generated in a scratch folder and
timed in this process, interleaved over ``--rounds`` rounds with alternating start order
(perf/_interleave.py; medians; the untimed warm-up round counts the jobs). Neither loads a profile.
Target: ratio <= 1.5."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "snakemake -n on a ~24k-job grid of this workflow vs a trivial Snakefile; target <= 1.5"
REPO = Path(__file__).resolve().parents[3]
TRAIN_METHODS = ["erm", "resample", "reweight", "groupdro", "domainind", "cfair", "adversarial",
                 "lnl", "mmd", "fair-penalty", "fscl", "harmonize"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--datasets", type=int, default=20)
    p.add_argument("--seeds", type=int, default=50)
    add_rounds_argument(p)


def grid_config(n_datasets: int, n_seeds: int) -> dict:
    """One attribute, one selection: each (dataset, method, seed) is one train and one evaluate
    job, so 20 datasets × 12 methods × 50 seeds ≈ 24,000 jobs (+ prepares, leaderboard)."""
    return {
        "datasets": {f"d{i:02d}": {"card": "synthetic", "options": {"n": 200, "size": 16, "seed": i},
                                   "attributes": ["sex"]} for i in range(n_datasets)},
        "archs": ["cnn-small"], "methods": TRAIN_METHODS, "seeds": list(range(n_seeds)),
        "selections": ["overall"],
    }


TRIVIAL = """N = int(config["count"])

rule all:
    input: expand("out/{i}.txt", i=range(N))

rule make:
    output: "out/{i}.txt"
    shell: "touch {output}"
"""


def _dry_run(args: list[str], cwd: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    res = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "--quiet",
                          "rules", "--workflow-profile", "none", *args], cwd=cwd,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"snakemake {args}: exit {res.returncode}\n{(res.stdout + res.stderr)[-2000:]}")
    total = re.search(r"^total\s+(\d+)", res.stdout + res.stderr, flags=re.M)
    return seconds, int(total.group(1)) if total else -1


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        ours_dir, trivial_dir = Path(tmp) / "ours", Path(tmp) / "trivial"
        ours_dir.mkdir()
        trivial_dir.mkdir()
        config = ours_dir / "grid.yaml"
        config.write_text(yaml.safe_dump(grid_config(args.datasets, args.seeds)))
        (trivial_dir / "Snakefile").write_text(TRIVIAL)
        jobs: dict[str, int] = {}

        def ours() -> float:
            seconds, jobs["ours"] = _dry_run(["-s", str(REPO / "Snakefile"), "-d", str(ours_dir),
                                              "--configfile", str(config)], cwd=ours_dir)
            return seconds

        def trivial() -> float:  # the same number of jobs: N touch jobs plus `all`
            seconds, jobs["trivial"] = _dry_run(["--config", f"count={jobs['ours'] - 1}"],
                                                cwd=trivial_dir)
            return seconds

        result = interleave(("this workflow", ours), ("trivial Snakefile", trivial), rounds=args.rounds)
    print(f"snakemake -n, this workflow {jobs['ours']} jobs vs a trivial Snakefile {jobs['trivial']} "
          "jobs, interleaved:")
    print("\n".join(result.lines()))
    ratio = result.ratio
    print(f"  median ratio {ratio:.2f} (target <= 1.5): {'ok' if ratio <= 1.5 else 'ABOVE TARGET'}")
    return 0
