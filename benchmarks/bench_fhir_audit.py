"""Speed and memory of reading a FHIR bulk export for the audit (`flatten_fhir_duckdb`).

Writes a synthetic export (`earlypath.synth.fhir_export`) of N patients, then measures, each in
a fresh process so that its peak memory is its own:

- read: DuckDB just reading the same NDJSON files (``SELECT count(*) FROM read_json_objects``),
  the floor any reading of them stands on;
- flatten: the audit's flattening into the flat cohort form (every encounter's facts).

It prints patients/s, the ratio flatten / read from the same run, each step's peak RSS and its
CPU seconds (all threads: on a shared machine the wall time says more about the neighbours).
``--before DIR`` also runs the flattening of another checkout (DIR first on PYTHONPATH) in the
same run, for before/after figures:

    PYTHONPATH=$PWD python benchmarks/bench_fhir_audit.py --patients 100000 --before /work/main
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
    started, cpu = time.perf_counter(), time.process_time()
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
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "peak_mb": _peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="reuse (or keep) the export here")
    parser.add_argument("--before", type=Path, help="also flatten with this checkout")
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
    runs = [("read", "read", None), ("flatten", "flatten", None)]
    if args.before:
        runs.insert(1, ("before", "flatten", args.before))
    out = {}
    for label, step, checkout in runs:
        command = [sys.executable, __file__, "--one", step, "--folder", str(folder)]
        command += ["--threads", str(args.threads)]
        env = os.environ.copy()
        if checkout is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(checkout), env.get("PYTHONPATH", "")])
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode:
            sys.exit(result.stderr)
        out[label] = json.loads(result.stdout.strip().splitlines()[-1])
        rate = args.patients / out[label]["seconds"]
        print(
            f"{label:8} {out[label]['seconds']:7.2f} s  {rate:10,.0f} patients/s  "
            f"cpu {out[label]['cpu']:7.2f} s  peak {out[label]['peak_mb']:7,.0f} MB"
        )
    for label in ("before", "flatten"):
        if label in out:
            wall = out[label]["seconds"] / out["read"]["seconds"]
            cpu = out[label]["cpu"] / out["read"]["cpu"]
            print(f"{label} / read: {wall:.1f}x wall, {cpu:.1f}x cpu (same run)")


if __name__ == "__main__":
    main()
