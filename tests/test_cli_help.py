"""`fairmedia --help` is fast (imports no command module, so no torch), lists every command found
in fairmedia/commands/ (a new module appears without editing cli.py), and every command's
--help states the defaults of its options."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import textwrap

import pytest

import fairmedia.commands
from fairmedia import cli

PROBE = """
import sys
from fairmedia.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
print("torch" in sys.modules, "fairmedia.commands.train" in sys.modules)
"""


def test_top_level_help_imports_neither_torch_nor_the_commands():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True)
    assert "usage: fairmedia" in result.stdout
    assert result.stdout.splitlines()[-1] == "False False"


def test_listing_read_from_source_matches_the_imported_modules():
    listing = cli._listing()
    assert len(listing) >= 20
    for name, entry in listing.items():
        mod = importlib.import_module(entry.module)
        assert (mod.NAME, mod.HELP) == (name, entry.help)


def test_a_new_command_module_is_discovered(tmp_path, monkeypatch, capsys):
    (tmp_path / "hello_world.py").write_text(textwrap.dedent('''
        NAME = "hello-world"
        HELP = "say hello"
        def add_arguments(p):
            p.add_argument("--who", default="you")
        def run(args):
            print(f"hello {args.who}")
            return 0
    '''))
    monkeypatch.setattr(fairmedia.commands, "__path__", [*fairmedia.commands.__path__,
                                                         str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "hello-world" in capsys.readouterr().out
    assert cli.main(["hello-world", "--who", "me"]) == 0
    assert capsys.readouterr().out == "hello me\n"
    sys.modules.pop("fairmedia.commands.hello_world", None)


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    sub = next(a for a in cli.build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices.items())


def _shows_a_default(action: argparse.Action) -> bool:
    return (action.option_strings and action.nargs != 0 and action.default is not None
            and action.default is not argparse.SUPPRESS)


def test_every_option_with_a_default_shows_it_in_help():
    checked = 0
    for name, parser in _commands():
        for action in parser._actions:
            if not _shows_a_default(action):
                continue
            formatter = parser._get_formatter()
            formatter.add_argument(action)
            rendered = formatter.format_help()  # this option's entry as --help prints it
            assert "default" in rendered.lower(), f"{name} {action.option_strings[0]}: {rendered}"
            checked += 1
    assert checked > 50


def test_leaderboard_help_states_the_bootstrap_default(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        cli.main(["leaderboard", "--help"])
    out = capsys.readouterr().out
    assert "(default: 1000)" in out and "(default: holm)" in out
    assert "(default: auc auc_worst auc_gap" in out  # a list as it is typed
    assert "(default: None)" not in out and "(default: False)" not in out
