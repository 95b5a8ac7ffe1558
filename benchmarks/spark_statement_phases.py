"""Where the Spark compiled reading's JVM CPU goes, statement by statement (stop 47).

Builds `tests/audit/test_spark_reading_agreement.py`'s one export (every READ scenario and the
60 synthetic women), reads it on Spark as its `read` fixture does (interpreted, the shared test
session's settings, plus any ``SPARK_EXTRA`` ``key=value;key=value``), and reports: the driver
JVM's CPU seconds for the whole reading, the seconds of each Catalyst phase summed over the
statements (parse, analysis, optimisation, planning; from each query's `QueryPlanningTracker`),
the rest (execution), the number of Spark jobs, and the ten optimizer/analyzer rules that took
longest (`RuleExecutor.dumpTimeSpent`). A warm plan folder (``EARLYPATH_PLAN_CACHE``) leaves
the Python side's plan compile out; the first run of a folder compiles it.

    EARLYPATH_PLAN_CACHE=/tmp/plans PYTHONPATH=. .venv/bin/python \\
      benchmarks/spark_statement_phases.py [md5-out-file]

The driver JVM's own options, read only when it starts (stop 48): ``JVM_EXTRA`` is added to the
audit's `LOCAL_JVM_OPTIONS` and ``JVM_REPLACE="old=>new"`` replaces one of them (a collector
for another); ``PYSPARK_SUBMIT_ARGS="--driver-memory 3g pyspark-shell"`` sizes the heap. The
last lines give the whole JVM's CPU (its start included) and each collector's count and time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ibis
from spark_shared import jvm_cpu, reading_export

import earlypath.records.ibis_compile as ibis_compile
from tests import conftest_spark
from tests.conftest_spark import INTERPRETED, session_settings
from tests.fhir_exports import export_merges, write_export
from tests.records.test_ibis_export import compiled_reading, fetched


def gc_and_jit(session: Any) -> tuple[float, float]:
    """The JVM's collection seconds and its JIT compilers' seconds so far."""
    management = session._jvm.java.lang.management.ManagementFactory
    gc = sum(bean.getCollectionTime() for bean in management.getGarbageCollectorMXBeans())
    return gc / 1e3, management.getCompilationMXBean().getTotalCompilationTime() / 1e3


def the_export(root: Path) -> tuple[Path, Any]:
    whole = reading_export(root)
    return write_export(whole, root / "in"), export_merges(whole)


def jvm_options_from_env() -> None:
    """``JVM_REPLACE`` and ``JVM_EXTRA`` applied to the options the tests' session starts with."""
    import earlypath.audit.load as load

    replace = os.environ.get("JVM_REPLACE")
    if replace:
        old, new = replace.split("=>", 1)
        if old not in load.LOCAL_JVM_OPTIONS:
            raise SystemExit(f"JVM_REPLACE: {old!r} is not among {load.LOCAL_JVM_OPTIONS!r}")
        load.LOCAL_JVM_OPTIONS = load.LOCAL_JVM_OPTIONS.replace(old, new)
    extra = os.environ.get("JVM_EXTRA")
    if extra:
        load.LOCAL_JVM_OPTIONS = f"{load.LOCAL_JVM_OPTIONS} {extra}"


def whole_jvm(session: Any) -> str:
    """The JVM's CPU since it started, its collectors' counts and milliseconds, its options."""
    management = session._jvm.java.lang.management.ManagementFactory
    collectors = ", ".join(
        f"{b.getName()} {b.getCollectionCount()} x {b.getCollectionTime() / 1e3:.1f} s"
        for b in management.getGarbageCollectorMXBeans()
    )
    options = " ".join(management.getRuntimeMXBean().getInputArguments())
    return f"whole JVM: CPU {jvm_cpu(session):.1f} s; {collectors}; options {options}"


def main() -> None:
    jvm_options_from_env()
    session = conftest_spark.spark_session()
    extra = dict(
        item.split("=", 1) for item in os.environ.get("SPARK_EXTRA", "").split(";") if item
    )
    jvm = session._jvm
    rules = jvm.org.apache.spark.sql.catalyst.rules.RuleExecutor
    phases: dict[str, float] = {}
    statements = [0]
    store = ibis_compile._store

    def timed_store(con: Any, table: str, sql: str) -> None:
        if con.name != "pyspark":
            return store(con, table, sql)
        statements[0] += 1
        start = time.perf_counter()
        before = con._session.sql
        made: list[Any] = []

        def sql_kept(text: str) -> Any:
            cpu = jvm_cpu(con._session)
            df = before(text)
            phases["jvm cpu in sql()"] = phases.get("jvm cpu in sql()", 0.0) + (
                jvm_cpu(con._session) - cpu
            )
            made.append(df)
            return df

        con._session.sql = sql_kept
        cpu = jvm_cpu(con._session)
        try:
            store(con, table, sql)
        finally:
            con._session.sql = before
        phases["jvm cpu"] = phases.get("jvm cpu", 0.0) + jvm_cpu(con._session) - cpu
        phases["wall"] = phases.get("wall", 0.0) + time.perf_counter() - start
        for df in made:
            tracker = df._jdf.queryExecution().tracker().phases()
            for name in ("parsing", "analysis", "optimization", "planning"):
                if tracker.contains(name):
                    s = tracker.apply(name)
                    phases[name] = phases.get(name, 0.0) + (s.endTimeMs() - s.startTimeMs()) / 1e3

    ibis_compile._store = timed_store
    with tempfile.TemporaryDirectory() as tmp:
        folder, merges = the_export(Path(tmp))
        with session_settings(session, {**INTERPRETED, **extra}):
            rules.resetMetrics()
            gc, jit = gc_and_jit(session)
            cpu, wall = jvm_cpu(session), time.perf_counter()
            got = fetched(compiled_reading(ibis.pyspark.connect(session), folder, "sp", merges))
            cpu, wall = jvm_cpu(session) - cpu, time.perf_counter() - wall
            gc2, jit2 = gc_and_jit(session)
            jobs = len(session.sparkContext.statusTracker().getJobIdsForGroup(None))
    ibis_compile._store = store
    # (the problems in a fixed order: a reading gives them in no order, and every check sorts)
    rows, problems = got
    problems = sorted(problems, key=lambda p: json.dumps(p, sort_keys=True, default=str))
    got = (rows, problems)
    digest = hashlib.md5(json.dumps(got, sort_keys=True, default=str).encode()).hexdigest()
    print(f"settings {extra or '(the tests)'}")
    print(
        f"reading: JVM CPU {cpu:.1f} s, wall {wall:.1f} s, {statements[0]} statements, "
        f"~{jobs} jobs, rows md5 {digest} ({len(got[0])} episodes, {len(got[1])} problems)"
    )
    print("  ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    print(f"GC {gc2 - gc:.1f} s (pause wall), JIT compiling {jit2 - jit:.1f} s (thread time)")
    dump = str(rules.dumpTimeSpent())
    lines = dump.splitlines()
    print("\n".join(lines[:60]))
    print(whole_jvm(session))
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(got, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
