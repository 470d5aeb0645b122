"""Every registered training-time method trains two steps and scores val/test with finite
numbers; every post-processing method fits on val predictions and transforms test ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairmedia.methods.registry import available_methods
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

TRAINING = [n for n, c in available_methods().items() if c.category != "post"]


@pytest.mark.parametrize("method", TRAINING)
def test_method_trains_two_steps(method, tiny_prepared, tmp_path):
    cls = available_methods()[method]
    out = train_run(
        TrainConfig(prepared=str(tiny_prepared), out=str(tmp_path / method), method=method,
                    attribute="sex" if cls.uses_attribute else "any", seed=0, epochs=1,
                    batch_size=16, max_steps_per_epoch=2),
        log=lambda _: None,
    )
    preds = pd.read_parquet(out / "predictions.parquet")
    assert len(preds) > 0 and set(preds["split"]) == {"val", "test"}
    assert np.isfinite(preds["score"]).all()
    history = pd.read_csv(out / "history.csv")
    assert np.isfinite(history["loss"]).all()
