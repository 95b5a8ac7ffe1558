"""Reading one FHIR record for a CDS call: CPU microseconds per record for the mapping
(`earlypath.fhir.mapping.map_resources`: resources -> episode, problems, evidence), and its ratio
to ``json.loads`` of the same record's text, measured in the same run.

Records: the CDS tests' eligible woman (the load benchmark's body: 5 resources), a busier
chart (the same plus earlier scans, heart findings, bleeding, an hCG, a Patient, a Medication
and an allergy: 20 resources), and that chart with its dates written as real EHRs write them
("busy-inst": timestamps with "Z", "+00:00" or "+01:00" and fractions of a second;
`bench_cds_load.with_instants`). Figures are CPU time (time.process_time); each repeat measures both in
turn and the ratio is taken within the repeat; the median of the repeats is printed. Runs on
older checkouts too (compare: PYTHONPATH=/work/main), so before/after come from one script.

    .venv/bin/python benchmarks/bench_records.py [--calls 3000] [--repeats 5]

Goal (issue 12): the whole CDS call at most 0.3 ms of server CPU, so the mapping well under
0.1 ms for a typical record.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # PYTHONPATH first

from earlypath.fhir.mapping import map_resources  # noqa: E402
from tests.integration import fhir_data as f  # noqa: E402

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def _obs(rid: str, code: dict[str, Any], day: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [code]},
        "effectiveDateTime": day,
        **value,
    }


def busy_record() -> list[dict[str, Any]]:
    """The eligible woman's record with the findings a real chart in early pregnancy holds."""
    out = copy.deepcopy(f.eligible_resources())
    crl = {"system": LOINC, "code": "11957-8"}
    iup = {"system": SNOMED, "code": "370383002"}
    heart = {"system": LOINC, "code": "11948-7"}
    msd = {"system": LOINC, "code": "11850-5"}
    bleed = {"system": SNOMED, "code": "289530006"}
    hcg = {"system": LOINC, "code": "21198-7"}
    for n, day in enumerate(("2024-02-10", "2024-02-20", "2024-03-01")):
        out.append(_obs(f"crl{n}", crl, day, valueQuantity={"value": 3.0 + n, "unit": "mm"}))
        out.append(_obs(f"iup{n}", iup, day))
        out.append(_obs(f"fhr{n}", heart, day, valueQuantity={"value": 120 + n, "unit": "/min"}))
    out.append(_obs("msd", msd, "2024-02-10", valueQuantity={"value": 11.5, "unit": "mm"}))
    out.append(_obs("bleed", bleed, "2024-03-03", valueBoolean=True))
    out.append(_obs("hcg", hcg, "2024-02-01", valueQuantity={"value": 1500, "unit": "IU/L"}))
    out.append({"resourceType": "Patient", "id": "p1", "gender": "female"})
    out.append(
        {
            "resourceType": "Medication",
            "id": "med1",
            "code": {"coding": [{"system": "https://dmd.nhs.uk", "code": "0"}], "text": "Folic"},
        }
    )
    out.append(
        {
            "resourceType": "AllergyIntolerance",
            "id": "a1",
            "patient": {"reference": "Patient/p1"},
            "code": {"text": "Peanut"},
        }
    )
    return out


def per_call(text: str, today: dt.date, calls: int) -> tuple[float, float]:
    """CPU seconds per json.loads of the text, and per mapping of the parsed resources."""
    resources = json.loads(text)
    for _ in range(50):
        map_resources(resources, today)
    start = time.process_time()
    for _ in range(calls):
        json.loads(text)
    loads = (time.process_time() - start) / calls
    start = time.process_time()
    for _ in range(calls):
        map_resources(resources, today)
    mapping = (time.process_time() - start) / calls
    return loads, mapping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    # imported after earlypath: bench_cds_load puts this checkout first on the path, and the
    # figures are of the checkout on PYTHONPATH (another one's, to compare)
    from bench_cds_load import with_instants

    busy = busy_record()
    records = {
        "eligible": f.eligible_resources(),
        "busy": busy,
        # the busy chart with its dates as EHRs send them: timestamps with zones and fractions
        "busy-inst": with_instants(busy),
    }
    for resource in records["busy-inst"]:
        if resource["resourceType"] == "Patient":
            resource["birthDate"] = "1994-05-12"  # a date alone, as every system writes it
    for name, resources in records.items():
        text = json.dumps(resources)
        runs = [per_call(text, f.TODAY, args.calls) for _ in range(args.repeats)]
        loads = statistics.median(r[0] for r in runs)
        mapping = statistics.median(r[1] for r in runs)
        ratio = statistics.median(r[1] / r[0] for r in runs)
        print(
            f"{name:9s} resources={len(resources):2d}  json.loads {loads * 1e6:7.1f} us  "
            f"mapping {mapping * 1e6:7.1f} us  ratio {ratio:5.1f}x"
        )


if __name__ == "__main__":
    main()
