"""Cases of records (name -> (resources, expected)) as one export, and that export read by the
one definition on DuckDB as the audit reads it: shared by the tests that check a reading of such
cases on the card and on DuckDB (`test_previous_history.py`, `test_previous_ectopic.py`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

from tests.fhir_exports import Export, export_merges, one_export, write_export
from tests.records.real_shapes import export_of
from tests.records.test_engines_agree import readings_of
from tests.records.test_ibis_export import compiled_reading, fetched


def export_of_cases(cases: dict[str, tuple[list[dict[str, Any]], Any]]) -> Export:
    """Every case's record as one export, one woman and one encounter today each, in case order.
    A case's references to its own exported Medications follow their ids, which the export
    prefixes with the case's name (`as_patient`)."""
    return one_export(
        {
            name: export_of(_own_medications(resources, name))
            for name, (resources, _) in cases.items()
        }
    )


def _own_medications(resources: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    ids = [r["id"] for r in resources if r.get("resourceType") == "Medication"]
    text = json.dumps(resources)
    for mid in ids:
        text = text.replace(f'"Medication/{mid}"', f'"Medication/{name}-{mid}"')
    out: list[dict[str, Any]] = json.loads(text)
    return out


def duckdb_readings(whole: Export, folder: Path, name: str) -> list[dict[str, Any]]:
    """Each encounter's reading of ``whole`` (written under ``folder``) by DuckDB, in the export's
    encounter order (`readings_of`); ``name`` names the compiled reading's tables."""
    merges = export_merges(whole)
    written = write_export(whole, folder)
    return readings_of(
        fetched(compiled_reading(ibis.duckdb.connect(), written, name, merges)), whole, merges
    )
