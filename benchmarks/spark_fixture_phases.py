"""A pytest plugin: where the two Spark agreement modules' fixtures spend their time, phase by
phase (stop 46). For each phase of `tests/audit/test_spark_agreement.py`'s `audited` (writing
the one export, the Spark audit, the DuckDB audit, DuckDB's flat rows) and of
`tests/audit/test_spark_reading_agreement.py`'s `read` (the synthetic women written, the export
written, each engine's compiled reading and fetch), its wall seconds, the pytest process's CPU
seconds (Python, ibis, DuckDB's threads) and the Spark driver JVM's CPU seconds (`/proc`); then
the totals of the process.

Run, from the tree, one module at a time, cold (an empty plan folder, as a fresh clone runs):

    EARLYPATH_PLAN_CACHE=$(mktemp -d) PHASES_OUT=/tmp/phases.txt PYTHONPATH=.:benchmarks \\
      .venv/bin/pytest -q -p no:randomly -n 0 -p no:cacheprovider -p spark_fixture_phases \\
      tests/audit/test_spark_agreement.py

It appends one line a phase and a total line to ``PHASES_OUT`` (stderr without it).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from spark_shared import jvm_cpu

_phases: list[tuple[str, float, float, float]] = []


def _jvm_cpu() -> float:
    """The CPU seconds of the tests' Spark driver JVM so far (0 before a session is started)."""
    from tests import conftest_spark

    session = conftest_spark._session
    return 0.0 if session is None else jvm_cpu(session)


def _timed(label: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu, jvm = time.perf_counter(), time.process_time(), _jvm_cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            _phases.append(
                (
                    label(*args, **kwargs),
                    time.perf_counter() - wall,
                    time.process_time() - cpu,
                    _jvm_cpu() - jvm,
                )
            )

    return timed


def _wrap(module: ModuleType | None, name: str, label: Callable[..., str]) -> None:
    if module is not None and hasattr(module, name):  # (a phase a module no longer has: none)
        setattr(module, name, _timed(label, getattr(module, name)))


def pytest_collection_finish(session: Any) -> None:
    """Wrap the functions the fixtures call, by their names in the modules' globals."""
    from tests import conftest_spark

    # the session's start: the JVM's CPU before any reading (once a process)
    _wrap(conftest_spark, "spark_session", lambda *a, **k: "the Spark session started")
    audit = sys.modules.get("tests.audit.test_spark_agreement")
    reading = sys.modules.get("tests.audit.test_spark_reading_agreement")
    _wrap(audit, "_write", lambda *a, **k: "audit: the export written")
    _wrap(audit, "run_audit", lambda *a, **k: f"audit: run_audit on {k.get('engine', 'duckdb')}")
    _wrap(audit, "read_fhir_export", lambda *a, **k: "audit: DuckDB's flat rows")
    _wrap(audit, "_judged_on_spark", lambda *a, **k: "audit: Spark's flat rows fetched")
    _wrap(reading, "write_fhir", lambda *a, **k: "reading: the synthetic women written")
    _wrap(reading, "write_export", lambda *a, **k: "reading: the export written")
    _wrap(reading, "compiled_reading", lambda con, *a, **k: f"reading: compiled on {con.name}")
    _wrap(reading, "fetched", lambda *a, **k: "reading: fetched")


def pytest_sessionfinish(session: Any) -> None:
    lines = [
        f"{name:42s} wall {w:7.1f}  cpu {c:6.1f}  jvm cpu {j:6.1f}" for name, w, c, j in _phases
    ]
    lines.append(
        f"{'the process':42s} {'':12s}  cpu {time.process_time():6.1f}  jvm cpu {_jvm_cpu():6.1f}"
    )
    out = os.environ.get("PHASES_OUT")
    text = "\n".join(lines) + "\n"
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stderr.write(text)
