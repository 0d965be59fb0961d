# Two commands do all the set-up on a machine with only Python 3.11+ and pip:
#   make demo   -- the GWS EmailTransfer page's example, told step by step by the model
#   make test   -- ruff, lint-imports, mypy --strict, pytest (with the property tests)
# The first command creates .venv; `make demo` installs only the package and its runtime
# dependencies, `make test` the development tools as well. Every install is pinned by
# requirements-dev.lock, the build backend (hatchling) included.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP  := $(VENV)/.installed-stamp
# $(call pip_install,<venv>/bin) <what>: pip install, pinned by the lock; through the
# environment, the lock also pins the isolated build environment (hatchling).
pip_install = PIP_CONSTRAINT="$(CURDIR)/requirements-dev.lock" $(1)/python -m pip install \
	--quiet --disable-pip-version-check -c requirements-dev.lock

.PHONY: demo test lint typecheck pytest test-3.13 pytest-3.13 clean lock docs diagrams \
	fuzz fuzz-deep mutation bench bench-server bench-server-postgres bench-sim sim-figures screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python --version

# The package and its runtime dependencies: all that `make demo` needs.
$(RUNTIME_STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(call pip_install,$(BIN)) -e .
	touch $@

# The development extra (test, lint and type-check tools, the benchmarks' peers).
$(STAMP): $(RUNTIME_STAMP)
	$(call pip_install,$(BIN)) -e '.[dev]'
	touch $@

demo: $(RUNTIME_STAMP)
	$(BIN)/email-fsm demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered

# The test suite on Python 3.13 as well (pyproject.toml claims 3.11 to 3.13), in its own
# .venv-3.13; ruff and mypy run once, in `make test`. PYTHON_3_13 is the first of
# python3.13 on PATH and pyenv's 3.13 that runs; set it to use another.
find_python = $(firstword $(shell for p in python$(1) \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(1).*/bin/python$(1)); do \
	"$$p" -c "" 2>/dev/null && command -v "$$p" && break; done))
PYTHON_3_13 ?= $(call find_python,3.13)
VENV_3_13   := .venv-3.13
STAMP_3_13  := $(VENV_3_13)/.installed-stamp

$(STAMP_3_13): pyproject.toml requirements-dev.lock
	@test -n "$(PYTHON_3_13)" || { echo "no Python 3.13 found: set PYTHON_3_13"; exit 1; }
	$(PYTHON_3_13) -m venv $(VENV_3_13)
	$(VENV_3_13)/bin/python --version
	$(call pip_install,$(VENV_3_13)/bin) -e '.[dev]'
	touch $@

test-3.13 pytest-3.13: $(STAMP_3_13)
	$(VENV_3_13)/bin/pytest -p no:cacheprovider

# The documentation site (docs/, mkdocs.yml), built strictly into site/.
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements-dev.lock -e '.[dev,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

# Regenerate the diagrams and tables committed under docs/generated and the README's
# lifecycle diagram (needs Graphviz's `dot` for the SVGs); a test fails when they drift.
diagrams: $(STAMP)
	$(BIN)/python scripts/generate_docs.py --write docs/generated --readme README.md

# Fuzz the boundary (request bodies, scenario files, `email-fsm replay`) and run the
# differential test against `transitions`, at the `fuzz` hypothesis profile: minutes.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -p no:cacheprovider tests/test_fuzz.py tests/test_differential.py

# Coverage-guided fuzzing (atheris) of every boundary where outside bytes enter, each
# target for a million executions, two at a time (about 12 minutes on two cores; a
# crash's input is kept in fuzz/work/<target>/): rewrites fuzz/results.json and
# fuzz/RESULTS.md. fuzz/README.md describes the targets and their oracles.
fuzz-deep: $(STAMP)
	$(BIN)/python -m fuzz.deep --runs 1000000 --jobs 2

# Mutation testing of the decision core with mutmut ([tool.mutmut] in pyproject.toml):
# slow (about an hour on two cores). Prints the survivors and the share of mutants killed.
MUTATION_STAMP := $(VENV)/.mutation-stamp
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements-dev.lock -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/mutmut run --max-children 2 > /dev/null || true
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -c 'import json; s = json.load(open("mutants/mutmut-cicd-stats.json")); \
	  k = s["killed"] + s["timeout"]; n = s["total"] - s["skipped"]; \
	  print("mutants %d: killed %d (%.1f%%), survived %d, no tests %d" \
	        % (n, k, 100 * k / max(n, 1), s["survived"], s["no_tests"]))'

# The benchmarks against the hand-written limit, transitions and python-statemachine
# (a few minutes): rewrites benchmarks/results.json, RESULTS.md and scale.png.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The server under load (a few minutes): N agents driven from another process against
# email-fsm serve with each store and a bare Starlette endpoint, and the restart's replay;
# rewrites benchmarks/server/results.json, RESULTS.md and server.png.
bench-server: $(STAMP)
	$(BIN)/python -m benchmarks.server

# SQLite with one process beside PostgreSQL with one and two (two and a half minutes; needs
# PostgreSQL's server programs: a private server is started in a temporary directory).
bench-server-postgres: $(STAMP)
	$(BIN)/python -m benchmarks.server.postgres

# The simulator's benchmarks (about 5 minutes): against a bare SimPy model, a million
# emails on one core, a sweep on 1 and 2 processes; rewrites benchmarks/sim/results.json,
# RESULTS.md and sim.png.
bench-sim: $(STAMP)
	$(BIN)/python -m benchmarks.sim

# The figures and tables of docs/simulation.md (a few minutes).
sim-figures: $(STAMP)
	$(BIN)/python scripts/simulation_figures.py

# Re-pin the development dependencies (run after changing pyproject.toml).
# hatchling is installed first so that the build backend stays pinned.
lock: $(STAMP)
	$(call pip_install,$(BIN)) hatchling
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^email-fsm' > requirements-dev.lock

clean:
	rm -rf $(VENV) $(VENV_3_13) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage site

# The screenshots of the agent desktop and the inspector (docs/images/desktop/, each PNG
# with a JSON sidecar of what the page showed), in Debian's Chromium (/usr/bin/chromium);
# tests/test_desktop_screenshots.py fails when the sidecars drift.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py
