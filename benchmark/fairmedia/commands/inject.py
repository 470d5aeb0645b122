"""``fairmedia inject --prepared BASE --spec SPEC --out DIR``: derive a prepared dataset with an
injected bias (under-diagnosis or subsampling of one group in train/val; docs/diagnostics.md,
"Bias injection"), then print what changed per split × group."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from fairmedia.commands._args import check_output_dir
from fairmedia.errors import UserError

NAME = "inject"
HELP = "derive a prepared dataset with injected under-diagnosis or subsampling (train/val only)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prepared", required=True, help="the base prepared dataset folder")
    p.add_argument("--spec", required=True,
                   help='the injection as JSON/YAML text or a file holding it, e.g. \'{"seed": 0, '
                        '"changes": [{"kind": "underdiagnosis", "attribute": "sex", "group": "F", '
                        '"fraction": 0.25, "splits": ["train", "val"]}]}\'')
    p.add_argument("--out", required=True, help="output folder, e.g. results/prepared/synth-ud25")


def read_spec(text: str) -> Any:
    """The spec from a file named ``text``, else ``text`` itself (JSON is YAML too)."""
    path = Path(text)
    source = "--spec"
    try:
        is_file = path.is_file()
    except OSError:  # a long inline spec is no valid path
        is_file = False
    if is_file:
        text, source = path.read_text(encoding="utf-8"), f"--spec {path}"
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{source}: neither a file nor valid JSON/YAML: "
                        f"{str(err).splitlines()[0]}") from None
    if not isinstance(spec, dict):
        raise UserError(f"{source}: expected a mapping with seed and changes (or an existing file "
                        f"holding one), got {spec!r}")
    return spec


def run(args: argparse.Namespace) -> int:
    from fairmedia.data.injection import write_injected

    spec = read_spec(args.spec)
    out = Path(args.out)
    check_output_dir(out, "--out")
    write_injected(args.prepared, spec, out)
    manifest = json.loads((out / "manifest.json").read_text())
    injection = manifest["injection"]
    print(f"wrote {manifest['n']} rows to {out} (images: {injection['images']}; base "
          f"{injection['base']['content_hash'][:16]} -> {manifest['content_hash'][:16]})")
    for r in injection["changes"]:
        done = f"flipped {r['flipped']}" if r["kind"] == "underdiagnosis" else f"dropped {r['dropped']}"
        print(f"  [{r['change']}] {r['kind']:19s} {r['split']:5s} {r['attribute']}={r['group']}: "
              f"{done} of {r['eligible']}")
    return 0
