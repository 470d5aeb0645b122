"""Adding a method, an architecture or a dataset adapter is one new file: in a temporary copy of
the repository, a copied plug-in file (and, for a dataset, its card) is listed by the CLI,
accepted by ``snakemake -n`` for a config naming it, and trains / prepares — no other file edited.
The planning catalogs (source-read) and the runtime registries follow one discovery rule, so
they list the same names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fairmedia import discovery
from fairmedia.data.adapters import available_adapters
from fairmedia.methods.catalog import method_catalog
from fairmedia.methods.registry import available_methods
from fairmedia.models.catalog import arch_names
from fairmedia.models.registry import available_archs

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PKG = "benchmark/fairmedia"


def test_catalogs_and_registries_list_the_same_names():
    assert sorted(method_catalog()) == sorted(available_methods())
    assert arch_names() == sorted(available_archs())
    adapters = set(available_adapters())
    assert adapters == set(discovery.plugin_names("fairmedia.data.adapters"))
    cards = [yaml.safe_load(p.read_text()) for p in sorted((REPO / "datasets").glob("*.yaml"))]
    named = {c.get("adapter", c["name"]).replace("-", "_") for c in cards} - {"synthetic", "aggregate"}
    assert named <= adapters, f"cards name adapters that are not plug-ins: {named - adapters}"


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the workflow and the package need, with one new plug-in of each kind."""
    copy = tmp_path_factory.mktemp("plugins") / "repo"
    copy.mkdir()
    for name in ("Snakefile", "benchmark", "workflow", "profiles", "config", "datasets"):
        src = REPO / name
        if src.is_symlink():  # datasets/ links into the package: keep it a link into the copy
            (copy / name).symlink_to(os.readlink(src))
        elif src.is_dir():
            shutil.copytree(src, copy / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, copy / name)
    pkg = copy / PKG
    (pkg / "methods/erm_copy.py").write_text((pkg / "methods/erm.py").read_text()
                                             .replace('name = "erm"', 'name = "erm-copy"')
                                             .replace("class ERM(", "class ERMCopy("))
    (pkg / "models/tiny_copy.py").write_text((pkg / "models/small_cnn.py").read_text()
                                             .replace('"cnn-small"', '"cnn-copy"')
                                             .replace("def build_small_cnn", "def build_copy"))
    (pkg / "data/adapters/ham_copy.py").write_text((pkg / "data/adapters/ham10000.py").read_text())
    datasets = (copy / "datasets").resolve()
    card = (datasets / "ham10000.yaml").read_text().replace("name: ham10000", "name: ham-copy")
    card = card.replace("adapter: ham10000", "adapter: ham-copy")
    (datasets / "ham-copy.yaml").write_text(card if "adapter: ham-copy" in card
                                            else card + "\nadapter: ham-copy\n")
    return copy


def _run(copy: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy / "benchmark"), "OMP_NUM_THREADS": "1"}
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, env=env,
                          cwd=cwd or copy)


def _fairmedia(copy: Path, *args: str) -> subprocess.CompletedProcess:
    return _run(copy, sys.executable, "-m", "fairmedia.cli", *args)


def test_the_copy_imports_its_own_package(repo_copy):
    res = _run(repo_copy, sys.executable, "-c", "import fairmedia; print(fairmedia.__file__)")
    assert res.stdout.strip() == str(repo_copy / PKG / "__init__.py")


def test_new_files_are_listed_by_the_cli(repo_copy):
    assert "erm-copy" in _fairmedia(repo_copy, "methods").stdout
    assert "cnn-copy" in _fairmedia(repo_copy, "models").stdout
    assert "ham-copy" in _fairmedia(repo_copy, "datasets").stdout


def test_a_config_naming_them_plans(repo_copy, tmp_path):
    root = tmp_path / "ham"
    root.mkdir()
    (root / "HAM10000_metadata.csv").write_text("lesion_id,image_id,dx,dx_type,age,sex,localization\n")
    config = {"datasets": {"synth": {"card": "synthetic", "preset": "mixed",
                                     "options": {"n": 200, "size": 16}, "attributes": ["sex"]},
                           "ham": {"card": "ham-copy", "root": str(root), "attributes": ["sex"]}},
              "archs": ["cnn-copy"], "methods": ["erm", "erm-copy"], "seeds": [0]}
    (repo_copy / "plugins.yaml").write_text(yaml.safe_dump(config))
    res = _run(repo_copy, SNAKEMAKE, "-n", "--configfile", "plugins.yaml")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    plan = res.stdout + res.stderr
    assert "results/runs/synth/cnn-copy/erm-copy/any/seed0/run.json" in plan
    assert "results/prepared/ham/manifest.json" in plan


def test_the_new_method_and_architecture_train_two_steps(repo_copy, tmp_path):
    prepared = tmp_path / "prepared"
    res = _fairmedia(repo_copy, "synth", "--out", str(prepared), "--n", "200", "--size", "16")
    assert res.returncode == 0, res.stderr[-3000:]
    res = _fairmedia(repo_copy, "train", "--prepared", str(prepared), "--out", str(tmp_path / "run"),
                     "--arch", "cnn-copy", "--method", "erm-copy", "--epochs", "1",
                     "--max-steps-per-epoch", "2", "--batch-size", "16")
    assert res.returncode == 0, res.stderr[-3000:]
    preds = pd.read_parquet(tmp_path / "run" / "predictions.parquet")
    assert len(preds) > 0 and preds["score"].between(0, 1).all()


def test_the_new_adapter_prepares_its_files(repo_copy, tmp_path):
    root = tmp_path / "ham"
    root.mkdir()
    table = pd.DataFrame({"lesion_id": [f"HAM_{i // 2:07d}" for i in range(40)],
                          "image_id": [f"ISIC_{i:07d}" for i in range(40)],
                          "dx": ["mel", "nv", "bcc", "bkl"] * 10, "dx_type": "histo",
                          "age": [65.0, 30.0, 80.0, 45.0] * 10, "sex": ["male", "female"] * 20,
                          "localization": "back"})
    table.to_csv(root / "HAM10000_metadata.csv", index=False)
    res = _fairmedia(repo_copy, "prepare", "ham-copy", "--root", str(root), "--out",
                     str(tmp_path / "out"), "--metadata-only")
    assert res.returncode == 0, res.stderr[-3000:]
    meta = pd.read_parquet(tmp_path / "out" / "metadata.parquet")
    assert len(meta) == 40
    assert meta["y"].sum() == table["dx"].isin(["mel", "bcc", "akiec"]).sum()  # the card's rule
