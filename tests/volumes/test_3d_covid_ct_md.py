"""COVID-CT-MD adapter on Clinical-data.csv + "<diagnosis> Cases/<Folder>/" DICOM series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.adapters import covid_ct_md
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError

CASES = [  # Folder, Diagnosis, Patient Age, Patient Gender, case dir
    ("P001", "COVID-19", "039Y", "M", "COVID-19 Cases"), ("P002", "COVID-19", "061Y", "F", "COVID-19 Cases"),
    ("P003", "COVID-19", "060Y", "M", "COVID-19 Cases"), ("cap001", "CAP", "072Y", "F", "Cap Cases"),
    ("cap002", "CAP", "045Y", "M", "Cap Cases"), ("normal001", "Normal", "028Y", "F", "Normal Cases"),
    ("normal002", "Normal", "066Y", "M", "Normal Cases"),
    ("normal003", "Normal", "006M", "F", "Normal Cases"),
]


def _dataset(tmp_path, writers, cases=CASES, drop_column=None):
    root = tmp_path / "COVID-CT-MD"
    table = pd.DataFrame([c[:4] for c in cases],
                         columns=["Folder", "Diagnosis", "Patient Age", "Patient Gender"])
    if drop_column:
        table = table.drop(columns=[drop_column])
    root.mkdir(parents=True)
    table.to_csv(root / "Clinical-data.csv", index=False)
    for k, case in enumerate(cases):
        # HU: air (-1000) around a soft-tissue cube (+400 above the window's top for k == 0).
        vol = np.full((6, 8, 8), -1000.0)
        vol[2:4, 2:6, 2:6] = 600.0 if k == 0 else 0.0
        writers["dicom"](root / case[4] / case[0], vol, (5.0, 2.0, 2.0), intercept=-1024)
    return root


def test_covid_labels_ages_groups_and_hu_window(tmp_path, volume_writers):
    root = _dataset(tmp_path, volume_writers)
    card = volume_writers["card"]("covid-ct-md", spacing=[5.0, 2.0, 2.0], size=[6, 8, 8])
    p = load_prepared(covid_ct_md.prepare(root, tmp_path / "out", card=card, workers=1))
    meta = p.metadata.set_index("sample_id")
    assert meta["y"].to_dict() == {"P001": 1, "P002": 1, "P003": 1, "cap001": 0, "cap002": 0,
                                   "normal001": 0, "normal002": 0, "normal003": 0}
    assert meta.loc["normal003", "age"] == pytest.approx(0.5)  # 006M: six months
    assert meta["age_group"].value_counts().to_dict() == {"0-60": 5, "61+": 3}  # 060Y stays 0-60
    assert meta["sex"].value_counts().to_dict() == {"F": 4, "M": 4}
    assert p.metadata["patient_id"].is_unique and set(p.metadata["split"]) <= {"train", "val", "test"}
    # Lung window -1000..400 HU → 0..255: air is 0, 0 HU is round(1000/1400*255), >400 clips.
    row0, row1 = p.images[meta.index.get_loc("P001")][0], p.images[meta.index.get_loc("P002")][0]
    assert row0[0].max() == 0 and row0[2, 3, 3] == 255
    assert row1[2, 3, 3] == round(1000 / 1400 * 255)


def test_covid_bad_age_missing_column_and_file(tmp_path, volume_writers):
    card = volume_writers["card"]("covid-ct-md", size=[4, 4, 4])
    root = _dataset(tmp_path, volume_writers, cases=CASES[:2] + [("P009", "COVID-19", "about 40", "F",
                                                                    "COVID-19 Cases")])
    with pytest.raises(UserError, match=r"row 3 of column 'Patient Age' holds 'about 40'"):
        covid_ct_md.prepare(root, tmp_path / "o1", card=card, metadata_only=True)
    (root / "Clinical-data.csv").unlink()
    with pytest.raises(UserError, match="expected file 'Clinical-data.csv'"):
        covid_ct_md.prepare(root, tmp_path / "o2", card=card, metadata_only=True)
    root2 = _dataset(tmp_path / "b", volume_writers, drop_column="Patient Gender")
    with pytest.raises(UserError, match=r"missing column\(s\) \['Patient Gender'\]"):
        covid_ct_md.prepare(root2, tmp_path / "o3", card=card, metadata_only=True)
