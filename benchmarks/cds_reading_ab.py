"""The CDS call's record reading (`records.read` of the benchmark's record, and of it with 200
Observations the reading leaves out) in this checkout and another, alternated in fresh
processes: CPU time (`time.thread_time`) per reading, min of 7 runs.

Run: .venv/bin/python benchmarks/cds_reading_ab.py --before CHECKOUT [--rounds 2]

Not named bench_*: it needs --before (`make bench` runs every bench_*.py without arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One process: the checkout's reading of the benchmark's body (its own benchmarks' request).
_READER = """
import datetime as dt, json, sys, time, timeit
sys.path.insert(0, "benchmarks")
from bench_cds_load import request_body
from earlypath.fhir import mapping
from earlypath.fhir.mapping import flatten
from earlypath.records import python as records
today = dt.date(2026, 12, 1)
out = {}
for extra, n in ((0, 2000), (200, 50)):
    resources = flatten(list(request_body(today, extra)["prefetch"].values()))
    records.read(mapping.READING, resources, today)
    runs = timeit.repeat(lambda: records.read(mapping.READING, resources, today), number=n,
                         repeat=7, timer=time.thread_time)
    out[f"extra_{extra}_us"] = round(min(runs) / n * 1e6, 1)
print(json.dumps(out))
"""


def reading_us(checkout: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _READER],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="another checkout")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        rounds.append({"before": reading_us(args.before.resolve()), "after": reading_us(ROOT)})
    print(json.dumps({"load": os.getloadavg()[0], "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
