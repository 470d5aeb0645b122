"""Published tables: a leaderboard folder committed under ``results/published/<name>/`` together
with the config and code version that made it, so one cell can be re-run and compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from fairmedia.config_checks import validate_config_file
from fairmedia.errors import UserError
from fairmedia.provenance import git_commit, package_versions
from fairmedia.report.publish_check import check_config_describes

TABLE_FILES = ("leaderboard.csv", "leaderboard.md", "leaderboard.tex", "significance.csv",
               "ranks.csv", "ranks.json", "nemenyi.csv")
# Figures come as PNG (screen) and PDF (vector, for a paper); the HTML leaderboard beside them.
COPIED_SUFFIXES = (".png", ".pdf", ".html")


def publish(config_path: str | Path, leaderboard_dir: str | Path, out: str | Path) -> Path:
    """Copy ``leaderboard_dir/<selection>/`` tables and figures, the config and provenance."""
    src, out = Path(leaderboard_dir), Path(out)
    selections = sorted(p.name for p in src.iterdir() if (p / "leaderboard.csv").exists()) \
        if src.is_dir() else []
    if not selections:
        raise UserError(f"{src} holds no <selection>/leaderboard.csv to publish")
    # Refuse before anything is written: a published config that cannot re-run its table would
    # say "published" now and fail only later, in `fairmedia reproduce`.
    config = validate_config_file(config_path)
    unknown = sorted(set(selections) - set(config["selections"]))
    if unknown:
        raise UserError(f"{config_path} does not describe the leaderboard: its selections "
                        f"{config['selections']} lack {unknown} (folders of {src})")
    check_config_describes(config, config_path, [src / s / "leaderboard.csv" for s in selections])
    out.mkdir(parents=True, exist_ok=True)
    for sel in selections:
        (out / sel).mkdir(exist_ok=True)
        for f in sorted((src / sel).iterdir()):
            if f.name in TABLE_FILES or f.suffix in COPIED_SUFFIXES:
                shutil.copy2(f, out / sel / f.name)
    shutil.copy2(config_path, out / "config.yaml")
    provenance = {"code": git_commit(), "packages": package_versions(), "selections": selections,
                  "config": str(config_path)}
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True))
    write_published_html(out, yaml.safe_load(Path(config_path).read_text()) or {})
    return out


def write_published_html(out: Path, config: dict[str, Any]) -> Path:
    """``out/index.html``: the published tables as one page, with the stored provenance."""
    from fairmedia.report.html import write_leaderboard_html

    lb = config.get("leaderboard") or {}
    return write_leaderboard_html(out, title=f"FairMedIA leaderboard — {out.name}",
                                  baseline=config.get("baseline", "erm"),
                                  correction=lb.get("correction", "holm"))


def load_published(table: str | Path) -> tuple[dict[str, Any], Path]:
    table = Path(table)
    cfg = table / "config.yaml"
    if not cfg.exists():
        raise UserError(f"{table} is not a published table: {cfg.name} is missing "
                        "(publish with `fairmedia publish`)")
    return yaml.safe_load(cfg.read_text()), table
