# Everything a fresh machine needs is installed from this repository's own files:
# Python packages from pyproject.toml into .venv, JavaScript packages from package-lock.json.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install run test lint bench clean

$(PY_STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PY_STAMP) $(NODE_STAMP)

## Start Loom on the embedded SQLite database at http://127.0.0.1:8000
run: install
	$(BIN)/loom db upgrade
	$(BIN)/loom serve

## Lint and run the whole test suite (SQLite and PostgreSQL; see README)
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
