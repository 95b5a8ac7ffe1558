"""The judging's write leaves the Java code Spark generated for it, and the next audit's warm-up
compiles that code while it reads its cohort (`earlypath.audit.spark_code`, Spark eighteenth
round): the kept sources are the very ones the write compiled (Spark's cache of compiled
classes has them), they are kept again only for a new form, and the warm-up compiles them on
its own thread, after the parse, never raising."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit import spark_code, spark_plan
from earlypath.audit.load import connect, load_raw, loaded_layout
from earlypath.audit.spark_audit import judge_on_spark
from earlypath.policy import Policy
from tests.audit.test_duckdb_plan import _cohort

pytestmark = pytest.mark.spark

WARM_UP = "earlypath-parser-warm-up"
SECRET = "episode-id-kept-nowhere"  # a repeated id: the judging tests it as a literal


def _warm_ups_done() -> None:
    """Wait for every warm-up thread of this process (an earlier audit's may still compile)."""
    for thread in threading.enumerate():
        if thread.name.startswith(WARM_UP):
            thread.join(timeout=300)


def _compiles(spark: Any) -> int:
    """Sources Spark's code generator has compiled in this JVM (a cached one is not counted)."""
    metrics = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics
    return int(metrics.METRIC_COMPILATION_TIME().getCount())


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "plans"
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(folder))
    return folder


def test_the_write_keeps_the_code_it_compiled(tmp_path: Path, spark: Any, plans: Path) -> None:
    con = connect("spark", spark)
    raw = load_raw(con, _cohort(tmp_path / "c.csv", ["e1", SECRET, SECRET]))
    assert loaded_layout(con) == "csv, 1 files, 0 keys, as read"
    assert spark_code.kept_sources() == []
    judge_on_spark(con, raw, Policy())
    kept = spark_code.kept_sources()
    assert kept, "the write's generated code was not kept"
    assert not any(SECRET in source for source in kept)  # values are not in the code
    _warm_ups_done()
    before = _compiles(spark)
    spark_code.compile_kept_code(spark, kept)
    assert _compiles(spark) == before, "a kept source is not one the write compiled"
    # (the count does see a source the write did not compile)
    spark_code.compile_kept_code(spark, [kept[0] + f"\n// {uuid.uuid4()}\n"])
    assert _compiles(spark) == before + 1


def test_the_code_is_kept_again_only_for_a_new_form(spark: Any, plans: Path) -> None:
    planned: list[str] = []

    def plan_of() -> Any:
        planned.append("planned")
        return spark.range(3).selectExpr("id * 7 AS x")._jdf.queryExecution().executedPlan()

    spark_code.keep_the_code("one form", plan_of)
    first = spark_code.kept_sources()
    assert planned == ["planned"] and first
    spark_code.keep_the_code("one form", plan_of)  # kept: no plan asked for
    spark_code.keep_the_code(None, plan_of)  # a FHIR export: nothing kept
    assert planned == ["planned"]
    spark_code.keep_the_code("another form", plan_of)
    assert planned == ["planned", "planned"]
    assert spark_code.kept_sources() == first


def test_the_warm_up_compiles_the_kept_code_after_the_parse_and_never_raises(
    spark: Any, plans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyspark

    from earlypath.records.plan_cache import save_plan

    plan = spark.range(3).selectExpr("id * 11 AS y")._jdf.queryExecution().executedPlan()
    fresh = [s + f"\n// {uuid.uuid4()}\n" for s in spark_code.generated_sources(plan)]
    kept = {"form": "f", "sources": ["class {{{ not java", *fresh]}
    save_plan(spark_code._last_code_key(), kept)
    done: list[str] = []
    real = spark_code.compile_kept_code

    def noted(session: Any, sources: list[str]) -> None:
        real(session, sources)
        done.append(threading.current_thread().name)

    monkeypatch.setattr(spark_code, "compile_kept_code", noted)
    _warm_ups_done()
    before = _compiles(spark)
    assert spark_plan.warm_the_parser(spark) is None  # no judging kept, code not asked for
    assert done == [] and _compiles(spark) == before
    save_plan(spark_plan.plan_key(spark_plan.LAST_JUDGING, pyspark.__version__), {"judged": "x"})
    parsed = spark_plan.warm_the_parser(spark, compile_code=True)
    assert parsed is not None
    assert parsed.result(timeout=120) is None
    _warm_ups_done()
    assert done and done[0].startswith(WARM_UP)
    assert _compiles(spark) == before + len(fresh)  # the broken source only not cached
