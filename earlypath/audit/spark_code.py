"""The Java code Spark generates for the judging's write, kept between runs and compiled while
the next cohort is read.

Before the judging's one job starts, Spark's driver generates the Java source of each
whole-stage code stage of the write and compiles it with Janino, on the thread that serves
Python's calls: the serial chain a second core cannot shorten. At 1M rows that compile was about
0.3-0.4 CPU s of the chain's 0.7-0.9 s after the judging's ``spark.sql``, most of it Janino
starting cold in a fresh JVM (docs/speed.md, Spark eighteenth round). Spark keeps each compiled
class in a cache keyed by its source text (and the thread's class loader, the same for every
thread that serves Python): a source already compiled is not compiled again.

The source is the same text from run to run for the same plan, so the sources of the write last
planned are kept (`keep_the_code`, only when the audit's form changed: a new judging or another
layout of the cohort), and the next audit compiles them on the warm-up's thread while it reads
its cohort (`compile_kept_code`); its write then finds them compiled. Only the cache is touched:
a source is looked up by its whole text, so a kept source that no longer matches is compiled
for nothing and the write compiles its own, as before. Nothing is run and nothing is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from earlypath.records.plan_cache import load_plan, plan_key, save_plan

__all__ = ["LAST_CODE", "compile_kept_code", "generated_sources", "keep_the_code"]

# The kept plan that holds the write's sources last planned (any input): {"form", "sources"}.
LAST_CODE = "audit-spark-code-last/1"


def _last_code_key() -> str:
    import pyspark

    return plan_key(LAST_CODE, pyspark.__version__)


def kept_sources() -> list[str]:
    """The sources kept by the last audit that planned a write (none when none is kept)."""
    kept = load_plan(_last_code_key())
    sources = None if kept is None else kept.get("sources")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        return []
    return sources


def keep_the_code(form: str | None, plan_of: Callable[[], Any]) -> None:
    """Keep the sources of the write's whole-stage code when ``form`` (the judging's key and
    the cohort's layout, `earlypath.audit.load.loaded_layout`) is not the form kept: then
    ``plan_of()`` gives the write's planned Spark plan (a Java ``SparkPlan``). ``form`` None
    (a FHIR export: a plan of its own each time) keeps nothing. Never raises: a failure only
    leaves the next audit's compile as cold as without it."""
    if form is None:
        return
    key = _last_code_key()
    kept = load_plan(key)
    if kept is not None and kept.get("form") == form:
        return
    with contextlib.suppress(Exception):
        save_plan(key, {"form": form, "sources": generated_sources(plan_of())})


def generated_sources(plan: Any) -> list[str]:
    """The Java source of each whole-stage code stage of the Java ``SparkPlan`` ``plan``, as
    Spark compiles it (comments stripped), from the top stage down."""
    sources: list[str] = []
    pending = [plan]
    while pending:
        node = pending.pop()
        if node.getClass().getSimpleName() == "WholeStageCodegenExec":
            sources.append(str(node.doCodeGen()._2().body()))
        children = node.children()
        pending.extend(reversed([children.apply(i) for i in range(children.size())]))
    return sources


def compile_kept_code(session: Any, sources: list[str]) -> None:
    """Compile ``sources`` with Spark's code generator (into its cache of compiled classes) on
    ``session``'s JVM, as the driver compiles a stage's source before running it. Never raises:
    a source that no longer compiles is only not cached."""
    jvm = session._jvm
    codegen = jvm.org.apache.spark.sql.catalyst.expressions.codegen
    no_comments = getattr(getattr(jvm.scala.collection.immutable, "Map$"), "MODULE$").empty()
    for source in sources:
        with contextlib.suppress(Exception):
            codegen.CodeGenerator.compile(codegen.CodeAndComment(source, no_comments))
