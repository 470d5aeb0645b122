"""Post-processing runs (data contract 3) on top of a finished base run.

The base run's epochs are re-selected for the evaluated attribute (any criterion, post hoc); for
each selection block the method is fitted on the validation rows only and applied to validation
and test rows. Writes ``predictions.parquet`` (the training run's columns, plus ``decision`` for
methods that decide per row), ``history.csv`` (one fit summary per selection) and ``run.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout, provenance
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError
from fairmedia.methods.post_base import PostContext
from fairmedia.methods.registry import available_methods, get_method, resolve_hparams
from fairmedia.training import outputs

COLUMNS = ["sample_id", "patient_id", "split", "y", "score", "selection", "epoch"]


def _base_info(base: Path) -> dict:
    for name in (layout.RUN_JSON, layout.EPOCH_SCORES):
        if not (base / name).exists():
            raise UserError(f"base run {base} has no {name}; is it a finished training run?")
    try:
        return json.loads((base / layout.RUN_JSON).read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{base / layout.RUN_JSON} is not valid JSON: {err}") from None


def postprocess_run(base: str | Path, method: str, attribute: str, prepared_dir: str | Path,
                    out: str | Path, *, hparams: dict[str, Any] | None = None,
                    hparam_sample: int | None = None, seed: int = 0, device: str = "cpu") -> Path:
    """Fit ``method`` on the base run's validation predictions for ``attribute``, apply it to its
    validation and test rows, and write the post-processing run to ``out``."""
    t0 = time.time()
    cls = get_method(method)
    if cls.category != "post":
        post = [n for n, c in available_methods().items() if c.category == "post"]
        raise UserError(f"{method!r} is a training-time method; post-processing methods: "
                        f"{', '.join(post)}")
    base, out = Path(base), Path(out)
    info = _base_info(base)
    prepared = load_prepared(prepared_dir, need_images=cls.needs_network)
    prepared.check_attribute(attribute)
    hp = resolve_hparams(method, hparams or {}, sample_seed=hparam_sample)
    rows, scores = outputs.load_epoch_scores(base, prepared)
    preds = outputs.predictions_frame(prepared, rows, scores, attribute,
                                      candidates=outputs.load_candidates(base),
                                      encoding=outputs.load_encoding(base))
    codes, names = prepared.attribute_codes(attribute)
    position = pd.Series(np.arange(len(prepared.metadata)), index=prepared.metadata["sample_id"])
    preds["group"] = codes[position.loc[preds["sample_id"]].to_numpy()]

    blocks, history, fits = [], [], {}
    for selection, block in preds.groupby("selection", sort=False):
        tf = time.time()
        epoch = int(block["epoch"].iloc[0])
        ctx = PostContext(base_run=base, prepared=prepared, attribute=attribute,
                          group_names=names, epoch=epoch, arch=info["config"]["arch"],
                          seed=seed, device=device)
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
    outputs.atomic_parquet(predictions, out / layout.PREDICTIONS)
    outputs.atomic_text(pd.DataFrame(history).to_csv(index=False), out / layout.HISTORY)
    config = {"base": str(base), "method": method, "attribute": attribute,
              "prepared": str(prepared_dir), "out": str(out), "seed": seed,
              "hparams": dict(hparams or {}), "hparam_sample": hparam_sample,
              "arch": info["config"]["arch"], "base_method": info["config"]["method"]}
    outputs.write_run_json(out, {
        "config": config, "hparams": hp, "seed": seed, "selection_attribute": attribute,
        "base_run": {"dir": str(base), "config": info.get("config"), "identity": info.get("identity"),
                     "code": info.get("code")},
        "fit": fits, "code": provenance.git_commit(), "packages": provenance.package_versions(),
        "wall_seconds": time.time() - t0,
    })
    return out / layout.PREDICTIONS
