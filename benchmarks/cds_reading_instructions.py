"""Instructions per record reading of the CDS call (`records.read` of the benchmark's record),
counted by valgrind, in this checkout and others: a figure the machine's load does not move.

Run: .venv/bin/python benchmarks/cds_reading_instructions.py [--before CHECKOUT ...]
                                                            [--calls 300] [--extra-observations N]
                                                            [--collector-off]
                                                            [--baseline-calls N]
                                                            [--versions N]
                                                            [--scan-report]

Each figure is the difference of two runs under `valgrind --tool=cachegrind --cache-sim=no`
(the same imports and 50 warm-up readings, then ``--calls`` readings or none) over
``--calls``, with a fixed hash seed. ``--collector-off``: the cyclic collector off after the
warm-up (`gc.collect()` then `gc.disable()`), in both processes: where its collections fall in
or out of the counted readings moves a count by some 15k (seen in the fourteenth and sixteenth
passes), more than most changes to the reading. ``--baseline-calls N``: the process subtracted
reads N readings too (and the counted one N + ``--calls``), so that a cost paid once in the
first readings after the warm-up (stop 28: some 5M instructions in one copy of bc26667, 50k a
reading at ``--calls 100``, none in the next copy) falls out of the figure. Not named bench_*: `make bench` does not run it (it needs
valgrind and a minute a checkout); needs the Debian package `valgrind`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

_READER = """
import datetime as dt, gc, sys
sys.path.insert(0, "benchmarks")
from bench_cds_load import request_body
from earlypath.fhir import mapping
from earlypath.fhir.mapping import flatten
from earlypath.records import python as records
today = dt.date(2026, 12, 1)
resources = flatten(list(request_body(today, int(sys.argv[2]))["prefetch"].values()))
# --versions: the first N Observations sent again, amended later with their id (stop 28's
# ranking of the versions of one (patient, id) then runs)
sent = [r for r in resources if r.get("resourceType") == "Observation" and "id" in r]
for r in sent[: int(sys.argv[4])]:
    resources.append({**r, "status": "amended", "meta": {"lastUpdated": "2026-12-01T12:00:00Z"}})
# --scan-report: a scan report sent once, its intrauterine finding contained (stop 30)
if sys.argv[5] == "yes":
    finding = {"resourceType": "Observation", "id": "c-iup", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "59776-5"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                             "code": "65727000"}]},
        "effectiveDateTime": "2026-12-01T09:30:00Z"}
    resources.append({"resourceType": "DiagnosticReport", "id": "us-report", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "11525-3"}]},
        "subject": sent[0]["subject"], "conclusion": "Single intrauterine pregnancy.",
        "effectiveDateTime": "2026-12-01T09:30:00Z", "issued": "2026-12-01T11:02:00Z",
        "contained": [finding], "result": [{"reference": "#c-iup"}]})
for _ in range(50):
    records.read(mapping.READING, resources, today)
if sys.argv[3] == "off":
    gc.collect()
    gc.disable()
for _ in range(int(sys.argv[1])):
    records.read(mapping.READING, resources, today)
"""


def instructions(
    checkout: Path,
    calls: int,
    extra: int,
    collector: str = "on",
    versions: int = 0,
    scan_report: bool = False,
) -> int:
    return valgrind_count.instructions(
        checkout,
        _READER,
        str(calls),
        str(extra),
        collector,
        str(versions),
        "yes" if scan_report else "no",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, action="append", default=[], help="a checkout")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--extra-observations", type=int, default=0)
    parser.add_argument(
        "--collector-off", action="store_true", help="gc disabled after the warm-up"
    )
    parser.add_argument(
        "--baseline-calls", type=int, default=0, help="readings the subtracted run reads too"
    )
    parser.add_argument(
        "--versions", type=int, default=0, help="Observations sent again, amended (same id)"
    )
    parser.add_argument(
        "--scan-report", action="store_true", help="a scan report sent once added (stop 30)"
    )
    args = parser.parse_args()
    valgrind_count.require_valgrind()
    report: dict[str, object] = {
        "calls": args.calls,
        "extra_observations": args.extra_observations,
        "collector": "off" if args.collector_off else "on",
        "baseline_calls": args.baseline_calls,
        "versions": args.versions,
        "scan_report": args.scan_report,
    }
    collector = "off" if args.collector_off else "on"
    for checkout in [*args.before, ROOT]:
        path = checkout.resolve()
        base = args.baseline_calls
        extra, versions = args.extra_observations, args.versions
        ran = instructions(path, base + args.calls, extra, collector, versions, args.scan_report)
        start = instructions(path, base, extra, collector, versions, args.scan_report)
        report[str(path)] = round((ran - start) / args.calls)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
