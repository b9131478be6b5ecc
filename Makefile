# Two commands: `make demo` and `make test`. Both set up .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench docs system-deps test-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## demo: run the whole pipeline on the bundled sample feeds and lists (no network)
demo: $(STAMP)
	bash scripts/demo.sh

## test: lint, format check, type check and every test (installs what it needs)
test: $(STAMP) system-deps test-tools lint typecheck unit

system-deps:
	bash scripts/system-deps.sh

## test-tools: the Nu Html Checker (vnu.jar, run with the system's Java) from package-lock.json
test-tools: node_modules/.installed-stamp

node_modules/.installed-stamp: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@; \
	else echo "test-tools: npm is missing; the HTML validity test will be skipped." >&2; fi

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/ruff format --check pipeline tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy pipeline

unit: $(STAMP)
	RUNDBRIEF_TEST_POSTGRES_URL="$$(bash scripts/postgres.sh)" $(BIN)/pytest $(PYTEST_ARGS)

## bench: the hot-path benchmarks (print figures; not part of make test)
bench: $(STAMP)
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/startup.py

## docs: regenerate docs/configuration.md and docs/cli.md from the code (tests/test_docs.py checks them)
docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
