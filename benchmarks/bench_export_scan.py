"""Cost of looking into the export files the audit does not read (`earlypath.audit.fhir_found`).

Writes a synthetic export (`earlypath.synth.fhir_export`) of N patients, then adds what makes a
real (Synthea) export large: a Claim and an ExplanationOfBenefit per Encounter, shaped as
Synthea writes them (items, adjudications, a contained ServiceRequest and Coverage), so that the
two skipped files outweigh the rest. Then measures, on those two files, each in a fresh process:

- count: the line count discovery made before (``fhir_files.count_resources``), the floor;
- scan: `scan_lines`, the byte prefilter for ``"resourceType": "<a read type>"`` with only the
  matching lines parsed (what discovery now runs), on the plain files and gzipped copies;
- found: the worst case, a ``data.ndjson`` holding the whole export: `scan_lines` over the
  files the audit reads (every line parsed and copied into the selection the loader reads);
- duckdb: DuckDB ``read_json`` of the same files with only the ``resourceType`` column, counted
  by type (the other way considered; it parses every line, and a second pass would still be
  needed to take out the lines found), at ``--threads`` threads.

    PYTHONPATH=$PWD python benchmarks/bench_export_scan.py --patients 100000 --folder /tmp/x
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

_SKIPPED = ("Claim.ndjson", "ExplanationOfBenefit.ndjson")
_SNOMED = "http://snomed.info/sct"


def _item(n: int, encounter: str, adjudicated: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sequence": n,
        "diagnosisSequence": [1],
        "productOrService": {
            "coding": [
                {"system": _SNOMED, "code": "185349003", "display": "Encounter for check up"}
            ],
            "text": "Encounter for check up",
        },
        "encounter": [{"reference": f"urn:uuid:{encounter}"}],
        "servicedPeriod": {
            "start": "2023-01-01T09:00:00-05:00",
            "end": "2023-01-01T09:15:00-05:00",
        },
    }
    if adjudicated:
        item["net"] = {"value": 136.8, "currency": "USD"}
        item["adjudication"] = [
            {
                "category": {
                    "coding": [
                        {
                            "system": "https://bluebutton.cms.gov/resources/codesystem/adjudication",
                            "code": code,
                            "display": code.replace("-", " ").title(),
                        }
                    ]
                },
                "amount": {"value": 27.36, "currency": "USD"},
            }
            for code in ("coinsurance", "line-allowed-charge", "deductible", "submitted-amount")
        ]
    return item


def _claim(encounter: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "id": str(uuid.uuid4()),
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": f"urn:uuid:{patient}", "display": "Ms. Example Synthetic"},
        "billablePeriod": {
            "start": "2023-01-01T09:00:00-05:00",
            "end": "2023-01-01T09:15:00-05:00",
        },
        "created": "2023-01-01T09:15:00-05:00",
        "provider": {"reference": "Organization?identifier=x|1", "display": "Site A"},
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "facility": {"reference": "Location?identifier=x|2", "display": "Site A"},
        "diagnosis": [
            {"sequence": 1, "diagnosisReference": {"reference": f"urn:uuid:{uuid.uuid4()}"}}
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "Medicaid"}}],
        "item": [_item(n, encounter, False) for n in range(1, 4)],
        "total": {"value": 410.4, "currency": "USD"},
    }


def _eob(encounter: str, patient: str) -> dict[str, Any]:
    claim = _claim(encounter, patient)
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": str(uuid.uuid4()),
        "contained": [
            {
                "resourceType": "ServiceRequest",
                "id": "referral",
                "status": "completed",
                "intent": "order",
                "subject": {"reference": f"urn:uuid:{patient}"},
                "requester": {"reference": "Practitioner?identifier=x|3"},
                "performer": [{"reference": "Practitioner?identifier=x|3"}],
            },
            {
                "resourceType": "Coverage",
                "id": "coverage",
                "status": "active",
                "type": {"text": "Medicaid"},
                "beneficiary": {"reference": f"urn:uuid:{patient}"},
                "payor": [{"display": "Medicaid"}],
            },
        ],
        "identifier": [
            {
                "system": "https://bluebutton.cms.gov/resources/variables/clm_id",
                "value": claim["id"],
            }
        ],
        "status": "active",
        "type": claim["type"],
        "use": "claim",
        "patient": claim["patient"],
        "billablePeriod": claim["billablePeriod"],
        "created": claim["created"],
        "insurer": {"display": "Medicaid"},
        "provider": {"reference": "Practitioner?identifier=x|3"},
        "referral": {"reference": "#referral"},
        "claim": {"reference": f"urn:uuid:{claim['id']}"},
        "outcome": "complete",
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisReference": claim["diagnosis"][0]["diagnosisReference"],
                "type": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype",
                                "code": "principal",
                            }
                        ]
                    }
                ],
            }
        ],
        "insurance": [
            {"focal": True, "coverage": {"reference": "#coverage", "display": "Medicaid"}}
        ],
        "item": [_item(n, encounter, True) for n in range(1, 4)],
        "total": [
            {
                "category": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/adjudication",
                            "code": "submitted",
                        }
                    ]
                },
                "amount": {"value": 410.4, "currency": "USD"},
            }
        ],
        "payment": {"amount": {"value": 328.32, "currency": "USD"}},
    }


def _write_skipped(folder: Path) -> None:
    """A Claim and an ExplanationOfBenefit per Encounter of the export."""
    with (
        (folder / "Encounter.ndjson").open("rb") as encounters,
        (folder / _SKIPPED[0]).open("w", encoding="utf-8") as claims,
        (folder / _SKIPPED[1]).open("w", encoding="utf-8") as eobs,
    ):
        for line in encounters:
            enc = json.loads(line)
            patient = enc.get("subject", {}).get("reference", "").rsplit("/", 1)[-1]
            claims.write(json.dumps(_claim(enc["id"], patient), separators=(",", ":")) + "\n")
            eobs.write(json.dumps(_eob(enc["id"], patient), separators=(",", ":")) + "\n")
    for name in _SKIPPED:
        with (folder / name).open("rb") as src, gzip.open(folder / f"gz/{name}.gz", "wb", 6) as dst:
            shutil.copyfileobj(src, dst, 8 << 20)


def _one(step: str, files: list[Path], threads: int) -> dict[str, Any]:
    import earlypath.fhir  # noqa: F401 (the package's import order)
    from earlypath.audit.fhir_files import count_resources
    from earlypath.audit.fhir_flat import RESOURCES
    from earlypath.audit.fhir_found import scan_lines

    started, cpu = time.perf_counter(), time.process_time()
    if step == "count":
        found: Any = sum(count_resources(p) for p in files)
    elif step == "scan":
        found = [scan_lines(p, frozenset(RESOURCES), None) for p in files]
    elif step == "found":
        from earlypath.audit.fhir_found import FoundSelection

        selection = FoundSelection()
        found = [sum(scan_lines(p, frozenset(RESOURCES), selection)[1].values()) for p in files]
        shutil.rmtree(selection.folder or "/nonexistent", ignore_errors=True)
    else:
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        names = ", ".join(f"'{p}'" for p in files)
        found = con.execute(
            f"SELECT resourceType, count(*) FROM read_json([{names}], "
            "format = 'newline_delimited', columns = {resourceType: 'VARCHAR'}, "
            "ignore_errors = true, maximum_object_size = 67108864) GROUP BY ALL ORDER BY 1"
        ).fetchall()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "found": str(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="reuse (or keep) the export here")
    parser.add_argument(
        "--one", choices=("count", "scan", "found", "duckdb"), help=argparse.SUPPRESS
    )
    parser.add_argument("--gz", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-scan-")) / "export"
    plain = [folder / n for n in _SKIPPED]
    gzipped = [folder / "gz" / f"{n}.gz" for n in _SKIPPED]
    if args.one:
        files = gzipped if args.gz else plain
        if args.one == "found":  # the files the audit reads, as if in one unnamed file
            files = [p for p in sorted(folder.glob("*.ndjson")) if p.name not in _SKIPPED]
        print(json.dumps(_one(args.one, files, args.threads)))
        return
    if not (folder / "Encounter.ndjson").exists():
        from earlypath.synth.cohort import generate_chunks
        from earlypath.synth.fhir_export import write_fhir

        write_fhir(generate_chunks(args.patients, seed=7), folder)
    if not gzipped[-1].exists():
        (folder / "gz").mkdir(exist_ok=True)
        _write_skipped(folder)
    read = sum(p.stat().st_size for p in folder.glob("*.ndjson") if p.name not in _SKIPPED)
    big = sum(p.stat().st_size for p in plain)
    small = sum(p.stat().st_size for p in gzipped)
    print(
        f"export: {args.patients:,} patients; files read {read / 1e6:,.0f} MB; Claim + EOB "
        f"{big / 1e6:,.0f} MB ({small / 1e6:,.0f} MB gzipped); {args.threads} threads"
    )
    for label, step, gz in (
        ("count", "count", False),
        ("scan", "scan", False),
        ("duckdb", "duckdb", False),
        ("count.gz", "count", True),
        ("scan.gz", "scan", True),
        ("duckdb.gz", "duckdb", True),
        ("found", "found", False),
    ):
        command = [sys.executable, __file__, "--one", step, "--folder", str(folder)]
        command += ["--threads", str(args.threads)] + (["--gz"] if gz else [])
        result = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        size = small if gz else big
        text = read if step == "found" else big  # NDJSON bytes looked at
        size = read if step == "found" else size
        print(
            f"{label:10} {result['seconds']:7.2f} s  cpu {result['cpu']:7.2f} s  "
            f"{text / 1e6 / result['cpu']:7.0f} MB/s of NDJSON a CPU second  "
            f"peak {result['peak_mb']:6.0f} MB  ({size / 1e6:,.0f} MB read)  {result['found']}"
        )


if __name__ == "__main__":
    main()
