"""Re-run the runs behind one published cell and compare the numbers side by side.

The published config is narrowed to the cell's dataset, architecture and method (plus the
baseline, whose runs the Δ needs) and run by Snakemake in a scratch folder; the reproduced
per-seed metrics are averaged exactly as the leaderboard does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from fairmedia import grid, layout
from fairmedia.config_checks import validate_config_file
from fairmedia.errors import UserError
from fairmedia.report.collect import flatten_metrics
from fairmedia.report.publish import load_published

REPO = Path(__file__).resolve().parents[3]


def narrow_config(config: dict, dataset: str, attribute: str, arch: str, method: str) -> dict:
    if dataset not in config["datasets"]:
        raise UserError(f"dataset {dataset!r} is not in the published config; "
                        f"its datasets: {', '.join(config['datasets'])}")
    if attribute not in config["datasets"][dataset]["attributes"]:
        raise UserError(f"attribute {attribute!r} is not among {dataset}'s attributes "
                        f"{config['datasets'][dataset]['attributes']}")
    for key, value in (("archs", arch), ("methods", method)):
        if value not in config[key]:
            raise UserError(f"{value!r} is not in the published config's {key}: {config[key]}")
    baseline = config.get("baseline", "erm")
    methods = [baseline] + ([method] if method != baseline else [])
    if grid.is_post(method) and config.get("post_base", "erm") not in methods:
        methods.append(config.get("post_base", "erm"))
    narrowed = {**config, "archs": [arch], "methods": methods}
    narrowed["datasets"] = {dataset: {**config["datasets"][dataset], "attributes": [attribute]}}
    return narrowed


def reproduce_cell(table: str | Path, cell: str, workdir: str | Path, cores: int = 2) -> pd.DataFrame:
    try:
        dataset, attribute, arch, method = cell.split("/")
    except ValueError:
        raise UserError(f"--cell must be DATASET/ATTRIBUTE/ARCH/METHOD, got {cell!r}") from None
    config, table = load_published(table)
    validate_config_file(Path(table) / "config.yaml")  # no published config runs unchecked
    narrowed = narrow_config(config, dataset, attribute, arch, method)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(narrowed, sort_keys=False))
    selections = narrowed.get("selections", ["overall", "worst_group"])
    targets = [t for s in selections for t in grid.metrics_targets(narrowed, s)
               if (p := layout.parse_metrics_path(Path(t), Path(layout.RUNS))).method == method
               and p.attribute == attribute]
    # Targets go before --configfile, which takes several values.
    cmd = [str(Path(sys.executable).with_name("snakemake")), *targets, "-s", str(REPO / "Snakefile"),
           "-d", str(workdir), "--cores", str(cores), "--configfile", str(workdir / "config.yaml")]
    print(f"running snakemake in {workdir} for {len(targets)} metrics files", flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise UserError(f"the reproduction run failed; see the Snakemake log under {workdir}/.snakemake")
    rows = []
    for target in targets:
        sel = Path(target).parent.name
        values = flatten_metrics(json.loads((workdir / target).read_text()), attribute)
        rows += [{"selection": sel, "metric": k, "value": v} for k, v in values.items()]
    reproduced = pd.DataFrame(rows).groupby(["selection", "metric"])["value"].agg(["mean", "std"])
    frames = []
    for sel in selections:
        path = table / sel / "leaderboard.csv"
        if path.exists():
            pub = pd.read_csv(path)
            pub = pub[(pub.dataset == dataset) & (pub.attribute == attribute) & (pub.arch == arch)
                      & (pub.method == method)]
            frames.append(pub.assign(selection=sel)[["selection", "metric", "mean", "std"]])
    if not frames:
        raise UserError(f"{table} has no leaderboard.csv rows for {cell}")
    published = pd.concat(frames)
    out = published.merge(reproduced.reset_index(), on=["selection", "metric"],
                          suffixes=("_published", "_reproduced"))
    out["difference"] = out["mean_reproduced"] - out["mean_published"]
    out["within_published_std"] = out["difference"].abs() <= out["std_published"].fillna(0)
    return out.reset_index(drop=True)
