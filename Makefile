# dailypapers — one command to run it, one to test it (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU build of torch first: a plain `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: install, initialise ./data (demo corpus if empty), build the indexes, serve http://127.0.0.1:8000
run: install
	$(BIN)/dailypapers init --demo
	$(BIN)/dailypapers serve

# Two test processes (pytest-xdist), a test module kept in one of them so its module-scoped libraries are built
# once: the suite is CPU-bound, so two processes on this 2-core machine take ~half the wall time of one.
PYTEST_PARALLEL ?= -n 2 --dist loadfile

## test: the whole suite, on SQLite and on PostgreSQL (embedded), plus ruff and mypy; prints the 25 slowest tests
test: install
	$(BIN)/ruff check dailypapers tests bench
	$(BIN)/mypy dailypapers
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) --durations=25

## test-fast: every test not marked slow (`make test-fast PYTEST_PARALLEL=` runs them in one process)
test-fast: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow" -q

lint: install
	$(BIN)/ruff check dailypapers tests bench
	$(BIN)/ruff format --check dailypapers tests bench
	$(BIN)/mypy dailypapers

## bench: search/import benchmarks (writes bench/results/*.json and prints a table)
bench: install
	$(BIN)/python -m bench.run --sizes 1000000,100000,demo --backends sqlite,postgres

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
