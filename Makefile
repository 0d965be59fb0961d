# Two commands do all the set-up on a machine with only Python 3.11+ and pip:
#   make demo   -- the story of the seed page, told by the model
#   make test   -- ruff, mypy --strict, pytest (with the property tests)
# The first run creates .venv and installs the pinned development dependencies.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest clean lock docs diagrams fuzz mutation bench

$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-dev.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/email-fsm demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered

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
	$(BIN)/python -m email_fsm.diagrams --write docs/generated --readme README.md

# Fuzz the boundary (request bodies, scenario files, `email-fsm replay`) and run the
# differential test against `transitions`, at the `fuzz` hypothesis profile: minutes.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -p no:cacheprovider tests/test_fuzz.py tests/test_differential.py

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

# Re-pin the development dependencies (run after changing pyproject.toml).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^email-fsm' > requirements-dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage site
