"""The FHIR audit reads her medicines as the CDS service does (issue 12, real records), on DuckDB,
the Python engine and Spark alike:

- ``MedicationStatement.ndjson`` is read (it was skipped as a type the audit does not read, so
  a GP record of Utrogestan gave "offer" where the card says "continue"), and listed in
  summary.json's ``files_read`` as the other types are;
- a request made at the audited encounter for a medicine that cannot be identified (it may be
  progesterone) leaves the care given Unknown (``care_unknown``), never "not offered".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.fhir_flat import RESOURCES
from earlypath.audit.run import run_audit
from earlypath.records.definition import READING
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.real_shapes import (
    MEDICATION_SHAPES,
    UTROGESTAN_DMD,
    active_request,
    export_of,
    statement,
)

ENGINES = ["duckdb", "python"]
# a request made at the audited encounter: (its medicine's shape, progesterone_prescribed, adherence)
MADE_HERE = {
    "text-only": (None, "care_unknown"),
    "reference-to-missing-medication": (None, "care_unknown"),
    "local-formulary-code-unlisted-brand": (None, "care_unknown"),
    "local-code-progesterone-text": (True, "offered"),
    "rxnorm-other-medicine": (False, "not_offered"),
}


def _episodes(out: Path) -> dict[str, dict[str, Any]]:
    return {r["episode_id"]: r for r in pq.read_table(out / "episodes.parquet").to_pylist()}


def _made_here(shape: str) -> dict[str, list[dict[str, Any]]]:
    """An eligible woman prescribed, at the audited encounter, a medicine of this shape."""
    med, exported, _ = MEDICATION_SHAPES[shape]
    request = active_request(med, encounter={"reference": "Encounter/enc-1"})
    return export_of([*eligible_resources(), request, *exported])


def _cases() -> dict[str, dict[str, list[dict[str, Any]]]]:
    cases = {f"here-{shape}": _made_here(shape) for shape in MADE_HERE}
    cases["statement"] = export_of([*eligible_resources(), statement(UTROGESTAN_DMD)])
    no_status = active_request(UTROGESTAN_DMD, encounter={"reference": "Encounter/enc-1"})
    del no_status["status"]
    cases["no-status"] = export_of([*eligible_resources(), no_status])
    return cases


def _check(episodes: dict[str, dict[str, Any]]) -> None:
    assert episodes["enc-statement"]["decision"] == "continue"
    no_status = episodes["enc-no-status"]
    assert (no_status["progesterone_prescribed"], no_status["adherence"]) == (None, "care_unknown")
    for shape, (given, adherence) in MADE_HERE.items():
        row = episodes[f"enc-here-{shape}"]
        assert row["decision"] == "offer", shape
        assert row["progesterone_prescribed"] is given, shape
        assert row["adherence"] == adherence, shape


def test_the_audit_reads_every_type_the_reading_reads() -> None:
    assert {r.resource for r in READING.rows} <= set(RESOURCES)
    assert "MedicationStatement" in RESOURCES


@pytest.mark.parametrize("engine", ENGINES)
def test_a_statement_in_the_export_says_she_is_on_progesterone(engine: str, tmp_path: Path) -> None:
    export = export_of([*eligible_resources(), statement(UTROGESTAN_DMD)])
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (row,) = _episodes(tmp_path / "out").values()
    assert row["decision"] == "continue"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["fhir_export"]["files_read"]["MedicationStatement"] == [
        "MedicationStatement.ndjson"
    ]
    assert "MedicationStatement" not in summary["fhir_export"]["skipped_resource_types"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", sorted(MADE_HERE))
def test_a_medicine_prescribed_here_that_cannot_be_identified_is_care_unknown(
    engine: str, shape: str, tmp_path: Path
) -> None:
    run_audit(write_export(_made_here(shape), tmp_path / "in"), tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (row,) = _episodes(tmp_path / "out").values()
    given, adherence = MADE_HERE[shape]
    assert row["decision"] == "offer"
    assert row["progesterone_prescribed"] is given
    assert row["adherence"] == adherence
    if given is None:  # counted as care unknown, outside the "eligible, not offered" measure
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        assert summary["data_quality"]["care_unknown"] == 1


def test_the_engines_agree_on_one_export_of_every_case(tmp_path: Path) -> None:
    folder = write_export(one_export(_cases()), tmp_path / "in")
    rows = {}
    for engine in ENGINES:
        run_audit(folder, tmp_path / engine, engine=engine)  # type: ignore[arg-type]
        rows[engine] = _episodes(tmp_path / engine)
        _check(rows[engine])
    assert rows["duckdb"] == rows["python"]


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).


@pytest.mark.parametrize("engine", ENGINES)
def test_progesterone_made_here_with_an_unreadable_do_not_perform_is_care_unknown(
    engine: str, tmp_path: Path
) -> None:
    """A doNotPerform that is neither true nor false cannot say the request was a prescription,
    nor that it was not: the care given is Unknown (it was counted as given)."""
    here = {"reference": "Encounter/enc-1"}
    request = active_request(UTROGESTAN_DMD, encounter=here, doNotPerform="false")
    export = export_of([*eligible_resources(), request])
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (row,) = _episodes(tmp_path / "out").values()
    assert (row["progesterone_prescribed"], row["adherence"]) == (None, "care_unknown")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("status", ["missing", 7, None])
def test_progesterone_made_here_whose_status_cannot_be_read_is_care_unknown(
    engine: str, status: Any, tmp_path: Path
) -> None:
    """A progesterone request at the audited encounter with no status (FHIR requires one) or one
    that is not text may have been cancelled or entered in error: the care given is Unknown, never
    "not offered" (it was counted as not given, an eligible woman not offered)."""
    here = {"reference": "Encounter/enc-1"}
    request = active_request(UTROGESTAN_DMD, encounter=here)
    if status == "missing":
        del request["status"]
    else:
        request["status"] = status
    export = export_of([*eligible_resources(), request])
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (row,) = _episodes(tmp_path / "out").values()
    assert (row["progesterone_prescribed"], row["adherence"]) == (None, "care_unknown")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["data_quality"]["care_unknown"] == 1
