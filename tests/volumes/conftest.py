"""Writers for small volumes in the real formats (NIfTI, DICOM series, MATLAB .mat, .npz), so the
3D adapters are tested on files laid out as the datasets ship them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fairmedia.data.cards import load_card


def write_nifti(path: Path, volume: np.ndarray, spacing: tuple[float, float, float]) -> None:
    """``volume`` is D×H×W (slices, posterior→anterior, right→left... as the reader returns it);
    stored RAS as NIfTI's x, y, z = W, H, D."""
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    affine = np.diag([spacing[2], spacing[1], spacing[0], 1.0])
    nib.save(nib.Nifti1Image(volume.transpose(2, 1, 0).astype(np.int16), affine), str(path))


def write_dicom_series(folder: Path, volume: np.ndarray, spacing: tuple[float, float, float],
                       intercept: float = 0.0) -> None:
    """One file per slice, named in *reverse* order of position, so the reader must sort by
    ImagePositionPatient rather than by file name."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = generate_uid()
    for k, plane in enumerate(volume):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.SeriesInstanceUID = series
        ds.Modality = "CT"
        ds.Rows, ds.Columns = plane.shape
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, k * spacing[0]]
        ds.InstanceNumber = k + 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, intercept
        ds.PixelData = (plane - intercept).astype(np.int16).tobytes()
        ds.save_as(folder / f"IM{len(volume) - k:04d}.dcm", enforce_file_format=True)


def write_mat(path: Path, images: np.ndarray, age: float | None) -> None:
    from scipy.io import savemat

    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"images": images}
    if age is not None:
        data["Age"] = np.array([[age]])
    savemat(str(path), data)


def phantom(shape: tuple[int, int, int], value: float, seed: int = 0) -> np.ndarray:
    """A bright cube on a dark background plus a gradient along D (so orientation errors show)."""
    rng = np.random.default_rng(seed)
    d, h, w = shape
    vol = np.zeros(shape, dtype=np.float32) + np.linspace(0, 20, d)[:, None, None]
    vol[d // 4: 3 * d // 4, h // 4: 3 * h // 4, w // 4: 3 * w // 4] += value
    return vol + rng.normal(0, 1, shape).astype(np.float32)


def small_card(name: str, **image: Any) -> dict[str, Any]:
    card = load_card(name)
    card["image"] = {**card.get("image", {}), **image, "max_bad_fraction": 0.5}
    return card


@pytest.fixture
def volume_writers() -> dict[str, Any]:
    return {"nifti": write_nifti, "dicom": write_dicom_series, "mat": write_mat,
            "phantom": phantom, "card": small_card}
