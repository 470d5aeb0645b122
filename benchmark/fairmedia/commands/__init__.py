"""Subcommands of ``fairmedia``: one module each, discovered by ``fairmedia.cli``."""
