# Relay: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test setup setup-dev assets lint typecheck checks test-sqlite test-postgres lane-sqlite bench clean

$(BIN)/python:
	@py=$$(scripts/find-python) && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.stamp-dev: requirements-dev.txt $(VENV)/.stamp-runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

relay/static/vendor/.stamp: node_modules/.stamp scripts/copy-assets
	scripts/copy-assets
	@touch $@

assets: relay/static/vendor/.stamp

setup: $(VENV)/.stamp-runtime assets

setup-dev: $(VENV)/.stamp-dev assets

run: setup
	@mkdir -p var
	$(BIN)/relay migrate --noinput
	$(BIN)/relay demo --if-empty
	$(BIN)/relay serve --port $(PORT)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup-dev
	$(BIN)/mypy relay

checks: setup-dev
	$(BIN)/relay check --fail-level WARNING
	$(BIN)/relay makemigrations --check --dry-run

test-sqlite: setup-dev
	@echo "== pytest on SQLite"
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: setup-dev
	@if $(BIN)/python scripts/db-reachable "$(TEST_DATABASE_URL)"; then \
		echo "== pytest on PostgreSQL ($(TEST_DATABASE_URL))"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest $(PYTEST_ARGS); \
	else echo "== PostgreSQL not reachable at $(TEST_DATABASE_URL): skipping the PostgreSQL run"; fi

# Two lanes side by side, one core each: ruff, mypy, Django's checks and pytest on SQLite, one after the
# other (the SQLite run is the shorter); pytest on PostgreSQL.
test: setup-dev
	@echo "== lint, type and migration checks then pytest on SQLite | pytest on PostgreSQL, side by side"
	$(MAKE) --no-print-directory -j2 --output-sync=target lane-sqlite test-postgres

lane-sqlite: setup-dev
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory typecheck
	@$(MAKE) --no-print-directory checks
	@$(MAKE) --no-print-directory test-sqlite

bench: setup-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules relay/static/vendor var/test*.sqlite3*
