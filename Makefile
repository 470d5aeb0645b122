# Two commands (README "Quick start"): `make demo` and `make test`. Both create .venv with pip
# when it is absent and install the project with its pinned dependencies (requirements.txt).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fairmedia-installed
CORES ?= 2

.PHONY: demo test lint clean-results

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakemake --lint

clean-results:
	rm -rf results/prepared results/runs results/leaderboard results/transfer results/logs
