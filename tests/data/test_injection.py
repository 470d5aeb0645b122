"""Bias injection (data/injection.py): the rows it changes, the rows it never touches, the derived
prepared folder (shared images, manifest) and the command's errors on bad --spec input.

Expected counts are computed here from the base metadata with pandas and the documented rule
(half-up rounding of fraction × eligible rows per split), independently of the module's loop."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.data.injection import ORIGINAL_LABEL, apply_injection, write_injected
from fairmedia.data.injection_spec import check_spec
from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.errors import UserError

GROUPS = {"sex": ["F", "M"]}


def _ud(fraction: float = 0.25, seed: int = 0, splits=("train", "val"), kind="underdiagnosis"):
    return {"seed": seed, "changes": [{"kind": kind, "attribute": "sex", "group": "F",
                                       "fraction": fraction, "splits": list(splits)}]}


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("inj") / "base", "none", n=500, size=8, seed=0)


def _keep(meta: pd.DataFrame) -> pd.DataFrame:
    return meta.drop(columns=[ORIGINAL_LABEL]).reset_index(drop=True)


def test_underdiagnosis_flips_the_rounded_share_of_one_groups_positives_in_train_and_val(base):
    meta = load_prepared(base, need_images=False).metadata
    out, keep, _ = apply_injection(meta, check_spec(_ud(0.3), "spec", GROUPS))
    assert keep.all() and list(out["sample_id"]) == list(meta["sample_id"])
    changed = out["y"] != out[ORIGINAL_LABEL]
    assert (out.loc[changed, ORIGINAL_LABEL] == 1).all() and (out.loc[changed, "y"] == 0).all()
    assert set(out.loc[changed, "sex"]) == {"F"}  # the other group keeps every label
    for split in ("train", "val"):
        pos_f = int(((meta["split"] == split) & (meta["sex"] == "F") & (meta["y"] == 1)).sum())
        assert pos_f > 10
        assert int((changed & (out["split"] == split)).sum()) == _half_up(0.3 * pos_f)
    assert not changed[out["split"] == "test"].any()
    pd.testing.assert_series_equal(out[ORIGINAL_LABEL], meta["y"], check_names=False)


def test_rounding_is_half_up_on_a_hand_built_table():
    # 10 positives of F in train: 0.25 × 10 = 2.5 → 3 flipped (Python's round() would give 2).
    meta = pd.DataFrame({"sample_id": [f"s{i}" for i in range(16)],
                         "patient_id": [f"p{i}" for i in range(16)],
                         "split": ["train"] * 16, "y": [1] * 12 + [0] * 4,
                         "sex": ["F"] * 10 + ["M"] * 2 + ["F"] * 4})
    out, _, records = apply_injection(meta, check_spec(_ud(0.25, splits=["train"]), "s", GROUPS))
    assert int((out["y"] != out[ORIGINAL_LABEL]).sum()) == 3
    assert records[0] == {"change": 0, "kind": "underdiagnosis", "attribute": "sex", "group": "F",
                          "split": "train", "eligible": 10, "flipped": 3, "dropped": 0}


def test_same_seed_same_rows_another_seed_other_rows(base):
    meta = load_prepared(base, need_images=False).metadata
    spec = check_spec(_ud(0.5), "spec", GROUPS)
    a, b = (apply_injection(meta, spec)[0] for _ in range(2))
    pd.testing.assert_frame_equal(a, b)
    c = apply_injection(meta, check_spec(_ud(0.5, seed=1), "spec", GROUPS))[0]
    assert (c["y"] != c[ORIGINAL_LABEL]).sum() == (a["y"] != a[ORIGINAL_LABEL]).sum()
    assert not a["y"].equals(c["y"])


@pytest.mark.parametrize("kind", ["subsample", "subsample_positives"])
def test_subsampling_keeps_the_stated_share_of_the_group_and_nothing_else_changes(base, kind):
    meta = load_prepared(base, need_images=False).metadata
    out, keep, _ = apply_injection(meta, check_spec(_ud(0.4, kind=kind, splits=["train"]), "s", GROUPS))
    eligible = (meta["split"] == "train") & (meta["sex"] == "F")
    if kind == "subsample_positives":
        eligible &= meta["y"] == 1
    assert int(keep[eligible.to_numpy()].sum()) == _half_up(0.4 * int(eligible.sum()))
    assert keep[~eligible.to_numpy()].all()  # M rows, F negatives (for positives), val and test
    pd.testing.assert_frame_equal(_keep(out), meta[keep].reset_index(drop=True))


def test_derived_folder_loads_shares_the_base_images_and_records_the_injection(base, tmp_path):
    out = write_injected(base, _ud(0.25), tmp_path / "ud")
    derived, original = load_prepared(out), load_prepared(base)
    link = out / "images.npy"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert os.path.samefile(link, base / "images.npy")  # shared, not copied
    assert isinstance(derived.images, np.memmap)
    test = derived.metadata["split"] == "test"
    pd.testing.assert_frame_equal(_keep(derived.metadata[test]),
                                  original.metadata[original.metadata["split"] == "test"]
                                  .reset_index(drop=True))
    manifest = derived.manifest
    inj = manifest["injection"]
    assert inj["spec"] == check_spec(_ud(0.25), "spec", GROUPS)
    assert inj["base"]["content_hash"] == original.manifest["content_hash"]
    assert manifest["content_hash"] != original.manifest["content_hash"]
    assert inj["images"] == "symlink" and inj["original_label_column"] == ORIGINAL_LABEL
    flipped = derived.metadata["y"] != derived.metadata[ORIGINAL_LABEL]
    for split in ("train", "val", "test"):
        for group in ("F", "M"):
            n = int((flipped & (derived.metadata["split"] == split)
                     & (derived.metadata["sex"] == group)).sum())
            assert inj["counts"][split]["sex"][group] == {"flipped": n, "dropped": 0}
    assert inj["counts"]["train"]["sex"]["F"]["flipped"] > 0
    # The manifest's label counts are of the injected labels.
    n_pos = int(derived.metadata.loc[derived.metadata["split"] == "train", "y"].sum())
    assert manifest["counts"]["train"]["n_pos"] == n_pos


def test_a_subsample_writes_the_kept_rows_images_in_row_order(base, tmp_path):
    out = write_injected(base, _ud(0.5, kind="subsample", splits=["train"]), tmp_path / "sub")
    derived, original = load_prepared(out), load_prepared(base)
    assert not (out / "images.npy").is_symlink()
    rows = original.metadata.reset_index().set_index("sample_id").loc[derived.metadata["sample_id"], "index"]
    np.testing.assert_array_equal(np.asarray(derived.images), np.asarray(original.images)[rows.to_numpy()])
    assert derived.manifest["injection"]["images"] == "subset"
    assert len(derived.metadata) < len(original.metadata)


@pytest.mark.parametrize(("spec", "message"), [
    ("{not json", "--spec: neither a file nor valid JSON/YAML"),
    ("[1, 2]", "--spec: expected a mapping with seed and changes"),
    ('{"changes": []}', "--spec.changes: expected a non-empty list"),
    (json.dumps(_ud(kind="flip")), "--spec.changes[0].kind: unknown kind 'flip'; valid: underdiagnosis"),
    (json.dumps(_ud(splits=["train", "test"])), "--spec.changes[0].splits: 'test' is refused"),
    (json.dumps(_ud(fraction=0)), "--spec.changes[0].fraction: expected a number in (0, 1]"),
    (json.dumps({**_ud(), "changes": [{**_ud()["changes"][0], "group": "X"}]}),
     "--spec.changes[0].group: 'X' is not a group of 'sex'; declared groups: ['F', 'M']"),
    (json.dumps({**_ud(), "changes": [{**_ud()["changes"][0], "attribute": "race"}]}),
     "--spec.changes[0].attribute: 'race' is not an attribute of the base dataset"),
])
def test_command_refuses_bad_spec_in_one_line(base, tmp_path, capsys, spec, message):
    code = main(["inject", "--prepared", str(base), "--spec", spec, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_command_reads_a_spec_file_and_refuses_a_missing_base(base, tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("seed: 0\nchanges:\n  - {kind: underdiagnosis, attribute: sex, group: F, "
                    "fraction: 1}\n")
    assert main(["inject", "--prepared", str(base), "--spec", str(spec), "--out",
                 str(tmp_path / "all")]) == 0
    meta = load_prepared(tmp_path / "all", need_images=False).metadata
    assert not ((meta["sex"] == "F") & meta["split"].isin(["train", "val"]) & (meta["y"] == 1)).any()
    with pytest.raises(UserError, match="is incomplete: missing"):
        write_injected(tmp_path / "nowhere", _ud(), tmp_path / "x")


def test_a_run_on_derived_data_records_the_injection_in_run_json(tmp_path):
    import torch

    from fairmedia.training.config import TrainConfig
    from fairmedia.training.loop import train_run

    torch.set_num_threads(1)
    small = write_synthetic(tmp_path / "base", "none", n=200, size=16, seed=0)  # cnn-small's minimum
    out = write_injected(small, _ud(0.25), tmp_path / "ud")
    train_run(TrainConfig(prepared=str(out), out=str(tmp_path / "run"), epochs=1, batch_size=64,
                          seed=0, threads=1), log=lambda _: None)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert info["dataset_manifest"]["injection"] == manifest["injection"]
    assert info["dataset_manifest"]["content_hash"] == manifest["content_hash"]
