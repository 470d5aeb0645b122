"""The registry, the docs table and the workflow's config schema agree; every method declares
what the contract asks for."""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
from pathlib import Path

import pytest
import yaml

import fairmedia.methods as pkg
from fairmedia.commands import methods as methods_command
from fairmedia.methods import registry
from fairmedia.methods.base import CATEGORIES, FAMILIES, Method
from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import available_methods

REPO = Path(__file__).resolve().parents[2]
ISSUE_METHODS = {
    "resample", "reweight", "harmonize", "erm", "groupdro", "domainind", "laftr", "cfair",
    "adversarial", "lnl", "end", "odr", "fairadabn", "fscl", "mmd", "fair-penalty", "sam", "swad",
    "swa", "group-threshold", "eqodds-postprocess", "reject-option", "group-calibrate", "fairprune",
}


def test_one_method_per_module_with_a_unique_name_matching_the_file():
    seen = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in registry._INFRA or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"fairmedia.methods.{info.name}")
        classes = [c for c in vars(module).values() if isinstance(c, type) and c.__module__ ==
                   module.__name__ and issubclass(c, (Method, PostProcessor)) and c.name]
        assert len(classes) == 1, info.name
        name = classes[0].name
        assert name.replace("-", "_") == info.name and name not in seen
        seen[name] = info.name
    assert set(seen) == set(available_methods())


def test_the_issue_s_methods_are_all_registered():
    assert ISSUE_METHODS <= set(available_methods())


@pytest.mark.parametrize("name", sorted(available_methods()))
def test_method_declares_the_contract(name):
    cls = available_methods()[name]
    assert cls.category in CATEGORIES and cls.family in FAMILIES
    assert issubclass(cls, PostProcessor) == (cls.category == "post")
    assert cls.citation and cls.description
    assert cls.supports_3d or cls.unsupported_reason
    for key, hp in cls.hparams.items():
        if hp.choices is not None:
            assert hp.default in hp.choices, key
        elif hp.low is not None and not (isinstance(hp.default, float) and hp.default < 0):
            assert hp.low <= hp.default <= hp.high, key  # (negative defaults mean "automatic")


def test_docs_table_is_the_registry_s():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        methods_command.run(type("Args", (), {"markdown": True})())
    docs = (REPO / "docs" / "methods.md").read_text()
    assert out.getvalue().strip() in docs, "regenerate docs/methods.md with fairmedia methods --markdown"


def test_config_schema_lists_every_method():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    enum = schema["properties"]["methods"]["items"]["enum"]
    assert sorted(enum) == sorted(available_methods())
