"""Where the CPU of one warm DuckDB reading of a small FHIR export goes (stop 49, w-warm49).

A "warm" reading is what most audit tests pay many times: the reading's compiled plan is on
disk (and, after the first reading of the process, in memory), and each reading opens a new
DuckDB connection and reads an export of one to a few dozen women
(`earlypath.audit.fhir_read.flatten_fhir_duckdb`, as `tests/audit/test_fhir_*.py` call it).

Printed, per export: the CPU of the process's imports; one warm reading's CPU (median of the
readings after the first) by phase: connecting, the Python steps of the reading
(`load_resources`, the identifier ties, the counts, `run_records`, building the flat table),
and inside them DuckDB's statements by kind (each `raw_sql` timed; these rows overlap the
Python phases that send them); the slowest statements, each against the CPU of planning it
alone (``PREPARE``: parse, bind and optimise, no run); and the ratio of the reading to a
same-run baseline: DuckDB reading the same NDJSON files with ``read_json`` and nothing else.
With ``--plain``, only the whole figures (no timing wrappers).

    EARLYPATH_PLAN_CACHE=/tmp/plans PYTHONPATH=. .venv/bin/python \
        benchmarks/warm_reading_phases.py [--women 1 20] [--readings 7]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_T0 = resource.getrusage(resource.RUSAGE_SELF)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _start_cpu() -> float:
    return _T0.ru_utime + _T0.ru_stime


import duckdb  # noqa: E402

from earlypath.audit.fhir_read import flatten_fhir_duckdb  # noqa: E402
from earlypath.audit.load import duckdb_connect  # noqa: E402
from earlypath.records import ibis_compile, plan_cache  # noqa: E402
from earlypath.synth import write_cohort  # noqa: E402

IMPORTS_CPU = cpu() - _start_cpu()


class Phases:
    """CPU seconds by phase, summed over the timed calls of one reading."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._depth = 0

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if self._depth:  # only the outermost timed call counts (no double counting)
            yield
            return
        self._depth += 1
        start = cpu()
        try:
            yield
        finally:
            self._depth -= 1
            self.seconds[name] += cpu() - start
            self.counts[name] += 1


def _wrap(owner: Any, attr: str, phases: Phases, name: str | Callable[..., str]) -> None:
    original = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        label = name(*args, **kwargs) if callable(name) else name
        with phases.phase(label):
            return original(*args, **kwargs)

    setattr(owner, attr, timed)


def _statement_kind(sql: str) -> str:
    head = sql.lstrip()[:60].upper()
    for kind in ("CREATE OR REPLACE TEMP VIEW", "CREATE OR REPLACE TEMP TABLE", "INSERT"):
        if head.startswith(kind):
            return "sql: " + kind.lower().replace("create or replace ", "")
    if head.startswith("CREATE OR REPLACE TABLE") or head.startswith("CREATE OR REPLACE VIEW"):
        return "sql: load (typed table / view)"
    if head.startswith("DROP"):
        return "sql: drop"
    if head.startswith("SELECT") or head.startswith("WITH"):
        return "sql: select (counts, fetches)"
    return "sql: other (settings)"


def instrument(phases: Phases) -> None:
    """Time the reading's parts in place (the functions the reading looks up at call time)."""
    from earlypath.audit import fhir_read

    _wrap(fhir_read, "load_resources", phases, "load_resources (NDJSON -> typed tables)")
    _wrap(fhir_read, "run_records", phases, "run_records (the plan's statements)")
    _wrap(fhir_read, "counted_joined_tables", phases, "counted_joined_tables")
    _wrap(fhir_read, "identifier_ties", phases, "identifier_ties")
    _wrap(fhir_read, "count_untied_care", phases, "count_untied_care")
    _wrap(fhir_read, "compile_rows", phases, "compile_rows (ibis, audit rows)")
    _wrap(fhir_read, "flat_table", phases, "flat_table (ibis)")
    _wrap(plan_cache, "load_plan", phases, "plan from disk (json)")


class _TimedDuck:
    """Every statement the ibis backend sends to DuckDB, timed by kind."""

    def __init__(self, phases: Phases, by_statement: dict[str, list[float]]) -> None:
        self.phases = phases
        self.by_statement = by_statement

    def install(self, con: Any) -> None:
        original = con.raw_sql
        phases = self.phases
        by_statement = self.by_statement

        def raw_sql(query: Any, **kwargs: Any) -> Any:
            text = query if isinstance(query, str) else str(query)
            start = cpu()
            try:
                return original(query, **kwargs)
            finally:
                spent = cpu() - start
                phases.seconds[_statement_kind(text)] += spent
                phases.counts[_statement_kind(text)] += 1
                by_statement[text[:70]].append(spent)

        con.raw_sql = raw_sql


# the phases of the reading under way (the wrapped functions add to it)
_NOW = Phases()


def one_reading(folder: Path, instrumented: bool) -> tuple[float, Phases, dict[str, list[float]]]:
    phases = _NOW
    phases.seconds, phases.counts = defaultdict(float), defaultdict(int)
    by_statement: dict[str, list[float]] = defaultdict(list)
    start = cpu()
    with phases.phase("connect"):
        con = duckdb_connect()
    if instrumented:
        _TimedDuck(phases, by_statement).install(con)
    flatten_fhir_duckdb(con, folder, "flat")
    with phases.phase("fetch the episodes"):
        con.raw_sql("SELECT * FROM flat ORDER BY row_number").fetchall()
    con.disconnect()
    whole = cpu() - start
    done = Phases()
    done.seconds, done.counts = dict(phases.seconds), dict(phases.counts)
    return whole, done, by_statement


def baseline(folder: Path) -> float:
    """DuckDB reading the same NDJSON files with read_json and nothing else."""
    start = cpu()
    duck = duckdb.connect()
    for path in sorted(folder.glob("*.ndjson")):
        duck.execute(f"SELECT count(*) FROM read_json('{path}', format='newline_delimited')")
        duck.fetchall()
    duck.close()
    return cpu() - start


def _query_of(statement: str) -> str | None:
    """The query a CREATE ... AS or INSERT ... BY NAME statement runs, or None."""
    if statement.startswith("CREATE OR REPLACE") and " AS " in statement:
        return statement.split(" AS ", 1)[1]
    if statement.startswith("INSERT INTO") and " BY NAME " in statement:
        return statement.split(" BY NAME ", 1)[1]
    return None


def split_planning(folder: Path, top: int = 8) -> list[tuple[str, float, float]]:
    """For the slowest statements of one reading: (statement, CPU of the statement, CPU of
    planning its query alone just before it runs: ``PREPARE`` parses, binds and optimises
    without running; the work tables it reads are dropped later in the reading)."""
    captured: list[tuple[float, float, str]] = []
    con = duckdb_connect()
    original = con.raw_sql

    def keep(query: Any, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else str(query)
        body = _query_of(text)
        plan = float("nan")
        if body is not None and len(text) > 2000:
            start = cpu()
            try:
                con.con.execute(f"PREPARE p_w49 AS {body}")
                con.con.execute("DEALLOCATE p_w49")
                plan = cpu() - start
            except duckdb.Error:
                pass
        start = cpu()
        out = original(query, **kwargs)
        captured.append((cpu() - start, plan, text))
        return out

    con.raw_sql = keep
    flatten_fhir_duckdb(con, folder, "flat")
    con.disconnect()
    slowest = sorted(captured, key=lambda c: -c[0])[:top]
    return [(text[:60].replace("\n", " "), spent, plan) for spent, plan, text in slowest]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--women", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--readings", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--plain", action="store_true", help="no instrumentation: whole figures")
    args = parser.parse_args()
    root = args.folder or Path(tempfile.mkdtemp(prefix="warm-reading-"))
    print(f"imports: {IMPORTS_CPU:.3f} CPU s; duckdb {duckdb.__version__}")
    if not args.plain:
        instrument(_NOW)
    for women in args.women:
        folder = root / f"w{women}"
        if not folder.exists():
            write_cohort(women, 7, "fhir-ndjson", folder)
        first, _, _ = one_reading(folder, False)  # warms the plan (disk and memory)
        wholes, bases = [], []
        all_phases: list[Phases] = []
        for _ in range(args.readings):
            bases.append(baseline(folder))
            whole, phases, _ = one_reading(folder, not args.plain)
            wholes.append(whole)
            all_phases.append(phases)
        whole, base = statistics.median(wholes), statistics.median(bases)
        print(
            f"\n{women} women ({sum(1 for _ in folder.glob('*.ndjson'))} files): first reading "
            f"{first:.3f} s; warm reading median {whole:.3f} CPU s over {args.readings}; "
            f"read_json baseline {base:.4f} s; ratio {whole / base:.1f}x"
        )
        if args.plain:
            continue
        names = sorted({n for p in all_phases for n in p.seconds})
        rows = [
            (
                n,
                statistics.median(p.seconds.get(n, 0.0) for p in all_phases),
                statistics.median(p.counts.get(n, 0) for p in all_phases),
            )
            for n in names
        ]
        for name, seconds, count in sorted(rows, key=lambda r: -r[1]):
            print(f"  {seconds:8.3f} s  {seconds / whole:6.1%}  x{count:<4} {name}")
        print("  (sql: rows are DuckDB's own time, also inside the Python phases above them)")
        print("  slowest statements: whole CPU s / planning alone (PREPARE) CPU s")
        for text, spent, plan in split_planning(folder):
            print(f"    {spent:7.3f} {plan:7.3f}  {text}")
    print(json.dumps({"plans_in_process": len(ibis_compile._PLANS)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
