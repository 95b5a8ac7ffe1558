"""Instructions the FHIR audit's reading of an export costs (`flatten_fhir_duckdb`, one DuckDB
thread, plans warm), counted by valgrind, in this checkout and others: a figure the machine's
load does not move (docs/speed.md, "The FHIR audit", round 13 counted it so with a script it did
not keep; this is that count, kept).

Run: .venv/bin/python benchmarks/fhir_flatten_instructions.py --folder /tmp/e20k
                                                             [--patients 20000]
                                                             [--before CHECKOUT ...]

The export is written once (the synthetic cohort, seed 7, as `fhir_audit_profile.py` writes
it). For each checkout: one flatten outside valgrind first (its reading's plan then kept on
disk, `plan_cache`), then two processes under `valgrind --tool=cachegrind --cache-sim=no`,
both connecting and importing alike, one of them flattening; the figure is their difference.
Not named bench_*: `make bench` does not run it (it needs valgrind and minutes a checkout).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

_FLATTEN = """
import sys
from pathlib import Path
import earlypath.fhir  # the package's import order
from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
con = duckdb_connect()
con.raw_sql("SET threads = 1")
if sys.argv[2] == "flatten":
    flatten_fhir_duckdb(con, Path(sys.argv[1]), "flat")
"""


def _write(folder: Path, patients: int) -> None:
    if (folder / "Encounter.ndjson").exists():
        return
    from earlypath.synth.cohort import generate_chunks
    from earlypath.synth.fhir_export import write_fhir

    write_fhir(generate_chunks(patients, seed=7), folder)


def count(checkout: Path, folder: Path) -> int:
    """Instructions of one flatten of ``folder`` by ``checkout``'s code (plans warm)."""
    subprocess.run(
        [sys.executable, "-c", _FLATTEN, str(folder), "flatten"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    both = [
        valgrind_count.instructions(checkout, _FLATTEN, str(folder), what, label=str(checkout))
        for what in ("flatten", "connect")
    ]
    return both[0] - both[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folder", type=Path, required=True, help="the export (written if missing)"
    )
    parser.add_argument("--patients", type=int, default=20_000, help="when writing one")
    parser.add_argument("--before", type=Path, nargs="*", default=[], help="other checkouts")
    args = parser.parse_args()
    valgrind_count.require_valgrind()
    _write(args.folder, args.patients)
    base = None
    for checkout in (*args.before, ROOT):
        n = count(checkout.resolve(), args.folder.resolve())
        against = "" if base is None else f"  ({n / base - 1:+.2%} against the first)"
        base = n if base is None else base
        print(f"{checkout}: {n:,} instructions{against}", flush=True)


if __name__ == "__main__":
    main()
