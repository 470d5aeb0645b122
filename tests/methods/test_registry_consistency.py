"""The registry, the docs table and the workflow's config schema agree; every method declares
what the contract asks for."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from fairmedia.discovery import plugin_names
from fairmedia.methods import registry
from fairmedia.methods.base import CATEGORIES, FAMILIES
from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import available_methods
from fairmedia.report import generated_docs

REPO = Path(__file__).resolve().parents[2]
ISSUE_METHODS = {
    "resample", "reweight", "harmonize", "erm", "groupdro", "domainind", "laftr", "cfair",
    "adversarial", "lnl", "end", "odr", "fairadabn", "fscl", "mmd", "fair-penalty", "sam", "swad",
    "swa", "group-threshold", "eqodds-postprocess", "reject-option", "group-calibrate", "fairprune",
}


def test_at_most_one_method_per_module_with_a_unique_name_matching_the_file():
    """The discovery rule's modules either register nothing (infrastructure) or one method
    named like the file; together they are the registry."""
    seen = {}
    for name in plugin_names("fairmedia.methods"):
        module = importlib.import_module(f"fairmedia.methods.{name}")
        classes = [c for c in registry.METHODS.values() if c.__module__ == module.__name__]
        assert len(classes) <= 1, name
        if classes:
            method = classes[0].name
            assert method.replace("-", "_") == name and method not in seen
            seen[method] = name
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


@pytest.mark.parametrize("name", sorted(generated_docs.SECTIONS))
def test_generated_docs_are_not_stale(name):
    path = REPO / "docs" / name
    assert generated_docs.regenerate(path, generated_docs.SECTIONS[name]) == path.read_text(), \
        f"docs/{name} is stale: run `make docs`"


def test_config_schema_lists_no_method_names():
    """Names are the registry's to check (with the valid ones in the message): a method file
    added to the package is usable without editing the schema."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert "enum" not in schema["properties"]["methods"]["items"]
