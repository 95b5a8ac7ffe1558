"""Speed and memory of reading a FHIR bulk export for the audit (`flatten_fhir_duckdb`).

Writes a synthetic export (`earlypath.synth.fhir_export`) of N patients, then measures, each in
a fresh process so that its peak memory is its own:

- read: DuckDB just reading the same NDJSON files (``SELECT count(*) FROM read_json_objects``),
  the floor any reading of them stands on;
- flatten: the audit's flattening into the flat cohort form (every encounter's facts).

It prints patients/s, the ratio flatten / read from the same run, and each step's peak RSS.
Run it against another checkout by putting that checkout first on PYTHONPATH (before/after):

    PYTHONPATH=$PWD python benchmarks/bench_fhir_audit.py --patients 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(step: str, folder: Path, threads: int) -> dict[str, float]:
    import earlypath.fhir  # noqa: F401 (the package's import order)
    from earlypath.audit.load import duckdb_connect

    con = duckdb_connect()
    con.raw_sql(f"SET threads = {threads}")
    files = sorted(str(p) for p in folder.glob("*.ndjson"))
    started = time.perf_counter()
    if step == "read":
        listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        con.con.sql(
            f"SELECT count(*) FROM read_json_objects({listed}, format = 'newline_delimited')"
        ).fetchall()
    else:
        from earlypath.audit.fhir_read import flatten_fhir_duckdb

        reading = flatten_fhir_duckdb(con, folder, "flat")
        con.con.sql("SELECT count(*) FROM flat_t").fetchall()
        assert reading.encounters > 0
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="reuse (or keep) the export here")
    parser.add_argument("--one", choices=("read", "flatten"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-fhir-")) / "export"
    if args.one:
        print(json.dumps(_one(args.one, folder, args.threads)))
        return
    if not (folder / "Encounter.ndjson").exists():
        from earlypath.synth.cohort import generate_chunks
        from earlypath.synth.fhir_export import write_fhir

        write_fhir(generate_chunks(args.patients, seed=7), folder)
    size = sum(p.stat().st_size for p in folder.glob("*.ndjson")) / 1e6
    print(f"export: {args.patients:,} patients, {size:,.0f} MB of NDJSON, {args.threads} threads")
    out = {}
    for step in ("read", "flatten"):
        command = [sys.executable, __file__, "--one", step, "--folder", str(folder)]
        command += ["--threads", str(args.threads)]
        result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        if result.returncode:
            sys.exit(result.stderr)
        out[step] = json.loads(result.stdout.strip().splitlines()[-1])
        rate = args.patients / out[step]["seconds"]
        print(
            f"{step:8} {out[step]['seconds']:7.2f} s  {rate:10,.0f} patients/s  "
            f"peak {out[step]['peak_mb']:7,.0f} MB"
        )
    ratio = out["flatten"]["seconds"] / out["read"]["seconds"]
    print(f"flatten / read: {ratio:.1f}x (same run)")


if __name__ == "__main__":
    main()
