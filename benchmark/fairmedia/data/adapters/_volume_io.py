"""Read one 3D volume from disk as float32 D×H×W plus its voxel spacing in mm (or ``None``).

Formats: NIfTI (``.nii``, ``.nii.gz``; nibabel), a DICOM series (a folder of slices; pydicom),
MATLAB ``.mat`` (scipy.io) and numpy ``.npz``/``.npy`` (``key`` names the array).

Axis convention: D runs along the slice (NIfTI: inferior–superior after reorienting to RAS; DICOM:
along the slice normal), and the last axis W is the patient's left–right, so the training-time
flip of the last axis mirrors the anatomy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def read_volume(path: Path, key: str | None = None) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """Dispatch on the path: a folder is a DICOM series, else by file suffix."""
    name = path.name.lower()
    if path.is_dir():
        return read_dicom_series(path)
    if name.endswith(NIFTI_SUFFIXES):
        return read_nifti(path)
    if name.endswith(".mat"):
        return read_mat(path, key or "images"), None
    if name.endswith((".npz", ".npy")):
        return read_numpy(path, key), None
    if name.endswith(".dcm"):
        return read_dicom_series(path.parent)
    raise ValueError(f"{path}: not a NIfTI file, DICOM folder, .mat or .npz")


def _as_3d(arr: np.ndarray, source: Path) -> np.ndarray:
    arr = np.squeeze(np.asarray(arr))
    if arr.ndim != 3:
        raise ValueError(f"{source}: expected a 3D volume, got shape {arr.shape}")
    return arr.astype(np.float32, copy=False)


def read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    import nibabel as nib

    img = nib.as_closest_canonical(nib.load(str(path)))  # RAS: x=left→right, y=post→ant, z=inf→sup
    arr = _as_3d(img.get_fdata(dtype=np.float32), path)
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    # (x, y, z) → (z, y, x): slices first, left–right last.
    return np.ascontiguousarray(arr.transpose(2, 1, 0)), (zooms[2], zooms[1], zooms[0])


def read_dicom_series(folder: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    """Stack a folder's slices in order along the slice normal; Hounsfield/real units via
    RescaleSlope/Intercept. Non-DICOM files (DICOMDIR, notes) are ignored; a folder holding
    several series keeps the series with the most slices."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    slices = []
    for f in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            ds = pydicom.dcmread(f, force=f.suffix.lower() != ".dcm")
        except (InvalidDicomError, OSError, ValueError, AttributeError):
            continue
        if "PixelData" in ds:
            slices.append(ds)
    if not slices:
        raise ValueError(f"{folder}: no DICOM slices with pixel data")
    series: dict[str, list] = {}
    for ds in slices:
        series.setdefault(str(getattr(ds, "SeriesInstanceUID", "")), []).append(ds)
    slices = max(series.values(), key=len)
    if len(slices) < 2:
        raise ValueError(f"{folder}: a DICOM series of one slice is not a volume")

    def position(ds) -> float:
        if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds:
            o = np.asarray(ds.ImageOrientationPatient, dtype=float)
            normal = np.cross(o[:3], o[3:])
            return float(np.dot(normal, np.asarray(ds.ImagePositionPatient, dtype=float)))
        return float(getattr(ds, "InstanceNumber", 0))

    slices.sort(key=position)
    arr = np.stack([
        ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1) or 1)
        + float(getattr(ds, "RescaleIntercept", 0) or 0)
        for ds in slices
    ])
    gaps = np.abs(np.diff([position(ds) for ds in slices]))
    gaps = gaps[gaps > 0]
    thickness = float(np.median(gaps)) if len(gaps) else float(getattr(slices[0], "SliceThickness", 1) or 1)
    row, col = (float(v) for v in getattr(slices[0], "PixelSpacing", (1.0, 1.0)))
    return arr, (thickness, row, col)


def read_mat(path: Path, key: str) -> np.ndarray:
    """A MATLAB v5 file's ``key`` array. v7.3 files are HDF5, which scipy cannot read."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), variable_names=[key])
    except NotImplementedError:
        raise ValueError(f"{path}: a MATLAB v7.3 (HDF5) file; re-save it with save -v7") from None
    if key not in data:
        raise ValueError(f"{path}: no variable {key!r}")
    return _as_3d(data[key], path)


def read_mat_scalar(path: Path, key: str) -> float:
    """One scalar (e.g. ``Age``) without decompressing the file's image arrays."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), variable_names=[key])
    except NotImplementedError:
        raise ValueError(f"{path}: a MATLAB v7.3 (HDF5) file; re-save it with save -v7") from None
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable .mat file ({err})") from None
    if key not in data or np.asarray(data[key]).size != 1:
        raise ValueError(f"{path}: no scalar variable {key!r}")
    return float(np.asarray(data[key]).item())


def read_numpy(path: Path, key: str | None) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return _as_3d(np.load(path, allow_pickle=False), path)
    with np.load(path, allow_pickle=False) as data:
        if key not in data:
            raise ValueError(f"{path}: no array {key!r} (arrays: {list(data.keys())})")
        return _as_3d(data[key], path)
