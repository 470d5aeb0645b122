"""The source-read catalogs (used when planning, without importing torch) agree with the
imported registries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fairmedia.methods.catalog import method_catalog
from fairmedia.methods.registry import available_methods
from fairmedia.models.catalog import arch_names
from fairmedia.models.registry import available_archs

REPO = Path(__file__).resolve().parents[1]


def test_method_catalog_matches_the_registry():
    catalog, registry = method_catalog(), available_methods()
    assert set(catalog) == set(registry)
    for name, cls in registry.items():
        facts = catalog[name]
        assert facts.category == cls.category, name
        assert facts.uses_attribute == bool(cls.uses_attribute), name
        assert facts.has_hparams == bool(cls.hparams), name
        declared = tuple((k, hp.default, hp.choices) for k, hp in cls.hparams.items())
        assert facts.hparams == declared, name


def test_arch_catalog_matches_the_registry():
    assert arch_names() == sorted(available_archs())


def test_planning_imports_no_torch():
    """The config checks included: planning a demo config imports neither torch nor sklearn."""
    code = ("import sys, yaml, fairmedia.grid, fairmedia.data.compat; "
            "fairmedia.grid.check_config(yaml.safe_load(open('config/config.yaml'))); "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "False False"


def test_provenance_records_this_clones_commit_without_importing_torch():
    code = ("import sys, fairmedia.provenance as p, fairmedia.report.publish; "
            "print(p.git_commit()['commit'], 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert out.stdout.split() == [head, "False"]
