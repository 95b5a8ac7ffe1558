"""The fixed cost of a small FHIR audit (issue 16, stop 52): where one warm audit of a 3-woman
export spends its CPU.

Writes an export of ``--women`` women (``tests/audit/test_fhir_bulk_export.py``'s
``_minimal``: a Patient, an Encounter and an LMP Observation each, an empty Condition file),
audits it once (its plan compiled or read from ``EARLYPATH_PLAN_CACHE``), then ``--audits`` times more, each timed in CPU seconds
(this process's, DuckDB's threads included) with:

- the SQL statements the audit sends (`PlainDuckDB.raw_sql`), their count and CPU, by kind
  (the first words of each) and by the resource types each reads;
- what ibis does between them: its compiles (``Backend.compile``) and column types parsed
  (the DuckDB type mapper's ``from_string``);
- the rest (Python: building expressions, writing the outputs).

And the same run's baseline: DuckDB reading the same NDJSON files (``read_json_auto``, a count
each) on a new connection, as many times; the ratio of an audit to it is printed. Not a
``bench_*.py``: it takes arguments and is not run by ``make bench``.

    PYTHONPATH=$PWD python benchmarks/fhir_audit_fixed_cost.py --audits 3
"""

from __future__ import annotations

import argparse
import collections
import re
import resource
import statistics
import tempfile
from pathlib import Path
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_export(folder: Path, women: int) -> Path:
    """``women`` women, each with an encounter and an LMP: every encounter an episode (the bulk
    export tests' ``_minimal``, written as they write it)."""
    from tests.audit.test_fhir_bulk_export import _minimal, _write

    return _write(folder, {f"{k}.ndjson": v for k, v in _minimal(women).items()})


class _Counts:
    """Statements, ibis compiles and type parses, counted while an audit runs."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str]] = []
        self.compiles = 0
        self.compile_cpu = 0.0
        self.parses = 0

    def install(self) -> None:
        from ibis.backends.duckdb import Backend
        from ibis.backends.sql.datatypes import DuckDBType

        from earlypath.audit import sql_table

        raw_sql = sql_table.PlainDuckDB.raw_sql
        compile_ = Backend.compile
        from_string = DuckDBType.from_string.__func__  # type: ignore[attr-defined]
        counts = self

        def timed_sql(con: Any, sql: str) -> Any:
            start = _cpu()
            try:
                return raw_sql(con, sql)
            finally:
                counts.statements.append((_cpu() - start, sql))

        def timed_compile(con: Any, expr: Any, *args: Any, **kwargs: Any) -> Any:
            start = _cpu()
            try:
                return compile_(con, expr, *args, **kwargs)
            finally:
                counts.compiles += 1
                counts.compile_cpu += _cpu() - start

        def counted_parse(cls: Any, text: str, *args: Any, **kwargs: Any) -> Any:
            counts.parses += 1
            return from_string(cls, text, *args, **kwargs)

        sql_table.PlainDuckDB.raw_sql = timed_sql  # type: ignore[method-assign]
        Backend.compile = timed_compile  # type: ignore[method-assign]
        DuckDBType.from_string = classmethod(counted_parse)  # type: ignore[method-assign]

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


def _kind(sql: str) -> str:
    words = " ".join(sql.split()[:3])
    return re.sub(r'"[^"]*"', '"…"', words)[:36]


def _types(sql: str) -> str:
    found = set(re.findall(r"_r_([A-Z][A-Za-z]+)", sql)) | set(
        re.findall(r"'([A-Z][A-Za-z]+)/'", sql)
    )
    return ",".join(sorted(found)) or "(none named)"


def _duckdb_reads(folder: Path) -> None:
    from earlypath.audit.sql_table import PlainDuckDB

    con = PlainDuckDB().con
    for path in sorted(folder.glob("*.ndjson")):
        con.execute(f"SELECT count(*) FROM read_json_auto('{path}')").fetchall()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=3)
    parser.add_argument("--audits", type=int, default=3, help="warm audits timed")
    parser.add_argument("--top", type=int, default=8, help="statement kinds shown")
    parser.add_argument("--quiet", action="store_true", help="audits only, nothing counted")
    args = parser.parse_args()
    import earlypath.fhir  # noqa: F401 (the package's import order)
    from earlypath.audit.run import run_audit

    work = Path(tempfile.mkdtemp(prefix="fhir-fixed-"))
    export = write_export(work / "export", args.women)
    run_audit(export, work / "out-first")  # the plan compiled or read: warm after
    counts = _Counts()
    if not args.quiet:
        counts.install()
    audits: list[float] = []
    statements: list[int] = []
    sql_cpu: list[float] = []
    for i in range(args.audits):
        counts.clear()
        start = _cpu()
        run_audit(export, work / f"out-{i}")
        audits.append(_cpu() - start)
        statements.append(len(counts.statements))
        sql_cpu.append(sum(c for c, _ in counts.statements))
    baseline: list[float] = []
    for _ in range(args.audits):
        start = _cpu()
        _duckdb_reads(export)
        baseline.append(_cpu() - start)
    audit = statistics.median(audits)
    base = statistics.median(baseline)
    print(f"warm audit of {args.women} women: {audit:.3f} CPU s (median of {args.audits})")
    print(f"baseline, DuckDB reading the same files: {base:.3f} CPU s; ratio {audit / base:.1f}")
    if args.quiet:
        return
    print(f"statements: {statements[-1]}, {statistics.median(sql_cpu):.3f} CPU s")
    print(f"ibis compiles: {counts.compiles}, {counts.compile_cpu:.3f} CPU s")
    print(f"DuckDB type texts parsed by ibis: {counts.parses}")
    print(f"the rest (Python): {audit - statistics.median(sql_cpu):.3f} CPU s")
    by_kind: collections.Counter[str] = collections.Counter()
    by_types: collections.Counter[str] = collections.Counter()
    n_kind: collections.Counter[str] = collections.Counter()
    for cpu, sql in counts.statements:
        by_kind[_kind(sql)] += cpu
        n_kind[_kind(sql)] += 1
        by_types[_types(sql)] += cpu
    print("statements by kind (CPU s, count):")
    for kind, cpu in by_kind.most_common(args.top):
        print(f"  {cpu:7.3f} {n_kind[kind]:4d}  {kind}")
    print("statements by the resource types they read (CPU s):")
    for types, cpu in by_types.most_common(args.top):
        print(f"  {cpu:7.3f}  {types}")


if __name__ == "__main__":
    main()
