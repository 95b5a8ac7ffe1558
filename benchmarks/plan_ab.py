"""Two kept reading plans, A and B, timed in turn in one process on one export (stop 51, w-duck51).

A change to how the reading's SQL is written gives it a new plan (the package's source is in
the plan's key), so two checkouts' plans can be compared on the same statements run the same
way: each reading here is `flatten_fhir_duckdb` with the reading's plan (the kept plan that
makes the clinical rows) taken from file A or B, the others as kept. Its CPU
(``time.process_time``, the fetch of the flat rows included) is paired, in the order A B, B A,
...; the flat rows of every reading must be the same. On a loaded machine a pair in one
process moves with the load less than two processes do.

    EARLYPATH_PLAN_CACHE=/tmp/plans PYTHONPATH=. .venv/bin/python benchmarks/plan_ab.py \\
        BASE_PLAN.json BRANCH_PLAN.json [--rounds 6] [--folder EXPORT]

Without ``--folder``, a 1-woman export (seed 7) as `warm_reading_phases.py` writes it. The
plans must be of that export's shape (the largest file of each plan folder after a reading).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.records import ibis_compile, plan_cache
from earlypath.synth import write_cohort

_KEPT = plan_cache.load_plan


def _reading_plan(kept: dict[str, Any]) -> bool:
    return any("_clinical_" in table for table, _ in kept.get("statements", []))


def one_reading(folder: Path, plan: dict[str, Any]) -> tuple[float, list[tuple[Any, ...]]]:
    """One warm reading with ``plan`` as the reading's: its CPU seconds and its flat rows."""

    def load(key: str) -> dict[str, Any] | None:
        kept = _KEPT(key)
        return plan if kept is not None and _reading_plan(kept) else kept

    plan_cache.load_plan = load
    ibis_compile._PLANS.clear()
    con = duckdb_connect()
    start = time.process_time()
    flatten_fhir_duckdb(con, folder, "flat")
    rows = con.raw_sql("SELECT * FROM flat ORDER BY row_number").fetchall()
    spent = time.process_time() - start
    con.disconnect()
    return spent, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    plans = {"A": json.loads(args.a.read_text()), "B": json.loads(args.b.read_text())}
    folder = args.folder
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="plan-ab-")) / "one"
        write_cohort(1, 7, "fhir-ndjson", folder)
    first = one_reading(folder, plans["A"])[1]
    one_reading(folder, plans["B"])  # both warm
    times: dict[str, list[float]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for label in "AB" if r % 2 == 0 else "BA":
            spent, rows = one_reading(folder, plans[label])
            if rows != first:
                raise SystemExit(f"plan {label}'s flat rows differ from A's (round {r})")
            times[label].append(spent)
    ratios = [b / a for a, b in zip(times["A"], times["B"], strict=True)]
    print(
        json.dumps(
            {
                "rows": len(first),
                "A": [round(t, 3) for t in times["A"]],
                "B": [round(t, 3) for t in times["B"]],
                "median_A": round(statistics.median(times["A"]), 3),
                "median_B": round(statistics.median(times["B"]), 3),
                "median_B_over_A": round(statistics.median(ratios), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
