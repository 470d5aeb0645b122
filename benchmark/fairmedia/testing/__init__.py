"""Library code for tests and perf checks (synthetic run trees); never used by a workflow rule."""
