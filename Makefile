# earlypath: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# make run is a local demo: CDS Hooks JWT checks off (loopback only, with a loud banner).
# Use 'make run EARLYPATH_CDS_AUTH=on EARLYPATH_CDS_ISSUERS=issuers.json EARLYPATH_PUBLIC_URL=http://127.0.0.1:8000' to check tokens.
EARLYPATH_CDS_AUTH ?= off

.PHONY: install native gcc system-deps run test check lint bench clean test-service test-browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[spark,dev,native]'
	touch $@

# A target's prerequisites run side by side (three jobs): pip and apt-get at once, then the C build
# below (one core of gcc, about 1.5 CPU minutes) beside ruff and mypy (one core, about half a
# minute), before the tests take both cores. apt-get runs in one target at a time (`gcc` first).
MAKEFLAGS += --jobs=3

# The CDS record reading's generated source compiled to C (Cython, gcc): the service runs it
# when it is the build of the very source it would exec (earlypath/records/native.py). A no-op
# (a few seconds) while the source is unchanged; a new build takes minutes of gcc. The same
# command builds the CDS body's long-number check (earlypath/web/digit_runs.c, a second).
install: $(STAMP) native

native: $(STAMP) gcc
	$(BIN)/python -m earlypath.records.native build

gcc:
	@if ! command -v gcc >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq gcc python3-dev >/dev/null; \
	fi

# Debian packages the tests and benchmarks need: Chromium for the browser tests, a JRE for
# PySpark, wrk to load the CDS Hooks endpoint from another process.
system-deps: gcc
	@if ! command -v chromium >/dev/null || ! command -v java >/dev/null || ! command -v wrk >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq chromium openjdk-17-jre-headless wrk >/dev/null; \
	fi

run: install
	EARLYPATH_CDS_AUTH=$(EARLYPATH_CDS_AUTH) $(BIN)/earlypath serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check earlypath tests benchmarks
	$(BIN)/ruff format --check earlypath tests benchmarks
	$(BIN)/mypy

# Two pytest workers (pytest-xdist), one per core; a test file stays on one worker, so its module
# fixtures (an export, a Spark session) are built once; files go out longest first, in the order
# tests/conftest.py sorts them (not xdist's own, by number of tests). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
# DURATIONS=0 lists every test's seconds (for tests/module_seconds.json: python -m tests.module_seconds).
DURATIONS ?= 25
test: install system-deps lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=$(DURATIONS) tests

check: install lint
	$(BIN)/pytest -q -m "not spark and not browser" tests/unit tests/spec tests/pathway

# The web service alone: HTTP, CDS Hooks and FHIR tests, then the real-browser tests.
test-service: install
	$(BIN)/pytest -q tests/integration tests/unit/test_fhir*.py tests/unit/test_web*.py

test-browser: install system-deps
	$(BIN)/pytest -q -m browser tests/browser

bench: install system-deps
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
