"""The Java code Spark generates for the judging's write, kept between runs and compiled beside
the write's planning.

Before the judging's one job starts, Spark's driver optimises and plans the write, generates the
Java source of each whole-stage code stage and compiles it with Janino, all on the thread that
serves Python's calls: the serial chain a second core cannot shorten. The compile was about
0.2-0.3 CPU s of the chain's 0.7-0.8 s between the write's call and its job at 1M rows, most of
it Janino starting cold in a fresh JVM (docs/speed.md, Spark eighteenth and twentieth rounds).
Spark keeps each compiled class in a cache keyed by its source text (and the calling thread's
class loader, the same for every thread that serves Python), and a compile asked for a source
that another thread is compiling waits for that one: a source is never compiled twice.

The sources are the same text from run to run for the same plan, so the sources of the write
last planned are kept with their form (`keep_the_code`: the judging's key and the cohort's
layout, `earlypath.audit.load.loaded_layout`), and the next audit of the same form compiles them
on a thread of its own as soon as its judging's SQL is analysed (`compile_in_thread`), while
the chain optimises and plans the write; the write then finds them compiled, or being compiled.
(Started earlier, beside the cohort's reading, the compile competed with the reading and the
analysis for the second core and the JIT and took back what it saved: the eighteenth round.)
Only the cache is touched: nothing is run and nothing is written, and a source is looked up by
its whole text, so a kept source that no longer matches is only compiled for nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from earlypath.records.plan_cache import load_plan, plan_key, save_plan

__all__ = ["LAST_CODE", "compile_in_thread", "generated_sources", "keep_the_code", "kept_code"]

# The kept plan that holds the write's sources last planned (any input): {"form", "sources"}.
LAST_CODE = "audit-spark-code-last/1"


def _last_code_key() -> str:
    import pyspark

    return plan_key(LAST_CODE, pyspark.__version__)


def kept_code(form: str | None) -> list[str]:
    """The sources kept by the last audit that planned a write, if it was of ``form``; else
    none (no form: a FHIR export; nothing kept; another form, whose code would not match)."""
    if form is None:
        return []
    kept = load_plan(_last_code_key())
    if kept is None or kept.get("form") != form:
        return []
    sources = kept.get("sources")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        return []
    return sources


def keep_the_code(form: str | None, kept: list[str], plan_of: Callable[[], Any]) -> None:
    """Keep the sources of the write's whole-stage code for ``form`` when none were kept for it
    (``kept`` empty: `kept_code` found none); ``plan_of()`` gives the write's planned Spark plan
    (a Java ``SparkPlan``). ``form`` None (a FHIR export: a plan of its own each time) keeps
    nothing. Never raises: a failure only leaves the next audit's compile as cold as before."""
    if form is None or kept:
        return
    with contextlib.suppress(Exception):
        save_plan(_last_code_key(), {"form": form, "sources": generated_sources(plan_of())})


def generated_sources(plan: Any) -> list[str]:
    """The Java source of each whole-stage code stage of the Java ``SparkPlan`` ``plan``, as
    Spark compiles it (comments stripped), from the top stage down (the order the write
    compiles them in)."""
    sources: list[str] = []
    pending = [plan]
    while pending:
        node = pending.pop()
        if node.getClass().getSimpleName() == "WholeStageCodegenExec":
            sources.append(str(node.doCodeGen()._2().body()))
        children = node.children()
        pending.extend(reversed([children.apply(i) for i in range(children.size())]))
    return sources


def compile_in_thread(session: Any, sources: list[str]) -> threading.Thread | None:
    """Compile ``sources`` with Spark's code generator (into its cache of compiled classes) on
    ``session``'s JVM, in a thread of its own that nobody waits for (None when there are no
    sources). Never raises: a source that no longer compiles is only not cached."""
    if not sources:
        return None
    thread = threading.Thread(
        target=_compile, args=(session, sources), name="earlypath-code-compile", daemon=True
    )
    thread.start()
    return thread


def _compile(session: Any, sources: list[str]) -> None:
    with contextlib.suppress(Exception):
        codegen = session._jvm.org.apache.spark.sql.catalyst.expressions.codegen
        immutable = session._jvm.scala.collection.immutable
        no_comments = getattr(getattr(immutable, "Map$"), "MODULE$").empty()
        for source in sources:
            with contextlib.suppress(Exception):
                codegen.CodeGenerator.compile(codegen.CodeAndComment(source, no_comments))
