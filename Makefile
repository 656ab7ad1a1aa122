# xindai — the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB_URL ?= sqlite:///var/xindai.db
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test check lint format typecheck imports install bench clean

# The editable install also compiles the two Cython kernels (risk windows, scoring trees) into src/;
# a changed kernel source re-runs it.
$(STAMP): pyproject.toml setup.py src/xindai/risk/_kernel.pyx src/xindai/scoring/_trees.pyx
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set everything up and run the platform on SQLite with demo data at http://$(HOST):$(PORT)
run: $(STAMP)
	mkdir -p var
	XINDAI_DATABASE_URL=$(DB_URL) $(BIN)/xindai db upgrade
	XINDAI_DATABASE_URL=$(DB_URL) $(BIN)/xindai demo seed --if-empty
	XINDAI_DATABASE_URL=$(DB_URL) $(BIN)/xindai serve --host $(HOST) --port $(PORT)

## The whole test suite (PostgreSQL tests run when XINDAI_TEST_POSTGRES_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## Lint, format check, types and architecture contracts
check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
