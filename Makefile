# earlypath: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install system-deps run test check lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[spark,dev]'
	touch $@

install: $(STAMP)

# Debian packages the tests need: Chromium for the browser tests, a JRE for PySpark.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v java >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq chromium openjdk-17-jre-headless >/dev/null; \
	fi

run: install
	$(BIN)/earlypath examples

lint: install
	$(BIN)/ruff check earlypath tests benchmarks

test: install system-deps lint
	$(BIN)/pytest -q tests

check: install lint
	$(BIN)/pytest -q -m "not spark and not browser" tests/unit tests/spec

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
