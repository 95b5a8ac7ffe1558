"""A pytest plugin: per test, the CPU seconds it took, the CPU seconds spent compiling a reading's
plan (`ibis_compile._record_plan`) and the plans it saved to the plan folder (every kind:
the reading's, the kept count's, DuckDB's and Spark's audit plans). A cold run (an empty
``EARLYPATH_PLAN_CACHE``) then says which tests pay for the plans a test file needs (stop 42).

Run, from the tree, a file at a time, cold and in one process:

    EARLYPATH_PLAN_CACHE=$(mktemp -d) PLAN_COMPILES_OUT=/tmp/compiles.txt PYTHONPATH=benchmarks \
      .venv/bin/pytest -q -p no:randomly -n 0 -p no:cacheprovider -p plan_compiles <file>

It appends one block a process to ``PLAN_COMPILES_OUT``: the totals, then a line a test (CPU,
compile CPU, plans saved, the first 12 characters of each plan's key), the costliest first.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Generator
from typing import Any

import pytest

_running = {"test": "(collection and module fixtures)"}
_saved: collections.Counter[str] = collections.Counter()
_keys: dict[str, list[str]] = collections.defaultdict(list)
_compile_cpu: collections.Counter[str] = collections.Counter()
_test_cpu: collections.Counter[str] = collections.Counter()


def pytest_configure(config: pytest.Config) -> None:
    from compile_cpu import on_each_compile

    import earlypath.audit.duckdb_plan as duckdb_plan
    import earlypath.audit.spark_code as spark_code
    import earlypath.audit.spark_plan as spark_plan
    from earlypath.records import plan_cache

    save_plan = plan_cache.save_plan

    def counted_save(key: str, plan: dict[str, Any]) -> None:
        _saved[_running["test"]] += 1
        _keys[_running["test"]].append(key[:12])
        save_plan(key, plan)

    # (each module imported the function by name: replace it where it is called)
    for module in (plan_cache, duckdb_plan, spark_plan, spark_code):
        module.save_plan = counted_save  # type: ignore[attr-defined]

    def told(cpu: float) -> None:
        _compile_cpu[_running["test"]] += cpu

    on_each_compile(told)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    _running["test"] = item.nodeid
    start = time.process_time()
    yield
    _test_cpu[item.nodeid] += time.process_time() - start


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("PLAN_COMPILES_OUT", "plan-compiles.txt")
    tests = sorted(set(_test_cpu) | set(_saved), key=lambda t: -_test_cpu[t])
    with open(out, "a", encoding="utf-8") as f:
        f.write(
            f"=== pid {os.getpid()}: CPU {sum(_test_cpu.values()):.1f} s in tests, compiling "
            f"{sum(_compile_cpu.values()):.1f} s, {sum(_saved.values())} plans saved\n"
        )
        for t in tests:
            f.write(
                f"{_test_cpu[t]:8.2f} cpu {_compile_cpu[t]:7.2f} compile {_saved[t]:3d} saved "
                f"{t} {_keys.get(t, [])}\n"
            )
