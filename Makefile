# Two commands (README "Quick start"): `make demo` and `make test`. Both create .venv with pip
# when it is absent and install the project with its pinned dependencies (requirements.txt).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fairmedia-installed
CORES ?= 2

.PHONY: demo test lint docs mutation clean-results

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The workflow prints the leaderboard when it finishes a run; when everything is already up to
# date it runs nothing and prints nothing, so then the tables are shown from disk.
demo: $(STAMP)
	set -o pipefail; $(VENV)/bin/snakemake --cores $(CORES) 2>&1 | tee .snakemake-demo.log
	@if grep -q "Nothing to be done" .snakemake-demo.log; then \
		for f in results/leaderboard/*/leaderboard.md; do echo; echo "$$f:"; echo; cat "$$f"; done; fi
	@rm -f .snakemake-demo.log

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

# Regenerate the doc sections that are command output (docs/methods.md's table); a test fails
# when they are stale.
docs: $(STAMP)
	$(PY) -m fairmedia.report.generated_docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakemake --lint

clean-results:
	rm -rf results/prepared results/runs results/leaderboard results/transfer results/logs

# Mutation check: each method's tests against the method with its mechanism removed
# (tests/mutation/); writes docs/mutation.md. Takes several minutes; not part of `make test`.
mutation: $(STAMP)
	$(PY) tests/mutation/run_mutations.py
