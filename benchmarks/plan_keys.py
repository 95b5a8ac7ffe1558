"""A pytest plugin: the distinct reading plans a set of tests would compile cold, without compiling
one (stop 47, w-general47). Each cold compile of a reading's plan is 20-35 CPU s; this counts how
many the tests need, so two trees can be compared in minutes on a loaded machine.

`ibis_compile._record_plan` (the cold compile) is replaced by one that notes the plan's key (what
`run_records` keys it on: the definition, engine, structure, the types left out, the input
schemas, the unique and repeated tables) and raises: the test stops there and fails (expected), so
each test counts the first plan it needs (a test reading two exports of different plans counts
one: a lower bound, the same on both trees). Run with an empty plan folder:

    EARLYPATH_PLAN_CACHE=$(mktemp -d) PLAN_KEYS_OUT=/tmp/keys.txt PYTHONPATH=<tree>:benchmarks \
      .venv/bin/pytest -q -p no:randomly -n 0 -p no:cacheprovider -p plan_keys <files>

It appends one line a needed plan as it is found (its key's digest, then the first test that
needed it), and at the end the count.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator
from typing import Any

import pytest

_running = {"test": "(collection and module fixtures)"}
_first: dict[str, str] = {}


class PlanNotCompiled(RuntimeError):
    """Raised in place of a cold compile (this plugin counts plans, it compiles none)."""


def pytest_configure(config: pytest.Config) -> None:
    from earlypath.records import ibis_compile, plan_cache

    def noted(con: Any, spec: Any, resources: Any, encounters: str, *args: Any) -> Any:
        whole, merged, absent, by_identifier, unique, repeated = args[1:7]
        parts = (
            plan_cache._canonical_once(spec),
            con.name,
            whole,
            ibis_compile.left_out(spec, absent),
            sorted((r, tuple(t.schema().items())) for r, t in resources.items()),
            tuple(con.table(encounters).schema().items()),
            merged is not None,
            by_identifier is not None,
            sorted(unique),
            sorted(repeated),
        )
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
        if digest not in _first:  # (written as found: a run cut short still says its plans)
            _first[digest] = _running["test"]
            with open(_out(), "a", encoding="utf-8") as f:
                f.write(f"{digest} {_running['test']}\n")
        raise PlanNotCompiled(digest)

    ibis_compile._record_plan = noted  # type: ignore[assignment]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    _running["test"] = item.nodeid
    yield


def _out() -> str:
    return os.environ.get("PLAN_KEYS_OUT", "plan-keys.txt")


def pytest_unconfigure(config: pytest.Config) -> None:
    with open(_out(), "a", encoding="utf-8") as f:
        f.write(f"=== pid {os.getpid()}: {len(_first)} distinct reading plans\n")
