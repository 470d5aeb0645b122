"""`snakemake --lint` passes on the repository's workflow (demo config), and the rules' conda
environment pins the runtime dependencies at requirements.txt's versions."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ENV = REPO / "workflow" / "envs" / "fairmedia.yaml"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)", line.strip())
        if m:
            out[_norm(m.group(1))] = m.group(2)
    return out


def test_snakemake_lint_finds_nothing():
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    res = subprocess.run([snakemake, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=120)
    said = res.stdout + res.stderr
    # The finding titles ("Lints for rule prepare ...: * Specify a conda environment ...").
    findings = [ln.strip() for ln in said.splitlines() if ln.startswith("Lints for") or "    * " in ln]
    assert res.returncode == 0 and not findings, "\n".join(findings) or said[-3000:]


def test_conda_env_pins_pyproject_dependencies_at_requirements_versions():
    env = yaml.safe_load(ENV.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    ours = _pins(pip)
    required = _pins((REPO / "requirements.txt").read_text().splitlines())
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {_norm(re.split(r"[<>=\[; ]", d)[0]) for d in deps}
    assert len(ours) == len(pip), f"unpinned entries in {ENV}: {pip}"
    assert set(ours) == wanted, (set(ours) ^ wanted)
    assert {k: v for k, v in ours.items() if required.get(k) != v} == {}
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in env["dependencies"]


def test_every_rule_declares_the_env():
    rules = sorted((REPO / "workflow" / "rules").glob("*.smk"))
    for path in rules:
        text = path.read_text()
        n_rules = len(re.findall(r"^rule \w+:", text, flags=re.M))
        assert text.count('conda:\n        "../envs/fairmedia.yaml"') == n_rules, path
