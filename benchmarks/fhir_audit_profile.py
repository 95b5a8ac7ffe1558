"""Where the FHIR audit's flattening spends its CPU, statement by statement and operator by
operator (docs/speed.md, "The FHIR audit", the profiles of rounds 2-10).

Flattens an export (`flatten_fhir_duckdb`; a folder written by ``bench_fhir_audit.py
--folder``, or a new synthetic one of ``--patients``) with every statement it sends timed (CPU
seconds of all threads) and profiled by DuckDB (``PRAGMA enable_profiling = 'json'``, one
output file a statement). Prints the ``--top`` costliest statements, each with its largest
operators (the profiler's seconds, summed over threads and inflated by profiling itself: for
ranking only). Not a ``bench_*.py``: it takes arguments and is not run by ``make bench``.

    PYTHONPATH=$PWD python benchmarks/fhir_audit_profile.py --folder /tmp/e100k --top 8
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def _operators(node: dict[str, Any], out: list[tuple[float, str]]) -> None:
    name = node.get("name") or node.get("operator_name") or "?"
    timing = node.get("timing", node.get("operator_timing", 0.0)) or 0.0
    out.append((float(timing), str(name).strip()))
    for child in node.get("children", []):
        _operators(child, out)


def _largest_operators(path: Path, n: int) -> list[tuple[float, str]]:
    try:
        profile = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    found: list[tuple[float, str]] = []
    for root in profile.get("operator", profile.get("children", [])):
        _operators(root, found)
    return sorted(found, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="the export (written if missing)")
    parser.add_argument("--patients", type=int, default=20_000, help="when writing one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=8, help="statements shown")
    parser.add_argument("--operators", type=int, default=5, help="operators shown a statement")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="fhir-profile-")) / "export"
    if not (folder / "Encounter.ndjson").exists():
        from earlypath.synth.cohort import generate_chunks
        from earlypath.synth.fhir_export import write_fhir

        write_fhir(generate_chunks(args.patients, seed=7), folder)

    import earlypath.fhir  # noqa: F401 (the package's import order)
    from earlypath.audit.fhir_read import flatten_fhir_duckdb
    from earlypath.audit.load import duckdb_connect

    con = duckdb_connect()
    con.raw_sql(f"SET threads = {args.threads}")
    profiles = Path(tempfile.mkdtemp(prefix="fhir-profile-json-"))
    send = con.raw_sql
    spent: list[tuple[float, int, str]] = []

    def raw_sql(sql: str, *a: Any, **k: Any) -> Any:
        n = len(spent)
        # only statements that make a table: a query's result is read from the connection
        # after it returns, and the PRAGMA after it would replace that result
        profiled = sql.lstrip().upper().startswith("CREATE")
        if profiled:
            con.con.execute("PRAGMA enable_profiling = 'json'")
            con.con.execute(f"SET profiling_output = '{profiles / f'{n}.json'}'")
        cpu = time.process_time()
        try:
            return send(sql, *a, **k)
        finally:
            spent.append((time.process_time() - cpu, n, " ".join(sql.split())[:100]))
            if profiled:
                con.con.execute("PRAGMA disable_profiling")

    con.raw_sql = raw_sql
    started = time.process_time()
    flatten_fhir_duckdb(con, folder, "flat")
    total = time.process_time() - started
    in_statements = sum(c for c, _, _ in spent)
    print(f"{total:.2f} CPU s in all, {in_statements:.2f} in {len(spent)} statements")
    for cpu, n, sql in sorted(spent, reverse=True)[: args.top]:
        print(f"{cpu:6.2f}  {sql}")
        for seconds, name in _largest_operators(profiles / f"{n}.json", args.operators):
            print(f"        {seconds:6.2f}  {name}")


if __name__ == "__main__":
    main()
