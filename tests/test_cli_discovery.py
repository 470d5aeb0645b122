"""Discoverability: `fairmedia --help` lists the subcommands, and the registries print as tables."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fairmedia.cli import main
from fairmedia.data.cards import available_datasets
from fairmedia.methods.registry import available_methods
from fairmedia.models.registry import available_archs


def test_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "fairmedia.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in ("train", "evaluate", "evaluate-run", "leaderboard", "synth", "prepare", "datasets",
                 "models", "methods", "perf", "rank", "import-medfair", "reproduce", "postprocess"):
        assert f"    {name} " in out or f"    {name}\n" in out, name


@pytest.mark.parametrize("command, names", [
    ("methods", lambda: available_methods()),
    ("models", lambda: available_archs()),
    ("datasets", lambda: available_datasets()),
])
def test_registry_tables_list_every_entry(command, names, capsys):
    assert main([command]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "name"
    first_column = {line.split()[0] for line in lines[2:]}
    assert first_column == set(names())


def test_methods_table_shows_category_and_attribute_use(capsys):
    main(["methods"])
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["erm"][1:4] == ["in", "baseline", "no"]
    assert rows["resample"][1:4] == ["pre", "re-distribution", "yes"]
    assert rows["group-threshold"][1] == "post"
