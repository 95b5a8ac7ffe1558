"""The judging's write leaves the Java code Spark generated for it, and the next audit of the
same form compiles that code on a thread of its own once its judging is analysed, beside the
write's planning (`earlypath.audit.spark_code`, Spark twentieth round): the kept sources are
the very ones the write compiled (Spark's cache of compiled classes has them), they are kept
again only for a new form and compiled only for their own, and the compile runs on its own
thread, never raising."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit import spark_audit, spark_code
from earlypath.audit.load import connect, load_raw, loaded_layout
from earlypath.audit.spark_audit import judge_on_spark
from earlypath.policy import Policy
from tests.audit.test_duckdb_plan import _cohort

pytestmark = pytest.mark.spark

SECRET = "episode-id-kept-nowhere"  # a repeated id: the judging tests it as a literal


def _compiles_done() -> None:
    """Wait for every compile thread of this process (an earlier audit's may still compile)."""
    for thread in threading.enumerate():
        if thread.name == "earlypath-code-compile":
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


def test_the_next_audit_compiles_the_kept_code_once_its_judging_is_analysed(
    tmp_path: Path, spark: Any, plans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = connect("spark", spark)
    raw = load_raw(con, _cohort(tmp_path / "c.csv", ["e1", SECRET, SECRET]))
    layout = loaded_layout(con)
    assert layout == "csv, 1 files, 0 keys, as read"
    steps: list[str] = []
    real_sql, real_write = spark.sql, spark_audit._write_sorted_parts
    real_start = spark_code.compile_in_thread

    def sql(*args: Any, **kwargs: Any) -> Any:
        done = real_sql(*args, **kwargs)
        steps.append("analysed")
        return done

    def write(*args: Any, **kwargs: Any) -> Any:
        steps.append("write")
        return real_write(*args, **kwargs)

    def start(session: Any, sources: list[str]) -> threading.Thread | None:
        steps.append(f"compile {len(sources)}")
        return real_start(session, sources)

    monkeypatch.setattr(spark, "sql", sql)
    monkeypatch.setattr(spark_audit, "_write_sorted_parts", write)
    monkeypatch.setattr(spark_code, "compile_in_thread", start)
    judge_on_spark(con, raw, Policy())  # the first of its form: nothing kept, nothing compiled
    assert steps[-3:] == ["analysed", "compile 0", "write"]
    form = spark_code.load_plan(spark_code._last_code_key())["form"]
    kept = spark_code.kept_code(form)
    assert kept, "the write's generated code was not kept"
    assert form.endswith(f", {layout}")
    assert not any(SECRET in source for source in kept)  # values are not in the code
    _compiles_done()
    before = _compiles(spark)
    spark_code._compile(spark, kept)
    assert _compiles(spark) == before, "a kept source is not one the write compiled"
    # (the count does see a source the write did not compile)
    spark_code._compile(spark, [kept[0] + f"\n// {uuid.uuid4()}\n"])
    assert _compiles(spark) == before + 1
    steps.clear()
    judge_on_spark(con, raw, Policy())  # the same form: its kept code compiled once analysed
    assert steps[-3:] == ["analysed", f"compile {len(kept)}", "write"]
    _compiles_done()


def test_the_code_is_kept_again_only_for_a_new_form(spark: Any, plans: Path) -> None:
    planned: list[str] = []

    def plan_of() -> Any:
        planned.append("planned")
        return spark.range(3).selectExpr("id * 7 AS x")._jdf.queryExecution().executedPlan()

    assert spark_code.kept_code("one form") == []
    spark_code.keep_the_code("one form", [], plan_of)
    first = spark_code.kept_code("one form")
    assert planned == ["planned"] and first
    assert spark_code.kept_code("another form") == []  # its code would not match: not compiled
    assert spark_code.kept_code(None) == []  # a FHIR export
    spark_code.keep_the_code("one form", first, plan_of)  # kept: no plan asked for
    spark_code.keep_the_code(None, [], plan_of)  # a FHIR export: nothing kept
    assert planned == ["planned"]
    spark_code.keep_the_code("another form", [], plan_of)
    assert planned == ["planned", "planned"]
    assert spark_code.kept_code("another form") == first
    assert spark_code.kept_code("one form") == []  # one form kept, the last


def test_the_kept_code_is_compiled_on_a_thread_of_its_own_and_never_raises(
    spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = spark.range(3).selectExpr("id * 11 AS y")._jdf.queryExecution().executedPlan()
    fresh = [s + f"\n// {uuid.uuid4()}\n" for s in spark_code.generated_sources(plan)]
    threads: list[str] = []
    real = spark_code._compile

    def noted(session: Any, sources: list[str]) -> None:
        threads.append(threading.current_thread().name)
        real(session, sources)

    monkeypatch.setattr(spark_code, "_compile", noted)
    _compiles_done()
    before = _compiles(spark)
    assert spark_code.compile_in_thread(spark, []) is None  # nothing kept: no thread
    thread = spark_code.compile_in_thread(spark, ["class {{{ not java", *fresh])
    assert thread is not None
    thread.join(timeout=300)
    assert threads == ["earlypath-code-compile"] != [threading.current_thread().name]
    assert _compiles(spark) == before + len(fresh)  # the broken source only not cached
