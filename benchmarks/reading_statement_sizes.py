"""The largest SQL statements of the compiled record reading on DuckDB, in characters (Spark's
parser refuses a statement of some megabytes; tests/records/test_code_table.py bounds the
largest at 132k): the reading compiled as that test compiles it, every statement sent recorded.

Run from a checkout: PYTHONPATH=. .venv/bin/python benchmarks/reading_statement_sizes.py
(another checkout: PYTHONPATH=<it>, run from it). Prints the count, the total and the six
largest with the table or view each creates. ``--with-medication``: the same export with one
exported Medication (methotrexate) and a MedicationRequest naming it, so the specs that need a
Medication's row are compiled (stop 36; left out of an export without Medications).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ["EARLYPATH_PLAN_CACHE"] = "off"  # compile here, never replay a kept plan

import ibis  # noqa: E402

import tests.records.test_code_table as code_table  # noqa: E402
from tests.records.sql_sent import sql_sent  # noqa: E402


def _add_medication(export: Path) -> None:
    from tests.integration.fhir_data import PATIENT_ID

    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "Methotrexate"}}
    request = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2019-05-02",
        "medicationReference": {"reference": "Medication/m1"},
        "reasonCode": [{"text": "Tubal pregnancy"}],
    }
    for kind, resource in (("Medication", medication), ("MedicationRequest", request)):
        (export / f"{kind}.ndjson").write_text(json.dumps(resource) + "\n", encoding="utf-8")


def main() -> None:
    export = code_table._export(Path(tempfile.mkdtemp()) / "export")
    if "--with-medication" in sys.argv[1:]:
        _add_medication(export)
    con = ibis.duckdb.connect()
    sent = sql_sent(con)
    code_table._reading(con, export, "p1")
    named = re.compile(r"(?:TABLE|VIEW)\s+\"?(\w+)")
    sizes = sorted(
        ((len(s), (m.group(1) if (m := named.search(s)) else s[:40])) for s in sent),
        reverse=True,
    )
    print(f"{len(sent)} statements, {sum(n for n, _ in sizes):,} characters in all")
    for n, name in sizes[:6]:
        print(f"{n:>9,}  {name}")


if __name__ == "__main__":
    main()
