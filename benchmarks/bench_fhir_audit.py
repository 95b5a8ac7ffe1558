"""Speed and memory of reading a FHIR bulk export for the audit (`flatten_fhir_duckdb`).

Writes a synthetic export (`earlypath.synth.fhir_export`) of N patients, then measures, each in
a fresh process so that its peak memory is its own:

- read (first floor): DuckDB just reading the same NDJSON files (``SELECT count(*) FROM
  read_json_objects``). It splits the files into lines and checks each is a JSON object, but
  parses no value into a column: the floor any reading of them stands on, and one no reading
  that looks at the values can come near;
- parse (second floor): DuckDB parsing every value of every file into a table, one per
  resource type (``CREATE TEMP TABLE AS SELECT * FROM read_json(that type's files, format =
  'newline_delimited')``, the columns and their types detected by DuckDB from a sample of the
  lines, every line then read into them). What a reading that looks at every value costs
  DuckDB at the least, without checking a single one (a value of an unexpected type fails or
  is cast);
- flatten: the audit's flattening into the flat cohort form (every encounter's facts), with its
  reading plan warm: a run that had to compile the plan (the first after a change to the code or
  the definition: `plan_cache` keys the plan on the package's source) is printed apart, as
  ``cold``, with the CPU its compile took, and the flattening is then run again and timed warm.
  The ratios are of the warm run (a cold one measures the compile, 20-70 CPU s, not the reading).

It prints patients/s, the ratios flatten / read and flatten / parse from the same run, each step's peak RSS and its
CPU seconds (all threads: on a shared machine the wall time says more about the neighbours).
``--statements N`` also prints the N statements of the flattening that took the most CPU (the
profile docs/speed.md starts from).
``--before DIR`` also runs the flattening of another checkout (DIR first on PYTHONPATH) in the
same run, for before/after figures:

    PYTHONPATH=$PWD python benchmarks/bench_fhir_audit.py --patients 100000 --before /work/main

``--panels`` writes each crown-rump length Observation of the export as an ultrasound panel
instead (a local code, the length and a fetal heart rate as its two components), so that the
reading's item rows (`rec.ItemRows`: a panel's components, unnested) have work to do; the plain
synthetic export has no panel. Give it a ``--folder`` of its own: a folder is reused as it is.
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
from typing import Any


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(con: Any, spent: list[tuple[float, str]]) -> None:
    """Time every statement the reading sends (CPU of all threads), kept in ``spent``."""
    send = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        cpu = time.process_time()
        try:
            return send(sql, *args, **kwargs)
        finally:
            spent.append((time.process_time() - cpu, " ".join(sql.split())[:90]))

    con.raw_sql = raw_sql


def _by_type(files: list[str]) -> dict[str, list[str]]:
    """The files of each resource type, by the name's first part (``Observation.ndjson``,
    ``Observation.002.ndjson`` and ``Observation-2.ndjson`` are all Observations)."""
    types: dict[str, list[str]] = {}
    for f in files:
        types.setdefault(Path(f).name.split(".")[0].split("-")[0], []).append(f)
    return types


_PANEL_CODE = {"system": "https://trust.example/results", "code": "EPAU-US"}
_HEART_RATE = {
    "code": {"coding": [{"system": "http://loinc.org", "code": "11948-7"}]},
    "valueQuantity": {"value": 150, "unit": "/min", "system": "http://unitsofmeasure.org"},
}


def _as_panels(folder: Path) -> int:
    """Rewrite each crown-rump length Observation (id ``...-crl``) of ``folder`` as an
    ultrasound panel whose components are that length and a fetal heart rate; the number
    rewritten."""
    path = folder / "Observation.ndjson"
    lines = path.read_text(encoding="utf-8").splitlines()
    rewritten = 0
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            o = json.loads(line)
            if o["id"].endswith("-crl"):
                length = {"code": o["code"], "valueQuantity": o.pop("valueQuantity")}
                o["code"] = {"coding": [_PANEL_CODE]}
                o["component"] = [length, _HEART_RATE]
                line = json.dumps(o, separators=(",", ":"))
                rewritten += 1
            out.write(line + "\n")
    return rewritten


def _count_compiles() -> list[float]:
    """The CPU seconds of each reading plan compiled in this process, appended as they end."""
    from compile_cpu import on_each_compile

    compiles: list[float] = []
    on_each_compile(compiles.append)
    return compiles


def _listed(files: list[str]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def _one(step: str, folder: Path, threads: int, statements: int) -> dict[str, Any]:
    import earlypath.fhir  # noqa: F401 (the package's import order)
    from earlypath.audit.load import duckdb_connect

    con = duckdb_connect()
    con.raw_sql(f"SET threads = {threads}")
    files = sorted(str(p) for p in folder.glob("*.ndjson"))
    started, cpu = time.perf_counter(), time.process_time()
    if step == "read":
        con.con.sql(
            f"SELECT count(*) FROM read_json_objects({_listed(files)}, "
            "format = 'newline_delimited')"
        ).fetchall()
    elif step == "parse":
        for n, typed in enumerate(_by_type(files).values()):
            con.con.sql(
                f"CREATE TEMP TABLE parsed_{n} AS SELECT * FROM read_json({_listed(typed)}, "
                "format = 'newline_delimited')"
            )
    else:
        from earlypath.audit.fhir_read import flatten_fhir_duckdb

        compiles = _count_compiles()
        spent: list[tuple[float, str]] = []
        if statements:
            _timed(con, spent)
        reading = flatten_fhir_duckdb(con, folder, "flat")
        con.con.sql("SELECT count(*) FROM flat_t").fetchall()
        assert reading.encounters > 0
    out: dict[str, Any] = {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "peak_mb": _peak_mb(),
    }
    if step == "flatten":
        out["compiles"] = compiles
    if step == "flatten" and statements:
        out["statements"] = sorted(spent, reverse=True)[:statements]
        out["in_statements"] = sum(c for c, _ in spent)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="reuse (or keep) the export here")
    parser.add_argument("--before", type=Path, help="also flatten with this checkout")
    parser.add_argument("--statements", type=int, default=0, help="print the N costliest")
    parser.add_argument(
        "--panels", action="store_true", help="scan lengths as panel components (new folder)"
    )
    parser.add_argument("--one", choices=("read", "parse", "flatten"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-fhir-")) / "export"
    if args.one:
        print(json.dumps(_one(args.one, folder, args.threads, args.statements)))
        return
    if not (folder / "Encounter.ndjson").exists():
        from earlypath.synth.cohort import generate_chunks
        from earlypath.synth.fhir_export import write_fhir

        write_fhir(generate_chunks(args.patients, seed=7), folder)
        if args.panels:
            print(f"panels: {_as_panels(folder):,} crown-rump lengths written as components")
    size = sum(p.stat().st_size for p in folder.glob("*.ndjson")) / 1e6
    print(f"export: {args.patients:,} patients, {size:,.0f} MB of NDJSON, {args.threads} threads")
    print("floors: read = count(*) over read_json_objects (lines split, no value parsed);")
    print("        parse = read_json of each type's files into a temp table (every value parsed)")
    runs = [("read", "read", None), ("parse", "parse", None), ("flatten", "flatten", None)]
    if args.before:
        runs.insert(2, ("before", "flatten", args.before))
    out = {}
    for label, step, checkout in runs:
        command = [sys.executable, __file__, "--one", step, "--folder", str(folder)]
        command += ["--threads", str(args.threads), "--statements", str(args.statements)]
        env = os.environ.copy()
        if checkout is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(checkout), env.get("PYTHONPATH", "")])
        # (twice at most: with EARLYPATH_PLAN_CACHE=off no plan is kept between processes)
        for attempt in range(2):
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            if result.returncode:
                sys.exit(result.stderr)
            out[label] = json.loads(result.stdout.strip().splitlines()[-1])
            compiles = out[label].get("compiles")
            if not compiles or attempt:
                break
            # the plan was compiled in this run (kept now): its figures are the compile's, so
            # they are printed apart and the flattening run again, warm
            print(
                f"{label + ' cold':14} {out[label]['seconds']:7.2f} s  "
                f"cpu {out[label]['cpu']:7.2f} s, of it compiling the reading plan "
                f"{sum(compiles):.2f} s ({len(compiles)} plan(s)); run again with the plan warm"
            )
        if out[label].get("compiles"):
            print(
                f"  ({label} compiled again: the code changed meanwhile, or EARLYPATH_PLAN_CACHE=off)"
            )
        rate = args.patients / out[label]["seconds"]
        print(
            f"{label:8} {out[label]['seconds']:7.2f} s  {rate:10,.0f} patients/s  "
            f"cpu {out[label]['cpu']:7.2f} s  peak {out[label]['peak_mb']:7,.0f} MB"
        )
        if "statements" in out[label]:
            print(f"  {out[label]['in_statements']:.2f} CPU s in statements; the costliest:")
            for spent, sql in out[label]["statements"]:
                print(f"  {spent:6.2f}  {sql}")
    for label in ("before", "flatten"):
        for floor in ("read", "parse"):
            if label in out:
                wall = out[label]["seconds"] / out[floor]["seconds"]
                cpu = out[label]["cpu"] / out[floor]["cpu"]
                print(f"{label} / {floor}: {wall:.1f}x wall, {cpu:.1f}x cpu (same run)")


if __name__ == "__main__":
    main()
