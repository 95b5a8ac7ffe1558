"""How many readings each test makes: a pytest plugin (stop 49, w-batchrec49).

A reading of a small export costs seconds of CPU whatever its size (a DuckDB connection, the
compiled plan's statements; a Python-engine audit its own), so a test module's time is mostly
its readings. This counts, per test id: whole audits by engine (`run_audit`), cohorts judged
outside an audit (`run.evaluate`, stop 50: the flat rows' tests), compiled readings run
outside an audit (`ibis_compile.run_records`, as `tests.records.test_ibis_export.
compiled_reading` runs them) and flat readings outside an audit (`fhir_read.
flatten_fhir_duckdb`), and writes them as JSON to ``$READINGS_OUT`` (nothing when unset).
A fixture's readings are counted to the test that first asked for it.

    READINGS_OUT=/tmp/counts.json PYTHONPATH=.:benchmarks .venv/bin/python -m pytest \\
        -p readings_per_test -p no:cacheprovider -q -n 0 tests/audit/test_fhir_malformed.py

(``-n 0``: the counts are kept in the process that runs the tests.) The wrappers are put in
place before the test modules import the functions, so their own names are counted; code of
earlypath that imported them earlier is not; a compiled reading inside an audit or a flat reading is
not counted again.
"""

from __future__ import annotations

import collections
import functools
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

_counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
_now = {"test": "(collection)", "audits_open": 0}


def _counted(
    module: Any, name: str, kind: Callable[[tuple[Any, ...], dict[str, Any]], str]
) -> None:
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        label = kind(args, kwargs)
        is_audit = label.startswith(("audit", "flat"))  # what runs inside is theirs
        if is_audit or not _now["audits_open"]:
            _counts[str(_now["test"])][label] += 1
        is_audit = is_audit or label.startswith("evaluate")  # (an audit's own is not counted)
        _now["audits_open"] += is_audit
        try:
            return original(*args, **kwargs)
        finally:
            _now["audits_open"] -= is_audit

    setattr(module, name, wrapper)


def _engine(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return "audit:" + str(kwargs.get("engine", args[2] if len(args) > 2 else "duckdb"))


def pytest_configure(config: pytest.Config) -> None:
    from earlypath.audit import fhir_read, run
    from earlypath.records import ibis_compile

    _counted(run, "run_audit", _engine)
    _counted(
        run,
        "evaluate",
        lambda a, k: "evaluate:" + str(k.get("engine", a[1] if len(a) > 1 else "duckdb")),
    )
    _counted(ibis_compile, "run_records", lambda a, k: f"compiled:{getattr(a[0], 'name', '?')}")
    _counted(fhir_read, "flatten_fhir_duckdb", lambda a, k: "flat:duckdb")


def pytest_runtest_setup(item: pytest.Item) -> None:
    _now["test"] = item.nodeid


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("READINGS_OUT")
    if out:
        counts = {test: dict(kinds) for test, kinds in _counts.items()}
        with open(out, "w", encoding="utf-8") as f:
            json.dump(counts, f, indent=1, sort_keys=True)
