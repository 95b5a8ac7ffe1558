"""A resource that names its patient only by an identifier (FHIR R4 logical reference, as UK Core
records may: ``"subject": {"identifier": {"system": NHS number, "value": ...}}``) is tied to the
Patient carrying that identifier (system and value as written; the record in use when merged),
by the audit as by the card (`earlypath.records.identifiers`): her previous miscarriage recorded
so is seen at her scan ("offer"; before stop 23 it was tied to nobody and left out without a
count: "needs information"). A value without a system, one written otherwise, one carried by no
Patient or by two Patients who are not one woman ties nobody and is counted in summary.json; a
literal reference wins over an identifier. On DuckDB, the Python engine's per-patient reading
and Spark alike (`tests.records.identifier_shapes`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit import fhir_read
from earlypath.audit.run import run_audit
from earlypath.records.definition import READING
from earlypath.records.python import read
from tests.fhir_exports import write_export
from tests.integration.fhir_data import PATIENT_ID, eligible_resources
from tests.records.identifier_shapes import (
    NHS_NUMBER,
    NOT_TIED,
    SHARED_IDENTIFIERS,
    TIED,
    identifier_export,
)
from tests.records.real_shapes import UTROGESTAN_DMD, active_request, export_of


def _check(rows: dict[str, dict[str, Any]], hers: dict[str, bool]) -> None:
    assert set(rows) == set(hers)
    for case, tied in hers.items():
        row = rows[case]
        if tied:
            assert (row["decision"], row["missing"]) == ("offer", []), case
        else:  # her history is not read as hers: unknown, never "none"
            assert row["decision"] == "needs_information", case
            assert row["missing"] == ["previous_miscarriages"], case


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export, _ = identifier_export()
    return write_export(export, tmp_path_factory.mktemp("by-identifier") / "in")


def test_her_history_named_by_her_nhs_number_is_hers(tmp_path: Path) -> None:
    """The stop 22 strict expected failure, now passing."""
    history, *rest = eligible_resources()
    history["subject"] = {"identifier": {"system": NHS_NUMBER, "value": "9990001234"}}
    export = export_of([history, *rest])
    (patient,) = export["Patient"]
    assert patient["id"] == PATIENT_ID
    patient["identifier"] = [{"system": NHS_NUMBER, "value": "9990001234"}]
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine="duckdb")
    (row,) = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert (row["decision"], row["missing"]) == ("offer", [])


def test_her_progesterone_order_named_by_her_nhs_number_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MedicationRequest for progesterone (written before this encounter) whose subject is her
    NHS number only: she is on progesterone (the flat cell, and "continue"), as with a literal
    reference; tied to nobody she would be judged "offer"."""
    her_number = {"system": NHS_NUMBER, "value": "9990001235"}
    order = {**active_request(UTROGESTAN_DMD), "subject": {"identifier": her_number}}
    export = export_of([*eligible_resources(), order])
    (patient,) = export["Patient"]
    patient["identifier"] = [her_number]
    folder = write_export(export, tmp_path / "in")
    # the flat cells are those the audit judged, kept from its own reading (the view it
    # flattened the export into; stop 51: not a second reading of the export)
    kept: list[dict[str, Any]] = []
    flatten = fhir_read.flatten_fhir_duckdb

    def flatten_and_keep_the_rows(con: Any, source: Any, name: str) -> Any:
        reading = flatten(con, source, name)
        kept.extend(con.table(name).to_pyarrow().to_pylist())
        return reading

    monkeypatch.setattr(fhir_read, "flatten_fhir_duckdb", flatten_and_keep_the_rows)
    run_audit(folder, tmp_path / "out", engine="duckdb")
    (flat,) = kept
    assert flat["on_progesterone"] == "true"
    (row,) = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert (row["decision"], row["missing"]) == ("continue", [])


@pytest.fixture(scope="module")
def on_duckdb(export_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit of the export on DuckDB, once for the tests of this module."""
    out = tmp_path_factory.mktemp("by-identifier-duckdb")
    run_audit(export_folder, out, engine="duckdb")
    return out


def _episodes(out: Path) -> dict[str, dict[str, Any]]:
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def test_resources_named_by_identifier_are_tied_as_the_rule_says(on_duckdb: Path) -> None:
    _, hers = identifier_export()
    _check(_episodes(on_duckdb), hers)
    summary = json.loads((on_duckdb / "summary.json").read_text(encoding="utf-8"))
    ties = summary["fhir_export"]["subjects_by_identifier"]
    assert ties == {
        "resources_tied": TIED,
        "resources_not_tied": NOT_TIED,
        "identifiers_on_two_patients": SHARED_IDENTIFIERS,
    }
    report = (on_duckdb / "report.html").read_text(encoding="utf-8")
    assert f"{TIED} resources naming their patient by an identifier only" in report
    for text in (json.dumps(summary), report):  # counts only, never an identifier
        assert "99900000" not in text and "K123456" not in text


def test_the_python_engine_per_patient_ties_them_as_the_audit_does() -> None:
    """``read(..., patient=)`` given the export's resources builds the same ties from the
    Patients it is given (`identifiers.tie`): her history is read where the audit reads it."""
    export, hers = identifier_export()
    resources = [r for kind in export.values() for r in kind if kind is not export["Encounter"]]
    for seen in export["Encounter"]:
        case = seen["id"].removeprefix("enc-")
        day = dt.date.fromisoformat(seen["period"]["start"][:10])
        got = read(READING, resources, day, seen["id"], f"p-{case}").values
        assert (got["previous_miscarriages"] is not None) == hers[case], case


# Spark: the scenario "identifier-subject" of tests/audit/test_spark_agreement.py (one shared run).
