"""``fairmedia postprocess``: a post-processing run (data contract 3) on top of a finished base run.

The base run's epochs are re-selected for the evaluated attribute (any criterion, post hoc); for
each selection block the method is fitted on the validation rows only and applied to validation
and test rows. Writes ``predictions.parquet`` (the training run's columns, plus ``decision`` for
methods that decide per row), ``history.csv`` (one fit summary per selection) and ``run.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fairmedia.commands._args import parse_assignments
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError
from fairmedia.methods.post_base import PostContext
from fairmedia.methods.registry import available_methods, get_method, resolve_hparams
from fairmedia.training import outputs, run_info

NAME = "postprocess"
HELP = "fit a post-processing method on a base run's validation predictions; apply to val and test"
COLUMNS = ["sample_id", "patient_id", "split", "y", "score", "selection", "epoch"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="finished base run folder (normally ERM)")
    p.add_argument("--method", required=True, help="post-processing method")
    p.add_argument("--attribute", required=True, help="sensitive attribute to post-process for")
    p.add_argument("--prepared", required=True, help="prepared dataset the base run trained on")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument("--hparam", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--hparam-sample", type=int, default=None,
                   help="use the k-th random hyperparameter configuration instead of the defaults")
    p.add_argument("--seed", type=int, default=0, help="seed of randomised decisions")
    p.add_argument("--device", default="cpu", help="device for methods that run the network")


def _base_info(base: Path) -> dict:
    for name in ("run.json", "epoch_scores.parquet"):
        if not (base / name).exists():
            raise UserError(f"base run {base} has no {name}; is it a finished training run?")
    try:
        return json.loads((base / "run.json").read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{base / 'run.json'} is not valid JSON: {err}") from None


def run(args: argparse.Namespace) -> int:
    t0 = time.time()
    cls = get_method(args.method)
    if cls.category != "post":
        post = [n for n, c in available_methods().items() if c.category == "post"]
        raise UserError(f"{args.method!r} is a training-time method; post-processing methods: "
                        f"{', '.join(post)}")
    base, out = Path(args.base), Path(args.out)
    info = _base_info(base)
    prepared = load_prepared(args.prepared, need_images=cls.needs_network)
    prepared.check_attribute(args.attribute)
    hp = resolve_hparams(args.method, parse_assignments(args.hparam, "--hparam"),
                         sample_seed=args.hparam_sample)
    rows, scores = outputs.load_epoch_scores(base, prepared)
    preds = outputs.predictions_frame(prepared, rows, scores, args.attribute)
    codes, names = prepared.attribute_codes(args.attribute)
    position = pd.Series(np.arange(len(prepared.metadata)), index=prepared.metadata["sample_id"])
    preds["group"] = codes[position.loc[preds["sample_id"]].to_numpy()]

    blocks, history, fits = [], [], {}
    for selection, block in preds.groupby("selection", sort=False):
        tf = time.time()
        epoch = int(block["epoch"].iloc[0])
        ctx = PostContext(base_run=base, prepared=prepared, attribute=args.attribute,
                          group_names=names, epoch=epoch, arch=info["config"]["arch"],
                          seed=args.seed, device=args.device)
        processor = cls(hp, ctx)
        fit = processor.fit(block[block["split"] == "val"].reset_index(drop=True))
        result = processor.transform(block)
        block = block.assign(score=result["score"].to_numpy())
        if "decision" in result:
            block["decision"] = result["decision"].to_numpy().astype(np.int8)
        blocks.append(block)
        fits[selection] = fit
        history.append({"selection": selection, "epoch": epoch, "fit_seconds": time.time() - tf,
                        **{k: v for k, v in fit.items() if np.isscalar(v)}})

    predictions = pd.concat(blocks, ignore_index=True)
    predictions = predictions[COLUMNS + (["decision"] if "decision" in predictions else [])]
    out.mkdir(parents=True, exist_ok=True)
    outputs.atomic_parquet(predictions, out / "predictions.parquet")
    outputs.atomic_text(pd.DataFrame(history).to_csv(index=False), out / "history.csv")
    config = {"base": str(base), "method": args.method, "attribute": args.attribute,
              "prepared": str(args.prepared), "out": str(out), "seed": args.seed,
              "hparams": parse_assignments(args.hparam, "--hparam"),
              "hparam_sample": args.hparam_sample, "arch": info["config"]["arch"],
              "base_method": info["config"]["method"]}
    outputs.write_run_json(out, {
        "config": config, "hparams": hp, "seed": args.seed, "selection_attribute": args.attribute,
        "base_run": {"dir": str(base), "config": info.get("config"), "identity": info.get("identity"),
                     "code": info.get("code")},
        "fit": fits, "code": run_info.git_commit(), "packages": run_info.package_versions(),
        "wall_seconds": time.time() - t0,
    })
    print(f"[{args.method} on {base}] {args.attribute}: wrote {out / 'predictions.parquet'}")
    return 0
