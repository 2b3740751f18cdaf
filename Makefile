# Molar: `make demo` runs the demo practice, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8000
# PostgreSQL for the second test run (pytest-django creates and drops test_molar).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/molar

.PHONY: demo test test-gates test-sqlite test-postgres test-deps bench fuzz lint clean screenshots

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/molar demo --port $(PORT)

# Every test: the security gates, the whole suite on SQLite (browser tests
# included), then every database test again on PostgreSQL. Any failure, or no
# tests at all (pytest exit code 5), fails the target.
test: test-deps lint test-gates test-sqlite test-postgres

# SPEC K10: bandit fails on any high-severity finding. The `check --deploy`
# gate (production settings) and the bad-input proof of each gate are tests
# in tests/test_gates.py; the API's schemathesis run is in the suite too.
test-gates: $(BIN)/.installed
	$(BIN)/bandit -q -r --severity-level high molar

test-sqlite: $(BIN)/.installed
	$(BIN)/pytest -q

test-postgres: $(BIN)/.installed
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -m "not browser"

test-deps: $(BIN)/.installed
	@sh scripts/test-deps.sh

# PostgreSQL for the benchmarks: created and dropped by the run. `make bench
# BENCH_DATABASE_URL=` measures SQLite only.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/molar_bench

bench: $(BIN)/.installed
	@sh scripts/bench-deps.sh
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench

# schemathesis against the API with many more examples per operation than the
# test command's few (SCHEMATHESIS_EXAMPLES=N to choose; a few minutes at 500).
FUZZ_EXAMPLES ?= 500

fuzz: $(BIN)/.installed
	SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/api/test_schemathesis.py

# SPEC V1-V9: the page crawl at phone and desk widths, writing screenshots
# (portal home at 320/375/1280 px, the access page at 1280 px, ...) for review.
SCREENSHOTS ?= var/screenshots
screenshots: test-deps
	MOLAR_SCREENSHOTS=$(abspath $(SCREENSHOTS)) $(BIN)/pytest -q tests/browser/test_experience.py -k fits
	@ls $(SCREENSHOTS)

# ruff, then mypy with django-stubs over the security core ([tool.mypy] files
# in pyproject.toml: what handles passwords, secrets, sessions and the audit trail).
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
