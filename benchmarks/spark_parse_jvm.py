"""What Spark's SQL parser alone costs the driver JVM on a kept reading plan (stop 53).

Every statement of a Spark plan kept by `earlypath.records.plan_cache` (a ``<key>.json`` of the
plan folder whose SQL quotes names in backticks) is parsed by the session's own parser
(``sessionState().sqlParser().parsePlan``: no table is looked up, nothing is analysed or run),
on a ``local[2]`` session with the tests' settings (the audit's local settings, 4g) and any
extra JVM options. It prints the JVM's CPU seconds for the parse, each collector's count and
pause seconds (the JVM's MX beans), and the heap in use after a full collection: what the
parser's ANTLR caches keep (ANTLR keeps the prediction DFA of every statement it parsed, for the
whole JVM).

    PYTHONPATH=.:benchmarks .venv/bin/python benchmarks/spark_parse_jvm.py <plan.json> \\
        [--clear] [--jvm=-XX:MaxTenuringThreshold=1]

``--clear`` empties the parser's DFA after each statement (what a session that releases the
cache would pay in parse CPU). One run a process: the JVM's options are read when it starts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from spark_shared import jvm_cpu, local_session


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("plan", type=Path, help="a kept Spark plan (<key>.json)")
    args.add_argument("--clear", action="store_true", help="clear the DFA after each statement")
    args.add_argument("--jvm", default="", help="extra JVM options (written --jvm=-XX:...)")
    opts = args.parse_args()
    statements = [sql for _, sql in json.loads(opts.plan.read_text(encoding="utf-8"))["statements"]]
    if not any("`" in sql for sql in statements):
        raise SystemExit(f"{opts.plan}: not a Spark plan (no name quoted in backticks)")
    extra = {}
    if opts.jvm:
        from earlypath.audit.load import LOCAL_JVM_OPTIONS

        extra["spark.driver.extraJavaOptions"] = f"{LOCAL_JVM_OPTIONS} {opts.jvm}"
    session = local_session("4g", "earlypath-parse", extra)
    jvm = session._jvm
    parser = session._jsparkSession.sessionState().sqlParser()
    # the generated parser's DFA array is shared by every parser of the JVM (static): clearing
    # it through one parser's simulator clears the cache Spark's parser uses
    simulator = jvm.org.apache.spark.sql.catalyst.parser.SqlBaseParser(None).getInterpreter()
    beans = jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    cpu, wall = jvm_cpu(session), time.perf_counter()
    for sql in statements:
        # placeholders of table names (`@in_x@`) are no SQL: any name parses alike
        parser.parsePlan(sql.replace("@", "x"))
        if opts.clear:
            simulator.clearDFA()
    cpu, wall = jvm_cpu(session) - cpu, time.perf_counter() - wall
    collectors = ", ".join(
        f"{b.getName()} {b.getCollectionCount()} ({b.getCollectionTime() / 1000:.1f} s)"
        for b in beans
    )
    jvm.java.lang.System.gc()
    runtime = jvm.java.lang.Runtime.getRuntime()
    held = (runtime.totalMemory() - runtime.freeMemory()) // 2**20
    print(
        f"{len(statements)} statements parsed{' (DFA cleared each)' if opts.clear else ''}: "
        f"JVM CPU {cpu:.1f} s, wall {wall:.1f} s; collections {collectors}; "
        f"heap held after a full collection {held} MB"
    )
    session.stop()


if __name__ == "__main__":
    main()
