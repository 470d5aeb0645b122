"""``fairmedia synth``: write a synthetic chest-phantom dataset (prepared-dataset contract)."""

from __future__ import annotations

import argparse
import json
import time

import yaml

from fairmedia.data.synthetic import PRESETS, write_synthetic
from fairmedia.errors import UserError

NAME = "synth"
HELP = "generate the built-in synthetic dataset with a bias preset"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="mixed", choices=sorted(PRESETS))
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=None, help="number of images")
    p.add_argument("--size", type=int, default=None, help="image side in pixels")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                   help="override a generator knob (YAML value, e.g. contrast=[1.0,0.5])")


def run(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in ("n", "size", "seed") if getattr(args, k) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set expects KNOB=VALUE, got {item!r}")
        overrides[key] = yaml.safe_load(value)
    t0 = time.time()
    out = write_synthetic(args.out, args.preset, **overrides)
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"wrote {manifest['n']} images {manifest['image_shape']} to {out} in {time.time() - t0:.1f}s")
    for split, entry in sorted(manifest["counts"].items()):
        groups = "  ".join(
            f"{attr}={g}: {c.get('1', 0)}+/{c.get('0', 0) + c.get('1', 0)}"
            for attr in manifest["attributes"] for g, c in entry[attr].items()
        )
        print(f"  {split:5s} n={entry['n']:6d}  {groups}")
    return 0
