# One entry point for the README, CI and contributors. `make help` lists the targets.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: help install install-run install-tools quickstart test test-rust test-python lint golden generate bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install: ## build the Rust extension, install aorist and the scienz catalog (editable) with the test tools
	$(PIP) install --quiet --disable-pip-version-check -e '.[test]'
	$(PIP) install --quiet --disable-pip-version-check --no-build-isolation -e ./datasets

install-run: ## build the Rust extension, install aorist (editable) with what generated programs need (duckdb, pyarrow)
	$(PIP) install --quiet --disable-pip-version-check -e '.[run]'

install-tools: ## install the system tools tests run generated code with (R, duckdb CLI, PostgreSQL, Java)
	bash scripts/install-r.sh
	bash scripts/install-engines.sh

quickstart: install-run ## generate code for the example universe, run it on the embedded lake, show the tables
	$(PYTHON) examples/quickstart.py

test: install install-tools ## everything: Rust tests, lints, and the Python suite that executes generated code
	$(MAKE) test-rust lint test-python

test-rust: ## Rust unit tests of every stage
	cargo test --workspace --quiet

test-python: ## the Python suite (runs generated programs against a loopback HTTP server)
	$(PYTHON) -m pytest

lint: ## rustfmt, clippy, ruff, mypy, black on recipes, and freshness of generated files
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(PYTHON) -m ruff check python tests examples scripts benchmarks datasets
	$(PYTHON) -m ruff format --check python tests examples scripts benchmarks datasets
	$(PYTHON) -m black --check --quiet recipes/python recipes/runtime/python
	$(PYTHON) -m mypy
	$(PYTHON) scripts/generate.py --check

generate: ## regenerate the concept views from concepts/*.toml
	$(PYTHON) scripts/generate.py

golden: install ## regenerate golden files; review the diff before committing
	AORIST_UPDATE_GOLDEN=1 $(PYTHON) -m pytest tests/test_golden.py -q

bench: install ## generation time, memory and output size for 100 to 100,000 assets (not a test)
	$(PYTHON) benchmarks/bench.py --sizes 100,1000,10000,100000 --dialects python,airflow
