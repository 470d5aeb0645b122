"""Packaging: the declared dependencies cover every third-party import, the CUDA-only pins carry a
platform marker, and a wheel installed into a fresh virtual environment is a complete tool (dataset
cards and MEDFAIR's tables included)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "benchmark" / "fairmedia"
CUDA_ONLY_PREFIXES = ("nvidia-", "cuda-", "triton")


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name → files of the package that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top != "fairmedia" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def declared_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def pinned_requirements() -> list[Requirement]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(ln) for ln in (ln.strip() for ln in lines) if ln and not ln.startswith("#")]


def test_every_third_party_import_is_a_declared_dependency():
    modules = metadata.packages_distributions()
    declared = declared_dependencies()
    missing = []
    for module, files in sorted(third_party_imports().items()):
        dists = {canonicalize_name(d) for d in modules.get(module, [])}
        assert dists, f"{module} (imported in {sorted(files)}) is not installed here"
        if not dists & declared:
            missing.append(f"{module} ({'/'.join(sorted(dists))}; {sorted(files)[0]} ...)")
    assert not missing, f"imported but not in pyproject.toml dependencies: {missing}"


def test_every_dependency_is_pinned():
    pinned = {canonicalize_name(r.name) for r in pinned_requirements()}
    assert declared_dependencies() <= pinned, declared_dependencies() - pinned


@pytest.mark.parametrize("platform, expected", [
    ({"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"}, True),
    ({"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"}, False),
    ({"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"}, False),
    ({"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64"}, False),
    ({"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"}, False),
])
def test_cuda_pins_apply_only_where_they_were_frozen(platform, expected):
    """The freeze was made on Linux x86_64 with PyPI's CUDA torch; elsewhere torch's own metadata
    decides which CUDA wheels (if any) it needs, so the pins must not apply there."""
    env = {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.7",
           **platform}
    for req in pinned_requirements():
        cuda_only = req.name.lower().startswith(CUDA_ONLY_PREFIXES)
        applies = req.marker is None or req.marker.evaluate(env)
        assert applies == (expected if cuda_only else True), f"{req} on {platform}"


def test_top_level_datasets_is_the_packaged_cards_folder():
    from fairmedia.data.cards import CARDS_DIR, available_datasets

    link = REPO / "datasets"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert link.resolve() == CARDS_DIR.resolve()
    assert available_datasets() == sorted(p.stem for p in link.glob("*.yaml"))


# --- a wheel in a fresh virtual environment -------------------------------------------------

SOURCE = (REPO / "benchmark").resolve()


def _dependency_site_dirs() -> list[str]:
    """The site-packages folders this interpreter takes its packages from."""
    dirs = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    out = []
    for d in dirs:
        # The project's .venv may sit inside the clone (make test puts it there): only the
        # source folder must stay out of reach.
        if os.path.isdir(d) and d not in out and not Path(d).resolve().is_relative_to(SOURCE):
            out.append(d)
    return out


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy of what the wheel is made of, so no build/ or egg-info lands in the repo."""
    src = tmp / "src"
    shutil.copytree(REPO / "benchmark", src / "benchmark",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    out = tmp / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-cache-dir", "--quiet", "-w", str(out), str(src)], check=True)
    (wheel,) = out.glob("fairmedia_bench-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A venv holding only the wheel; its dependencies come from this interpreter's site-packages
    through a .pth file. A .pth line that is a path adds that folder only (the .pth files inside it,
    such as an editable install of this repository, are not processed)."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_dependencies_from_test_env.pth").write_text("\n".join(_dependency_site_dirs()) + "\n")
    # pip itself comes from those folders too; it installs into the venv's prefix.
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                   check=True, env=_clean_env())
    return venv


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONNOUSERSITE": "1"}


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_is_a_complete_tool(tmp_path):
    wheel = _build_wheel(tmp_path)
    cards = sorted(p.name for p in (REPO / "datasets").glob("*.yaml"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    shipped = sorted(Path(n).name for n in names if n.startswith("fairmedia/data/cards/"))
    assert shipped == cards
    assert "fairmedia/report/data/medfair_iclr2023.csv" in names

    venv = _fresh_venv(tmp_path, wheel)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    work = tmp_path / "work"
    work.mkdir()

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(bindir / args[0]), *args[1:]], cwd=work, env=_clean_env(),
                              capture_output=True, text=True, timeout=600)
        if check:
            assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        return proc

    where = run("python", "-c", "import fairmedia; print(fairmedia.__file__)").stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    assert not Path(where).resolve().is_relative_to(REPO.resolve())

    listed = [ln.split()[0] for ln in run("fairmedia", "datasets").stdout.splitlines()[2:] if ln.strip()]
    assert listed == [Path(c).stem for c in cards]

    from fairmedia.methods.registry import available_methods

    methods = [ln.split()[0] for ln in run("fairmedia", "methods").stdout.splitlines()[2:] if ln.strip()]
    assert methods == list(available_methods())

    run("fairmedia", "synth", "--preset", "mixed", "--n", "200", "--size", "16", "--seed", "0",
        "--out", "prepared")
    run("fairmedia", "train", "--prepared", "prepared", "--out", "run", "--epochs", "1",
        "--threads", "1")
    # The auditor's path: the run's predictions (one selected model) joined with the attributes.
    import pandas as pd

    pred = pd.read_parquet(work / "run" / "predictions.parquet")
    meta = pd.read_parquet(work / "prepared" / "metadata.parquet")[["sample_id", "sex"]]
    pred[pred.selection == "overall"].merge(meta, on="sample_id").to_csv(work / "pred.csv", index=False)
    run("fairmedia", "evaluate", "pred.csv", "--attr", "sex", "--out", "metrics.json")
    assert set(json.loads((work / "metrics.json").read_text())["attributes"]) == {"sex"}
    # The workflow's path.
    run("fairmedia", "evaluate-run", "run", "--attribute", "sex", "--selection", "overall",
        "--out-dir", "eval")
    assert (work / "eval" / "metrics.json").is_file() and (work / "eval" / "scored.parquet").is_file()

    # MEDFAIR's published tables are package data, the default input of import-medfair.
    out = run("fairmedia", "import-medfair", "--imaging-only", "--out", "medfair.csv").stdout
    assert "16 dataset-attribute pairs" in out, out

    # reproduce runs the repository's Snakefile: from a wheel it says it needs a clone.
    proc = run("fairmedia", "reproduce", str(REPO / "results" / "published" / "synthetic"),
               "--cell", "synth-representation/sex/cnn-small/groupdro", check=False)
    assert proc.returncode == 2 and "needs a clone of the repository" in proc.stderr, proc.stderr
