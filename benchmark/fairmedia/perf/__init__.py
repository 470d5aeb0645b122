"""Performance checks run by ``fairmedia perf NAME``: one module per check."""
