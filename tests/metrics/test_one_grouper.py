"""One grouper: training codes, evaluation groups, scored.parquet and the bootstrap agree."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset
from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import scored_frame
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.groups import attribute_grouping, parts_grouping


def _prepared(meta: pd.DataFrame) -> PreparedDataset:
    return PreparedDataset(Path("/nowhere"), meta, np.empty((len(meta), 0, 0, 0), np.uint8),
                           {"attributes": [c for c in meta.columns if c.startswith("a")]})


def test_order_is_by_value_and_integral_floats_are_named_as_integers():
    meta = pd.DataFrame({"a_num": [10, 2, 2, 1, 10], "a_float": [1.0, 0.0, 1.0, 0.0, 1.0],
                         "a_mixed": [1, "x", 1, "b", "x"]})
    prepared = _prepared(meta)
    codes, names = prepared.attribute_codes("a_num")
    assert names == ["1", "2", "10"] and codes.tolist() == [2, 1, 1, 0, 2]
    assert prepared.attribute_codes("a_float")[1] == ["0", "1"]
    codes, names = prepared.attribute_codes("a_mixed")
    assert names == ["1", "b", "x"] and codes.tolist() == [0, 2, 0, 1, 2]


def test_missing_is_in_no_group_and_training_refuses_it():
    meta = pd.DataFrame({"a_sex": ["F", None, "M", np.nan, "nan"]})
    grouping = attribute_grouping(meta, "a_sex")
    assert grouping.keys == ["F", "M", "nan"]  # the string "nan" is a value, NaN/None are not
    assert grouping.codes.tolist() == [0, -1, 1, -1, 2]
    assert grouping.row_keys().tolist() == ["F", None, "M", None, "nan"]
    with pytest.raises(UserError, match="2 row\\(s\\) have no value for attribute 'a_sex'"):
        _prepared(meta).attribute_codes("a_sex")


def test_scored_parquet_groups_are_the_evaluation_groups(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "patient_id": np.arange(n),
                       "y": rng.integers(0, 2, n), "score": rng.random(n),
                       "sex": rng.choice(["F", "M", None], n), "age": rng.choice([2, 10], n)})
    report = evaluate_predictions(df, ["sex", "age"], intersect=True, threshold="fixed:0.5")
    for parts in (["sex"], ["age"], ["sex", "age"]):
        name = layout.intersection_name(*parts)
        scored = scored_frame(df, parts_grouping(df, parts))
        scored.to_parquet(tmp_path / "scored.parquet", index=False)
        back = pd.read_parquet(tmp_path / "scored.parquet")
        groups = report["attributes"][name]["groups"]
        counts = back["group"].value_counts()
        assert sorted(counts.index) == sorted(groups)
        assert all(counts[k] == groups[k]["n"] for k in groups)
        assert back["group"].isna().sum() == report["attributes"][name]["n_missing"]
        assert attribute_grouping(back, "group").keys == sorted(groups)
