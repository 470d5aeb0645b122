"""Subcommands of ``fairmedia``: one module each, discovered by ``benchmark.cli``."""
