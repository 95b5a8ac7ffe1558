"""A pytest plugin: which tests need which record-reading plan (stop 48, w-plans48).

Every reading asks the plan folder for its plan (`plan_cache.load_plan`, called by `run_records`
with the plan's disk key); this notes each ask of a reading's plan with the test that made it.
The process's own plan memo (`ibis_compile._PLANS`) is emptied before each test, so every test
that reads asks the folder, not only the first of a process.

Two modes:

- **count** (the default): a reading whose plan is not in the folder is not compiled; the
  compile (`ibis_compile._record_plan`) raises, so the test stops there (it fails, as expected).
  With an empty folder this lists, fast, the first plan each test needs cold, by key.
- **warm** (``PLAN_USERS_MODE=warm``, with a folder holding the suite's plans, e.g. a copy of a
  cold CI's): every test runs to its end and each of its readings is noted, hit or miss (a miss
  is compiled, and its CPU seconds noted).

Run:

    EARLYPATH_PLAN_CACHE=<folder> PLAN_USERS_OUT=/tmp/users.tsv PYTHONPATH=<tree>:benchmarks \
      .venv/bin/pytest -q -p no:randomly -n 0 -p no:cacheprovider -p plan_users <files>

One line a reading: the test's node id, the plan's key (12 characters), hit or miss, the
compile's CPU seconds (0 for a hit, or when not compiled). Keys and test names only: no patient
data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from typing import Any

import pytest

_running = {"test": "(collection and module fixtures)"}
_asked = {"key": ""}


class PlanNotCompiled(RuntimeError):
    """Raised in place of a cold compile in count mode."""


def _note(line: str) -> None:
    with open(os.environ.get("PLAN_USERS_OUT", "plan-users.tsv"), "a", encoding="utf-8") as f:
        f.write(line + "\n")


def pytest_configure(config: pytest.Config) -> None:
    from earlypath.records import ibis_compile, plan_cache

    warm = os.environ.get("PLAN_USERS_MODE", "count") == "warm"
    load_plan, record_plan = plan_cache.load_plan, ibis_compile._record_plan

    def asked(key: str) -> Any:
        _asked["key"] = key
        plan = load_plan(key)
        if plan is not None and "statements" in plan:  # a reading's plan (not a kept count)
            _note(f"{_running['test']}\t{key[:12]}\thit\t0")
        return plan

    def compiled(*args: Any, **kwargs: Any) -> Any:
        key = _asked["key"]
        if not warm:
            _note(f"{_running['test']}\t{key[:12]}\tmiss\t0")
            raise PlanNotCompiled(key[:12])
        start = time.process_time()
        try:
            return record_plan(*args, **kwargs)
        finally:
            spent = time.process_time() - start
            _note(f"{_running['test']}\t{key[:12]}\tmiss\t{spent:.1f}")

    plan_cache.load_plan = asked  # type: ignore[assignment]
    ibis_compile._record_plan = compiled  # type: ignore[assignment]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    from earlypath.records import ibis_compile

    _running["test"] = item.nodeid
    ibis_compile._PLANS.clear()
    yield
