"""The service's reading and the audit's reading of the same records are the same, problems
included: the one definition (`earlypath.records.definition.READING`) run by the Python engine
(one encounter at a time, as a CDS call reads a record) and compiled by ibis over the whole export
(DuckDB here; Spark gives DuckDB's steps and problems row for row in
`tests/records/test_ibis_export.py`), on generated records with the value sets' real codes,
relative, absolute, versioned and urn:uuid references, undated, partly dated and future facts,
and several pregnancies per woman (`tests.audit.test_fhir_mapping_agrees.exports`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import ibis
from hypothesis import HealthCheck, settings

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records.definition import READING
from earlypath.records.json_values import day_readers
from earlypath.records.merges import Merges
from earlypath.records.python import read
from earlypath.records.time_zone import configured_time_zone
from tests.audit.test_fhir_mapping_agrees import (
    FACT_KINDS,
    _owner,
    _patient_of,
    drawn_cohorts,
    read_together,
)
from tests.fhir_exports import concatenated, export_merges, one_woman, write_export
from tests.records.merge_shapes import one_export
from tests.records.test_ibis_export import compiled_reading, fetched

Export = dict[str, list[dict[str, Any]]]
# the care given (a dispense, a dose): the reading names their malformed elements
CARE_KINDS = ("MedicationDispense", "MedicationAdministration")


def _plain(value: Any) -> Any:
    """Values as both engines can give them: dates as text, NaN as None, lists and dicts deep."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _record(
    export: Export, patient: str | None, merges: Merges | None = None
) -> list[dict[str, Any]]:
    """What a CDS call would be given for this woman: her Patient, her resources (the care given
    too) and those of
    the records merged into hers, every Medication (a request may name one), and every Patient
    with merge links (the per-patient reading resolves them as the audit does)."""
    hers = one_woman(export_merges(export) if merges is None else merges, patient)
    out = [p for p in export.get("Patient", []) if p.get("id") in hers or "link" in p]
    for kind in (*FACT_KINDS, *CARE_KINDS):
        for resource in export.get(kind, []):
            if kind == "Medication" or _owner(resource) in hers:
                out.append(resource)
    return out


def service_reading(export: Export) -> list[dict[str, Any]]:
    """Each encounter read by the Python engine: its steps and its problems (ref, message)."""
    out = []
    merges = export_merges(export)
    for encounter in export["Encounter"]:
        patient = _patient_of(encounter)
        # the day of its start where the care happened, as the compiled reading dates it
        assessed_on = day_readers(configured_time_zone())[0](encounter["period"]["start"])
        assert assessed_on is not None, encounter["id"]
        record = _record(export, patient, merges)
        got = read(READING, record, assessed_on, encounter["id"], patient)
        problems = sorted((p.field, p.message) for p in got.problems)
        out.append({"steps": _plain(got.values), "problems": problems})
    return out


def audit_reading(con: Any, folder: Path, prefix: str, export: Export) -> list[dict[str, Any]]:
    """Each encounter read by the compiled definition over the whole export on ``con``."""
    merges = export_merges(export)
    out = compiled_reading(con, folder, prefix, merges)
    return readings_of(fetched(out), export, merges)


def readings_of(
    got: tuple[list[dict[str, Any]], list[dict[str, Any]]], export: Export, merges: Merges
) -> list[dict[str, Any]]:
    """The steps and problems of each encounter of ``export`` (`fetched` from a reading of it, or
    of a larger export holding it: the other encounters are left out), in key order."""
    rows, problems = got
    steps = [name for name, _ in READING.steps]
    shared = {  # the resources every encounter's reading is given (see `_record`)
        f"Medication/{m.get('id', '(no id)')}" for m in export.get("Medication", [])
    }
    encounters = {x["id"]: x for x in export["Encounter"]}
    result = []
    for row in rows:
        encounter = encounters.get(row["encounter"])
        if encounter is None:
            continue
        hers = one_woman(merges, _patient_of(encounter))
        mine = sorted(
            (p["ref"], p["message"])
            for p in problems
            if (p["encounter"] is None and (p["patient"] in hers or p["ref"] in shared))
            or p["encounter"] == row["_key"]
        )
        result.append({"steps": _plain({s: row[s] for s in steps}), "problems": mine})
    return result


def assert_same(export: Export, audit: list[dict[str, Any]]) -> None:
    service = service_reading(export)
    assert len(audit) == len(service)
    for encounter, a, s in zip(export["Encounter"], audit, service, strict=True):
        for name in s["steps"]:
            got, expected = a["steps"][name], s["steps"][name]
            if name == "pregnancy_signs" and got and expected:
                # the refs of what shows a pregnancy; only whether there is one is read, and a
                # line's position orders the rows of one file, not of two
                got, expected = sorted(got), sorted(expected)
            assert got == expected, (encounter["id"], name)
        assert a["problems"] == s["problems"], encounter["id"]


def _usable(export: Export) -> bool:
    """Encounters the audit can key: each names its patient and has a dated start."""
    return all(
        _patient_of(e) is not None and len(e.get("period", {}).get("start", "")) >= 10
        for e in export["Encounter"]
    )


# Each example a cohort of 10 to 18 women (a reading on DuckDB costs seconds whatever its size): 8
# of them read more women, encounters and resources of every kind than 25 exports of 1 to 3
# women did. The 8 cohorts Hypothesis draws are read as a few exports, one per export shape, each
# cohort's records namespaced (`read_together`), and each cohort's encounters compared with the
# service's reading of that cohort alone (stop 39).
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def test_duckdb_reads_every_record_as_the_service_does(tmp_path: Path) -> None:
    cohorts = drawn_cohorts(SETTINGS)
    assert len(cohorts) == SETTINGS.max_examples
    for n, group in enumerate(read_together(cohorts)):
        usable = [(space, named) for space, named in group if _usable(named)]
        if not usable:
            continue
        export = concatenated([named for _, named in usable])
        folder = write_export(export, tmp_path / f"export{n}")
        got = fetched(
            compiled_reading(ibis.duckdb.connect(), folder, "duck", export_merges(export))
        )
        for _, named in usable:
            assert_same(named, readings_of(got, named, export_merges(named)))


def test_the_written_exports_are_what_the_engines_read(tmp_path: Path) -> None:
    """The helper writes one NDJSON line per resource (what both engines are given)."""
    export: Export = {"Patient": [{"resourceType": "Patient", "id": "p"}], "Encounter": []}
    folder = write_export(export, tmp_path)
    lines = (folder / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == export["Patient"]


def test_a_merged_woman_read_per_patient_is_read_as_the_whole_export_reads_her(
    tmp_path: Path,
) -> None:
    """The Python engine's per-patient reading (``read(..., patient=)``) reads the records merged
    into hers (either side's link, a chain, an encounter under the old id) as the compiled
    reading of the whole export does; a cycle, a record merged twice and seealso merge nothing
    (`tests.records.merge_shapes`). It read only the rows under the id it was given."""
    export = one_export()
    folder = write_export(export, tmp_path / "in")
    assert_same(export, audit_reading(ibis.duckdb.connect(), folder, "merged", export))
