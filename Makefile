# Everything a fresh machine needs is installed from this repository's own files:
# Python packages from pyproject.toml into .venv, JavaScript packages from package-lock.json,
# then the web app is built (offline) into renderers/web/dist.

PYTHON ?= python3
# test processes for make test (each takes whole test files: their servers and fixtures),
# handed out in the order tests/conftest.py collects them: the long files first
TEST_WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
WEB_DIR    := renderers/web
WEB_BUILD  := $(WEB_DIR)/dist/index.html
WEB_SOURCES := $(shell find $(WEB_DIR)/src -type f -not -name platform.d.ts 2>/dev/null) \
               $(WEB_DIR)/index.html $(WEB_DIR)/scripts/platform-types.mjs \
               $(WEB_DIR)/vite.config.mts $(WEB_DIR)/tsconfig.json \
               engines/expressions/static/loom-logic.js

.PHONY: install run test lint bench clean web

$(PY_STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# the build first makes src/api/platform.d.ts from the platform's OpenAPI document (Python)
$(WEB_BUILD): $(PY_STAMP) $(NODE_STAMP) $(WEB_SOURCES)
	npm run --silent build

install: $(PY_STAMP) $(NODE_STAMP) $(WEB_BUILD)

web: $(WEB_BUILD)

## Start Loom on the embedded SQLite database at http://127.0.0.1:8000
run: install
	$(BIN)/loom db upgrade
	$(BIN)/loom serve

## Lint and run the whole test suite (SQLite and PostgreSQL; see README)
test: install lint
	npm run --silent test:unit
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	npm run --silent typecheck

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules $(WEB_DIR)/dist .pytest_cache .ruff_cache
