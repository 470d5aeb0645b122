"""``fairmedia evaluate-seg`` end to end on PNG and NIfTI masks the test writes, and its errors."""

import json
import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance
from PIL import Image

from fairmedia.cli import main

torch.set_num_threads(1)


def _masks(n=9, shape=(20, 20)):
    """Pairs whose prediction is shifted by 0, 1, 2 pixels in sites a, b, c."""
    out = []
    for i in range(n):
        ref = np.zeros(shape, np.uint8)
        ref[5:9 + i % 4, 6:14] = 1
        out.append((f"case{i}", np.roll(ref, i % 3, axis=0), ref, "abc"[i % 3]))
    return out


def _write(tmp_path, fmt, cases, spacing=(1.0, 1.0)):
    pred_dir, ref_dir = tmp_path / "pred", tmp_path / "ref"
    pred_dir.mkdir(exist_ok=True)
    ref_dir.mkdir(exist_ok=True)
    for case, pred, ref, _ in cases:
        for folder, mask in ((pred_dir, pred), (ref_dir, ref)):
            if fmt == "png":
                Image.fromarray(mask).save(folder / f"{case}.png")
            else:
                nib.save(nib.Nifti1Image(mask, np.diag([*spacing, 1.0, 1.0])),
                         folder / f"{case}.nii.gz")
    meta = pd.DataFrame({"case_id": [c[0] for c in cases],
                         "patient_id": [f"p{k // 2}" for k in range(len(cases))],
                         "site": [c[3] for c in cases]})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    return pred_dir, ref_dir, tmp_path / "meta.csv"


def _args(pred_dir, ref_dir, meta, *extra):
    return ["evaluate-seg", str(pred_dir), "--reference", str(ref_dir), "--metadata", str(meta),
            "--attr", "site", *extra]


@pytest.mark.parametrize("fmt,spacing", [("png", (1.0, 1.0)), ("nifti", (0.5, 2.0))])
def test_folder_report_matches_monai(tmp_path, capsys, fmt, spacing):
    cases = _masks()
    pred_dir, ref_dir, meta = _write(tmp_path, fmt, cases, spacing)
    out, md, fig = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "fig"
    assert main(_args(pred_dir, ref_dir, meta, "--bootstrap", "20", "--out", str(out),
                      "--markdown", str(md), "--figures", str(fig))) == 0
    report = json.loads(out.read_text())
    lesion = report["attributes"]["site"]["groups"]["lesion"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in ("dice", "hd95"):
            per_case = []
            for _, pred, ref, _ in cases:
                p, r = (torch.as_tensor(m.astype(bool))[None, None] for m in (pred, ref))
                per_case.append(float(compute_dice(p, r, include_background=True))
                                if metric == "dice" else
                                float(compute_hausdorff_distance(
                                    p, r, include_background=True, percentile=95,
                                    spacing=list(spacing))))
            expected = pd.Series(per_case).groupby([c[3] for c in cases]).mean()
            got = {g["group"]: g["value"] for g in lesion[metric]["groups"]}
            assert got == pytest.approx(expected.to_dict())
    assert lesion["dice"]["disparities"]["worst"] == "c"
    assert report["distance_units"] == ("pixels" if fmt == "png" else "header spacing")
    assert "| c | 3 |" in md.read_text()
    assert {p.rsplit(".", 1)[1] for p in report["figures"]} == {"png", "pdf"}
    assert "Segmentation fairness report" in capsys.readouterr().out


def _error(tmp_path, capsys, argv):
    assert main(argv) == 2
    return capsys.readouterr().err


def test_missing_mask_is_named(tmp_path, capsys):
    pred_dir, ref_dir, meta = _write(tmp_path, "png", _masks())
    (pred_dir / "case4.png").unlink()
    assert "no prediction mask for case(s) case4" in _error(tmp_path, capsys,
                                                           _args(pred_dir, ref_dir, meta))


def test_shape_mismatch_names_case_and_shapes(tmp_path, capsys):
    pred_dir, ref_dir, meta = _write(tmp_path, "png", _masks())
    Image.fromarray(np.zeros((20, 21), np.uint8)).save(pred_dir / "case2.png")
    err = _error(tmp_path, capsys, _args(pred_dir, ref_dir, meta))
    assert "case case2: prediction shape (20, 21) differs from the reference shape (20, 20)" in err


def test_non_integer_labels_are_refused(tmp_path, capsys):
    pred_dir, ref_dir, meta = _write(tmp_path, "nifti", _masks())
    soft = np.full((20, 20), 0.4, np.float32)
    nib.save(nib.Nifti1Image(soft, np.eye(4)), pred_dir / "case1.nii.gz")
    err = _error(tmp_path, capsys, _args(pred_dir, ref_dir, meta))
    assert "case case1" in err and "non-integer label" in err


def test_undeclared_labels_suggest_a_class(tmp_path, capsys):
    pred_dir, ref_dir, meta = _write(tmp_path, "png", _masks())
    Image.fromarray((np.eye(20) * 255).astype(np.uint8)).save(pred_dir / "case0.png")
    err = _error(tmp_path, capsys, _args(pred_dir, ref_dir, meta))
    assert "case case0: prediction labels [255]" in err and "--class lesion=255" in err


def test_missing_column_is_named(tmp_path, capsys):
    pred_dir, ref_dir, meta = _write(tmp_path, "png", _masks())
    err = _error(tmp_path, capsys, _args(pred_dir, ref_dir, meta, "--attr", "sex"))
    assert "missing column(s) sex" in err and "case_id, patient_id, site" in err


def test_classification_evaluate_points_a_folder_to_evaluate_seg(tmp_path, capsys):
    pred_dir, _, _ = _write(tmp_path, "png", _masks(3))
    err = _error(tmp_path, capsys, ["evaluate", str(pred_dir), "--attr", "site"])
    assert "evaluate-seg" in err


def test_perfect_masks_without_patient_column_give_valid_json(tmp_path, capsys):
    # every HD95 is 0, so its ratio 0/0 is undefined: reported as null, never NaN in the JSON
    cases = [(c, ref, ref, site) for c, _, ref, site in _masks(6)]
    pred_dir, ref_dir, meta = _write(tmp_path, "png", cases)
    pd.read_csv(meta).drop(columns="patient_id").to_csv(meta, index=False)
    out = tmp_path / "r.json"
    assert main(_args(pred_dir, ref_dir, meta, "--bootstrap", "10", "--out", str(out))) == 0
    report = json.loads(out.read_text())
    hd95 = report["attributes"]["site"]["groups"]["lesion"]["hd95"]["disparities"]
    assert hd95["ratio"] == {"value": None, "ci": None}
    assert hd95["gap"]["value"] == 0.0
    assert report["bootstrap_unit"].startswith("case")
