"""CPU of the compiled CDS reading with its own compiled ``SETS_OF`` (`records.inlined_helpers`)
against the same build with `json_values.sets_of` bound in its place: rounds interleaved in one
process (a same-run A/B, fit for a loaded machine), the answers checked equal.

Run: .venv/bin/python benchmarks/cds_inlined_helpers_ab.py [--calls 3000] [--rounds 7]
Needs the reading's build (`make install`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_cds_load import request_body  # noqa: E402

import earlypath.fhir  # noqa: E402, F401 (the package first: the definition imports its codes)
from earlypath.fhir import mapping  # noqa: E402
from earlypath.records import native  # noqa: E402
from earlypath.records import python as engine  # noqa: E402
from earlypath.records.json_values import sets_of  # noqa: E402

DAY = dt.date(2026, 12, 1)


def _resources(extra: int) -> list[dict[str, Any]]:
    """The benchmark's prefetch, Bundles opened (as the service hands them to the reading)."""
    found: list[dict[str, Any]] = []
    for value in request_body(DAY, extra)["prefetch"].values():
        if value and value.get("resourceType") == "Bundle":
            found += [entry["resource"] for entry in value.get("entry", [])]
        elif value:
            found.append(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    reading = engine._compile_spec(mapping.READING, True, None).generated
    if not reading.compiled:
        raise SystemExit("no build of the CDS reading: run make install")
    module, _ = native._bound[native.source_hash(reading.source)]
    own = module.__dict__["SETS_OF"]
    for extra in (0, 20):
        resources = _resources(extra)
        times: dict[str, list[float]] = {"python sets_of": [], "compiled SETS_OF": []}
        answers = set()
        for _ in range(args.rounds):
            for name, helper in zip(times, (sets_of, own), strict=True):
                module.__dict__["SETS_OF"] = helper
                answers.add(repr(reading(resources, DAY, None, None)))
                start = time.process_time()
                for _ in range(args.calls):
                    reading(resources, DAY, None, None)
                times[name].append((time.process_time() - start) / args.calls * 1e6)
        module.__dict__["SETS_OF"] = own
        assert len(answers) == 1, "the two helpers gave other readings"
        shown = ", ".join(
            f"{name} median {statistics.median(v):.1f} us (min {min(v):.1f})"
            for name, v in times.items()
        )
        print(f"{extra} extra Observations: {shown}")


if __name__ == "__main__":
    main()
