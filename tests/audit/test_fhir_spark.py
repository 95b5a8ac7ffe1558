"""A FHIR export audited on Spark is read on Spark (the one definition compiled for it, and the
audit's own cells of `earlypath.audit.fhir_read`) and agrees row for row with DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import flatten_fhir_duckdb, read_fhir_export
from earlypath.audit.run import run_audit
from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir

PRENATAL = {"coding": [{"system": "http://snomed.info/sct", "code": "424441002"}]}


def _append(path: Path, *resources: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in resources)


def _encounter(eid: str, pid: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "subject": {"reference": f"Patient/{pid}"},
        **more,
    }


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_the_export(tmp_path_factory.mktemp("export"))


def write_the_export(folder: Path) -> Path:
    """50 synthetic patients, and: a man's prenatal visit, a woman's visit with no sign of a
    pregnancy, one with no day (rejected), and a prenatal visit of a woman with ethnicity and
    deprivation recorded (the typed visit is her only evidence of a pregnancy)."""
    write_fhir(generate_chunks(50, seed=12), folder)
    eth = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
    _append(
        folder / "Patient.ndjson",
        {"resourceType": "Patient", "id": "man", "gender": "male", "birthDate": "1980-01-01"},
        {"resourceType": "Patient", "id": "plain", "gender": "female", "birthDate": "1999-06-01"},
        {
            "resourceType": "Patient",
            "id": "typed",
            "gender": "female",
            "birthDate": "2001-02-03",
            "extension": [
                {"url": eth, "valueCodeableConcept": {"coding": [{"display": "Irish"}]}},
                {"url": "urn:earlypath:imd-quintile", "valueInteger": 2},
            ],
        },
    )
    day = {"period": {"start": "2024-03-04T10:00:00Z"}}
    _append(
        folder / "Encounter.ndjson",
        _encounter("x-man", "man", type=[PRENATAL], **day),
        _encounter("x-plain", "plain", **day),
        _encounter("x-nodate", "plain", type=[PRENATAL]),
        _encounter(
            "x-typed",
            "typed",
            type=[PRENATAL],
            **day,
            serviceProvider={"reference": "Organization/site-x"},
        ),
    )
    return folder


def test_duckdb_flattening_is_the_shared_reading(export: Path) -> None:
    """`flatten_fhir_duckdb` is `read_fhir_export` on DuckDB (no second copy of the audit-only
    cells): the same rows, counts and cells, and its view of the episodes."""
    files = discover_export(export, fhir_flat.RESOURCES)
    con = ibis.duckdb.connect()
    reading = flatten_fhir_duckdb(con, files, "raw")
    old = con.table("raw").order_by("row_number").to_pyarrow()
    table, shared = read_fhir_export(ibis.duckdb.connect(), files, "rd")
    new = table.to_pyarrow()
    assert new.schema == old.schema
    assert new.to_pylist() == old.to_pylist()
    assert shared.excluded == reading.excluded == {EXCLUDED_MALE: 1, EXCLUDED_NOT_PREGNANT: 1}
    assert shared.encounters == reading.encounters == 54
    typed = next(r for r in new.to_pylist() if r["episode_id"] == "x-typed")
    assert (
        typed["site"],
        typed["age_band"],
        typed["ethnicity"],
        typed["deprivation_quintile"],
    ) == ("site-x", "20-24", "Irish", 2)


def _rows(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "episodes.parquet").to_pylist()


def test_duckdb_audits_each_encounter_of_the_export(export: Path, tmp_path: Path) -> None:
    """(Spark audits this export as DuckDB does, without DuckDB reading it: in
    `tests/audit/test_spark_agreement.py`, with the other scenarios.)"""
    duck = run_audit(export, tmp_path / "d", engine="duckdb")
    assert duck.rejected == 1 and duck.excluded == 2 and duck.rows_in == 54
    assert len(_rows(tmp_path / "d")) == duck.evaluated


# Exports of their own shape, audited on Spark in `tests/audit/test_spark_agreement.py`: the
# files (by name) of each, and what its summary must say of the lines of another type.
def another_type_files() -> dict[str, list[dict[str, Any]]]:
    """An ectopic Condition inside an Observation part (with a line of no resourceType): seen on
    Spark as on DuckDB (no offer), and counted alike."""
    from tests.integration.fhir_data import eligible_resources
    from tests.records.real_shapes import ectopic_today, export_of

    export = export_of(eligible_resources())
    files = {f"{kind}.ndjson": resources for kind, resources in export.items()}
    files["Observation.000.ndjson"] = files.pop("Observation.ndjson")
    files["Observation.001.ndjson"] = [ectopic_today(), {"id": "no-type"}]
    return files


ANOTHER_TYPE_LINES = [  # (file, resourceType, read_as)
    ("Observation.001.ndjson", "Condition", "Condition"),
    ("Observation.001.ndjson", None, None),
]


def skipped_file_files() -> dict[str, list[dict[str, Any]]]:
    """An ectopic Condition inside a gzipped Claim file and one in a file whose name gives no
    type: seen on Spark as on DuckDB (no offer), and counted alike."""
    from tests.integration.fhir_data import condition, day, eligible_resources
    from tests.records.real_shapes import ectopic_today, export_of

    files = {
        f"{kind}.ndjson": resources for kind, resources in export_of(eligible_resources()).items()
    }
    files["Claim.ndjson.gz"] = [{"resourceType": "Claim", "id": "c1"}, ectopic_today()]
    files["data.ndjson"] = [{"eventId": "x"}, condition("ect-2", "79586000", day())]
    return files


SKIPPED_FILE_LINES = [  # (file, file_type, lines, read_as)
    ("Claim.ndjson.gz", "Claim", 1, "Condition"),
    ("data.ndjson", None, 1, "Condition"),
]
