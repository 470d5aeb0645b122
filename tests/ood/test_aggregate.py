"""Aggregation: patient ids never collide, splits and images carried over, per-source metrics add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.aggregate import aggregate_prepared
from fairmedia.data.prepared import load_prepared, write_prepared
from fairmedia.errors import UserError
from fairmedia.evaluation.run_evaluation import evaluate_run
from fairmedia.evaluation.transfer import evaluate_transfer, transfer_predict
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

SEX = {"sex": "sex"}


@pytest.fixture(scope="module")
def pooled(ood_data):
    out = ood_data["root"] / "pool"
    aggregate_prepared(out, {"a": ood_data["src"], "b": ood_data["twin"]},
                       {"a": SEX, "b": SEX}, name="pool")
    return out


def test_patient_ids_from_two_datasets_never_collide(ood_data, pooled):
    a = load_prepared(ood_data["src"], need_images=False).metadata
    b = load_prepared(ood_data["twin"], need_images=False).metadata
    # same generator seed: both members number their patients identically
    assert set(a["patient_id"]) == set(b["patient_id"])
    meta = load_prepared(pooled, need_images=False).metadata
    assert meta.groupby("patient_id")["source"].nunique().max() == 1
    assert meta["patient_id"].nunique() == a["patient_id"].nunique() + b["patient_id"].nunique()
    assert not meta["sample_id"].duplicated().any()
    # each row keeps its member's split, label and attribute
    for key, member in (("a", a), ("b", b)):
        part = meta[meta["source"] == key].set_index("source_sample_id")
        own = member.set_index("sample_id").loc[part.index]
        assert (part["split"] == own["split"]).all() and (part["y"] == own["y"]).all()
        assert (part["sex"] == own["sex"]).all()


def test_images_are_copied_in_member_order(ood_data, pooled):
    pool = load_prepared(pooled)
    a, b = load_prepared(ood_data["src"]), load_prepared(ood_data["twin"])
    np.testing.assert_array_equal(pool.images[: len(a.images)], a.images)
    np.testing.assert_array_equal(pool.images[len(a.images):], b.images)
    assert pool.attributes == ["sex", "source"]


def _flat(out, n, size, value_of_row, sex="M"):
    meta = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)],
                         "patient_id": [f"p{i}" for i in range(n)],
                         "split": ["train", "val", "test"] * (n // 3), "y": [0, 1] * (n // 2),
                         "sex": sex})
    images = np.stack([np.full((1, size, size), value_of_row(i), np.uint8) for i in range(n)])
    return write_prepared(out, meta, images, dataset=out.name, card_version=1, attributes=["sex"])


def test_members_of_another_size_are_resized_and_channels_must_agree(tmp_path):
    a = _flat(tmp_path / "a", 6, 8, lambda i: 10 * i)
    b = _flat(tmp_path / "b", 6, 16, lambda i: 200 - 7 * i)
    pool = load_prepared(aggregate_prepared(tmp_path / "pool", {"a": a, "b": b},
                                            {"a": SEX, "b": SEX}, name="pool"))
    assert pool.images.shape == (12, 1, 8, 8)
    # a flat image stays flat at any size: its grey level is the reference
    np.testing.assert_array_equal(pool.images[6:, 0, 3, 3], [200 - 7 * i for i in range(6)])
    assert pool.manifest["options"]["resized_from"] == {"b": [1, 16, 16]}
    meta = pd.read_parquet(a / "metadata.parquet")
    rgb = write_prepared(tmp_path / "rgb", meta, np.zeros((6, 3, 8, 8), np.uint8), dataset="rgb",
                         card_version=1, attributes=["sex"])
    with pytest.raises(UserError, match="1-channel images but 'c' has 3"):
        aggregate_prepared(tmp_path / "bad", {"a": a, "c": rgb}, {"a": SEX, "c": SEX}, name="x")
    with pytest.raises(UserError, match="no column"):
        aggregate_prepared(tmp_path / "bad2", {"a": a, "b": b},
                           {"a": {"race": "race"}, "b": {"race": "race"}}, name="x")


def test_per_source_metrics_add_up(ood_data, pooled, tmp_path):
    run = train_run(TrainConfig(prepared=str(pooled), out=str(tmp_path / "run"), epochs=2,
                                batch_size=32, threads=1), log=lambda *_: None)
    whole = evaluate_run(run, "sex", "overall", tmp_path / "whole")
    whole_scored = pd.read_parquet(tmp_path / "whole" / "scored.parquet").set_index("sample_id")
    parts = []
    for key, member in (("a", ood_data["src"]), ("b", ood_data["twin"])):
        transfer_predict(run, member, tmp_path / key, SEX)
        parts.append(evaluate_transfer(tmp_path / key, "sex", "overall", tmp_path / key / "eval"))
        # a member's test rows get the scores the pooled model gave them in the pooled test split
        scored = pd.read_parquet(tmp_path / key / "eval" / "scored.parquet")
        own = whole_scored.loc[key + ":" + scored["sample_id"], "score"].to_numpy()
        np.testing.assert_allclose(scored["score"].to_numpy(), own, atol=1e-6)
    for part in parts:  # the pooled model's threshold, fitted once on the pooled val split
        assert part["threshold"]["value"] == whole["threshold"]["value"]
    for count in ("n", "n_pos", "n_neg", "tp", "fp", "fn", "tn"):
        assert sum(p["overall"][count] for p in parts) == whole["overall"][count], count
        for group in ("F", "M"):
            total = sum(p["attributes"]["sex"]["groups"][group][count] for p in parts)
            assert total == whole["attributes"]["sex"]["groups"][group][count], (group, count)
