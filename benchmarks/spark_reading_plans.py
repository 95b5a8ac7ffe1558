"""What Spark's planner does with each statement of the compiled record reading: the export of
the Spark reading agreement test's `read` fixture (tests/audit/test_spark_reading_agreement.py:
the 60 synthetic women and every read scenario, namespaced, in one export), read by the compiled
definition on a local Spark session as that fixture reads it, each statement's time to analyse
and optimise (Catalyst, in the driver) and to run (`localCheckpoint`), and the size of its
optimised plan.

Run from a checkout: PYTHONPATH=. .venv/bin/python benchmarks/spark_reading_plans.py
(another checkout: PYTHONPATH=<it>, run from it). Prints one line per statement as it goes
(so a statement that never finishes is the last printed), then the totals and the six largest
plans. ``--scenarios a,b`` reads only those read scenarios (with ``synthetic`` for the 60
women); ``--memory 2g`` is the test session's driver memory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["EARLYPATH_PLAN_CACHE"] = "off"  # compile here, never replay a kept plan

import ibis  # noqa: E402
from spark_shared import local_session, reading_export  # noqa: E402

import earlypath.records.ibis_compile as ibis_compile  # noqa: E402
import tests.audit.test_spark_reading_agreement as agreement  # noqa: E402
from tests.fhir_exports import export_merges, write_export  # noqa: E402
from tests.records.test_ibis_export import compiled_reading, fetched  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default=",".join([agreement.SYNTHETIC, *agreement.READ]))
    parser.add_argument("--memory", default="2g")
    args = parser.parse_args()
    spark = local_session(args.memory, "earlypath-plans")
    root = Path(tempfile.mkdtemp())
    whole = reading_export(root, args.scenarios.split(","))
    folder = write_export(whole, root / "in")
    rows: list[tuple[str, int, int, float, float, float]] = []

    def store(con: Any, table: str, sql: str) -> None:
        if con.name != "pyspark":
            return stored(con, table, sql)
        # as `_store` plans it (the checkout's own settings for the reading's statements)
        guard = getattr(ibis_compile, "_no_constraint_propagation", None)
        with guard(con._session) if guard is not None else contextlib.nullcontext():
            return measured(con, table, sql)

    def measured(con: Any, table: str, sql: str) -> None:
        t0 = time.process_time(), time.perf_counter()
        df = con._session.sql(sql)
        t1 = time.perf_counter()
        plan = df._jdf.queryExecution().optimizedPlan()
        text = plan.treeString()
        t2 = time.perf_counter()
        df.localCheckpoint(eager=True).createOrReplaceTempView(table)
        t3 = time.perf_counter()
        row = (table, len(sql), len(text), t1 - t0[1], t2 - t1, t3 - t2)
        rows.append(row)
        print(
            f"{row[0][-44:]:<44} sql {row[1]:>8,} plan {row[2]:>10,}"
            f"  analyse {row[3]:6.2f}s optimise {row[4]:6.2f}s run {row[5]:6.2f}s",
            flush=True,
        )

    stored = ibis_compile._store
    ibis_compile._store = store  # type: ignore[assignment]
    start = time.perf_counter()
    got = fetched(compiled_reading(ibis.pyspark.connect(spark), folder, "sp", export_merges(whole)))
    total = time.perf_counter() - start
    print(f"\n{len(rows)} statements; reading and fetching {total:.1f} s wall")
    print(
        f"analyse {sum(r[3] for r in rows):.1f} s, optimise {sum(r[4] for r in rows):.1f} s, "
        f"run {sum(r[5] for r in rows):.1f} s; optimised plans "
        f"{sum(r[2] for r in rows):,} characters in all; {len(got[0])} episodes"
    )
    for r in sorted(rows, key=lambda r: -r[2])[:6]:
        print(f"{r[2]:>10,}  {r[0]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
