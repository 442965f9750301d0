# Gembalog — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

FRONTEND := frontend
NPM_STAMP := $(FRONTEND)/node_modules/.installed
FRONTEND_SRC := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig.json
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint fmt typecheck pytest bench migrate clean \
	frontend frontend-check frontend-build chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# npm ci again whenever the lock file (or package.json) is newer than the installed tree.
$(NPM_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $@

# The PWA, rebuilt when any of its sources is newer than the build.
$(FRONTEND)/dist/index.html: $(NPM_STAMP) $(FRONTEND_SRC)
	cd $(FRONTEND) && npm run build
	@touch $@

frontend: $(FRONTEND)/dist/index.html

## frontend-check: tsc --noEmit and the frontend's unit tests (vitest)
frontend-check: $(NPM_STAMP)
	cd $(FRONTEND) && npm run typecheck
	cd $(FRONTEND) && npm test

## frontend-build: always build (the build fails when the capture route is over budget)
frontend-build: $(NPM_STAMP)
	cd $(FRONTEND) && npm run build

# The browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; \
	fi

## run: set up, build the app when stale, migrate the embedded SQLite database, load the
## demo organisation when the database is empty, serve
run: $(STAMP) frontend
	$(BIN)/gembalog migrate
	$(BIN)/gembalog demo --if-empty
	$(BIN)/gembalog serve --host $(HOST) --port $(PORT)

migrate: $(STAMP)
	$(BIN)/gembalog migrate

## test: every check the project has (CI runs exactly this)
test: lint typecheck frontend-check frontend-build chromium pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	GEMBALOG_E2E_REQUIRED=1 $(BIN)/pytest -n 2 --dist loadfile

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info
