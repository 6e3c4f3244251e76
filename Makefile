# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use and
# reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test check lint bench clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/iolaus demo --media --reviewer
	$(VENV)/bin/iolaus communities
	$(VENV)/bin/iolaus cases queue
	$(VENV)/bin/iolaus serve

test: $(TEST_STAMP)
	$(PY) -m pytest

# The shape of the code: types (mypy) and layers (import-linter: model <- store <- domain <- web/cli).
check: $(TEST_STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: $(TEST_STAMP)
	$(PY) benchmarks/import_discord.py --messages 1000000

clean:
	rm -rf $(VENV) demo-world iolaus.db iolaus.db-wal iolaus.db-shm
