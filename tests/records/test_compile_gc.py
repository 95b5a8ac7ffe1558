"""`compile_gc.fewer_collections`: the garbage collector's thresholds raised while a reading plan
is compiled (a fifth of a cold compile's CPU was collections), the process's own put back after,
and the SQL the same."""

from __future__ import annotations

import gc
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ibis_compile
from earlypath.records.compile_gc import COMPILE_THRESHOLDS, fewer_collections
from earlypath.records.definition import READING


@pytest.fixture(autouse=True)
def _thresholds() -> Any:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_thresholds_are_raised_within_and_the_process_s_own_come_back_even_on_error() -> None:
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == COMPILE_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the compile failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_process_s_higher_thresholds_are_never_lowered() -> None:
    gc.set_threshold(100_000, 5, 50)
    with fewer_collections():
        assert gc.get_threshold() == (100_000, COMPILE_THRESHOLDS[1], 50)
    assert gc.get_threshold() == (100_000, 5, 50)


def test_a_reading_plan_is_compiled_with_the_raised_thresholds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped at its start (no statement compiled): the thresholds the compile runs with."""
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    class Stop(Exception):
        pass

    def compile_records(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        raise Stop

    monkeypatch.setattr(ibis_compile, "compile_records", compile_records)
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE keys (_key BIGINT, encounter TEXT, patient TEXT, assessed_on DATE)")
    with pytest.raises(Stop):
        ibis_compile._record_plan(con, READING, {}, "keys", "k", whole=False)
    assert seen == [COMPILE_THRESHOLDS]
    assert gc.get_threshold() == (700, 10, 10)


def test_the_sql_is_the_same() -> None:
    t = ibis.table({"a": "int64", "b": "string"}, name="t")
    expr = t.mutate(c=t.a + 1).filter(lambda x: x.c > 2).group_by("b").agg(n=lambda x: x.c.sum())
    con = ibis.duckdb.connect()
    plain = str(con.compile(expr))
    with fewer_collections():
        assert str(con.compile(expr)) == plain


def test_nested_or_overlapping_compiles_put_the_process_s_thresholds_back_once_all_end() -> None:
    """Two compiles under way at once (two threads of a service): the one that ends first
    leaves the other's raised thresholds; the last puts back the process's own."""
    gc.set_threshold(700, 10, 10)
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == COMPILE_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)
