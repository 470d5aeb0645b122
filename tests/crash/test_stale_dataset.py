"""Never a stale result: a prepared dataset rebuilt in the same folder with other content gets
another content hash, and a run checkpointed on the old data starts afresh (saying why) instead
of resuming — ending identical to a fresh run on the new data. The same data prepared again, or
moved to another folder, keeps its hash, so an interrupted run still resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairmedia.data.prepared import load_prepared, write_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.training.checkpoint import load_checkpoint, save_atomic
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

SIZE = {"n": 300, "size": 16, "seed": 0}
OUTPUTS = ("predictions.parquet", "epoch_scores.parquet")


def _cfg(prepared: Path, out: Path, **kw) -> TrainConfig:
    kw = {"epochs": 2, "max_steps_per_epoch": 3, **kw}
    return TrainConfig(prepared=str(prepared), out=str(out), method="erm", seed=3, batch_size=32,
                       threads=1, **kw)


def _hash(prepared: Path) -> str | None:
    return json.loads((prepared / "manifest.json").read_text()).get("content_hash")


def _quiet(_msg: str) -> None:
    pass


def _assert_same_run(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name),
                                      check_exact=True)
    wa = sorted(p.name for p in (a / "weights").iterdir())
    assert wa == sorted(p.name for p in (b / "weights").iterdir())
    for name in wa:
        sa = torch.load(a / "weights" / name, weights_only=True)
        sb = torch.load(b / "weights" / name, weights_only=True)
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_run_on_a_rebuilt_dataset_starts_afresh_and_matches_a_fresh_run(tmp_path):
    prepared = tmp_path / "prepared" / "synth"
    write_synthetic(prepared, "mixed", **SIZE)
    old_hash = _hash(prepared)
    run = tmp_path / "runs" / "r"
    train_run(_cfg(prepared, run), log=_quiet)
    old_predictions = pd.read_parquet(run / "predictions.parquet")

    write_synthetic(prepared, "shortcut", **SIZE)  # same folder, same size, other content
    messages: list[str] = []
    train_run(_cfg(prepared, run), log=messages.append)
    text = "\n".join(messages)
    assert "resuming" not in text
    new_hash = _hash(prepared)
    assert new_hash != old_hash
    assert (f"{run / 'checkpoint.pt'}: checkpoint was trained on prepared data with hash "
            f"{old_hash[:16]}, this dataset has hash {new_hash[:16]}; starting afresh") in text

    fresh = train_run(_cfg(prepared, tmp_path / "runs" / "fresh"), log=_quiet)
    _assert_same_run(run, fresh)
    new_predictions = pd.read_parquet(run / "predictions.parquet")
    assert not np.array_equal(new_predictions["score"], old_predictions["score"]), \
        "the rebuilt data trains another model, so keeping the old scores would be visible here"
    info = json.loads((run / "run.json").read_text())
    assert info["dataset_manifest"]["content_hash"] == new_hash
    assert info["identity"] == _cfg(prepared, run).identity(new_hash)
    ckpt = load_checkpoint(run / "checkpoint.pt")
    assert ckpt["identity_parts"]["dataset_content_hash"] == new_hash


def test_same_data_prepared_again_or_moved_keeps_its_hash_and_the_run_resumes(tmp_path):
    prepared = tmp_path / "a" / "synth"
    write_synthetic(prepared, "mixed", **SIZE)
    first = _hash(prepared)
    run = tmp_path / "run"
    train_run(_cfg(prepared, run), log=_quiet)
    before = {name: pd.read_parquet(run / name) for name in OUTPUTS}

    write_synthetic(prepared, "mixed", **SIZE)  # rebuilt, identical content
    assert _hash(prepared) == first
    moved = tmp_path / "b" / "elsewhere"
    moved.parent.mkdir()
    shutil.move(prepared, moved)  # the prepared path is not part of the identity
    messages: list[str] = []
    train_run(_cfg(moved, run), log=messages.append)
    assert f"resuming {run} after epoch 2/2" in messages
    assert not any("afresh" in m for m in messages)
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(before[name], pd.read_parquet(run / name), check_exact=True)


def test_manifest_without_hash_is_hashed_at_load_and_still_resumes(tmp_path):
    """A folder prepared by an older version (no content_hash in its manifest) is hashed from its
    files, with a log line; the hash equals the one a current prepare records."""
    prepared = write_synthetic(tmp_path / "p", "mixed", **SIZE)
    recorded = _hash(prepared)
    run = tmp_path / "run"
    train_run(_cfg(prepared, run), log=_quiet)

    manifest = json.loads((prepared / "manifest.json").read_text())
    del manifest["content_hash"]
    (prepared / "manifest.json").write_text(json.dumps(manifest))
    logged: list[str] = []
    assert load_prepared(prepared).content_hash(logged.append) == recorded
    assert logged == [f"{prepared / 'manifest.json'} has no content_hash (prepared by an older "
                      f"version); computed it from the files: {recorded[:16]}"]
    messages: list[str] = []
    train_run(_cfg(prepared, run), log=messages.append)
    assert any("has no content_hash" in m for m in messages)
    assert f"resuming {run} after epoch 2/2" in messages
    assert json.loads((run / "run.json").read_text())["dataset_manifest"]["content_hash"] == recorded


def test_checkpoint_without_a_dataset_hash_is_not_resumed(tmp_path, tiny_prepared):
    """A checkpoint from before the dataset was part of the identity (its identity is the
    configuration-only hash) cannot be shown to belong to this data: the run starts afresh."""
    cfg = _cfg(tiny_prepared, tmp_path / "run")
    ref = train_run(_cfg(tiny_prepared, tmp_path / "ref"), log=_quiet)
    run = train_run(cfg, log=_quiet)
    ckpt = load_checkpoint(run / "checkpoint.pt")
    del ckpt["identity_parts"]
    ckpt["identity"] = cfg.identity()  # what the older version stored
    save_atomic(ckpt, run / "checkpoint.pt")
    (run / "weights" / "epoch099.pt").write_bytes(b"left over from the earlier run")
    messages: list[str] = []
    train_run(cfg, log=messages.append)
    assert any("records no hash of the prepared data" in m and m.endswith("starting afresh")
               for m in messages)
    assert not any("resuming" in m for m in messages)
    _assert_same_run(ref, run)  # the stray weights file went with the old run


def test_changed_configuration_says_which_fields_differ(tmp_path, tiny_prepared):
    run = tmp_path / "run"
    train_run(_cfg(tiny_prepared, run), log=_quiet)
    messages: list[str] = []
    train_run(_cfg(tiny_prepared, run, lr=0.01), log=messages.append)
    assert (f"{run / 'checkpoint.pt'}: checkpoint is from a different configuration "
            "(lr: 0.001 -> 0.01); starting afresh") in messages


def _table(n: int = 12) -> tuple[pd.DataFrame, np.ndarray]:
    meta = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "patient_id": [f"p{i}" for i in range(n)],
        "split": ["train", "val", "test"] * (n // 3), "y": [0, 1] * (n // 2),
        "sex": ["F", "M", "M", "F"] * (n // 4),
    })
    images = np.random.default_rng(0).integers(0, 256, (n, 1, 4, 4), dtype=np.uint8)
    return meta, images


def _variant(kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    meta, images = _table()
    if kind == "pixel":
        images[5, 0, 2, 3] ^= 1
    elif kind == "split":
        meta.loc[4, "split"] = "test" if meta.loc[4, "split"] != "test" else "val"
    elif kind == "label":
        meta.loc[7, "y"] = 1 - meta.loc[7, "y"]
    elif kind == "attribute":
        meta.loc[2, "sex"] = "F" if meta.loc[2, "sex"] == "M" else "M"
    elif kind == "row order":
        meta, images = meta.iloc[::-1].reset_index(drop=True), images[::-1].copy()
    return meta, images


def _write(out: Path, meta: pd.DataFrame, images: np.ndarray) -> str:
    write_prepared(out, meta, images, dataset="t", card_version=1, attributes=["sex"])
    return _hash(out)


@pytest.mark.parametrize("kind", ["pixel", "split", "label", "attribute", "row order"])
def test_any_change_of_content_changes_the_hash(tmp_path, kind):
    base = _write(tmp_path / "base", *_table())
    assert _write(tmp_path / "again", *_table()) == base
    assert _write(tmp_path / kind, *_variant(kind)) != base


def test_hash_ignores_how_images_npy_was_written(tmp_path):
    """The pixels, not the file: an array filled through ImageArrayWriter hashes like np.save."""
    from fairmedia.data.prepared import ImageArrayWriter

    meta, images = _table()
    base = _write(tmp_path / "saved", meta, images)
    writer = ImageArrayWriter(tmp_path / "mapped", len(images), images.shape[1:])
    writer.array[:] = images
    writer.finalize()
    assert _write(tmp_path / "mapped", meta, None) == base
