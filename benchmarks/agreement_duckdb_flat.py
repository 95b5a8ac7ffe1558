"""The DuckDB half of `tests/audit/test_spark_agreement.py`'s `audited` fixture, two ways (stop
50): the DuckDB audit with its flat rows fetched from the view it flattened the export into
(the fixture now), against the DuckDB audit then a second `read_fhir_export` for the flat rows
(the fixture before). One process: a first audit compiles the plans, then the two ways in turn,
twice, each its process CPU seconds; last, whether both ways gave the same flat rows.

    EARLYPATH_PLAN_CACHE=/tmp/plans PYTHONPATH=. .venv/bin/python benchmarks/agreement_duckdb_flat.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import ibis

import earlypath.audit.fhir_flat as fhir_flat
import earlypath.audit.fhir_read as fhir_read
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.run import run_audit
from tests.audit import test_spark_agreement as agreement

Rows = list[dict[str, Any]]


def audit_keeping_the_flat_rows(folder: Path, out: Path) -> Rows:
    rows: Rows = []
    flatten = fhir_read.flatten_fhir_duckdb

    def flatten_and_keep(con: Any, source: Any, name: str) -> Any:
        reading = flatten(con, source, name)
        rows.extend(con.table(name).to_pyarrow().to_pylist())
        return reading

    fhir_read.flatten_fhir_duckdb = flatten_and_keep
    try:
        run_audit(folder, out, engine="duckdb")
    finally:
        fhir_read.flatten_fhir_duckdb = flatten
    return rows


def audit_then_read_again(folder: Path, out: Path) -> Rows:
    run_audit(folder, out, engine="duckdb")
    export = discover_export(folder, fhir_flat.RESOURCES)
    flat, _ = fhir_read.read_fhir_export(ibis.duckdb.connect(), export, "flat")
    return list(flat.to_pyarrow().to_pylist())


def main() -> None:
    root = Path(tempfile.mkdtemp())
    folder = root / "in"
    agreement._write({name: files(root) for name, (files, _) in agreement.AUDITED.items()}, folder)
    cpu = time.process_time()
    audit_then_read_again(folder, root / "warm")
    print(f"first (plans compiled or loaded): CPU {time.process_time() - cpu:.1f} s")
    got: dict[str, dict[str, Any]] = {}
    for run in (1, 2):
        for name, way in (
            ("kept", audit_keeping_the_flat_rows),
            ("read again", audit_then_read_again),
        ):
            cpu = time.process_time()
            rows = way(folder, root / f"{name}-{run}".replace(" ", "-"))
            print(f"{name} {run}: CPU {time.process_time() - cpu:.1f} s, {len(rows)} flat rows")
            got[name] = {r["episode_id"]: r for r in rows}
    print(f"the same flat rows: {got['kept'] == got['read again']}")


if __name__ == "__main__":
    main()
