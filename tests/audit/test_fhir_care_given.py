"""The FHIR audit reads the care given at an encounter as real exports record it (issue 12, real
records; stop 20), on DuckDB, the Python engine and Spark alike:

- progesterone dispensed (a hospital pharmacy's or an EPU's stock: MedicationDispense) or given
  (MedicationAdministration) at the encounter (``context``) is care given, "offered": it was
  read as nothing, so a woman who was given progesterone counted as "eligible, not offered";
  one whose status does not show it given (declined, not done, unknown) or whose medicine cannot
  be identified is care unknown; one entered in error says nothing;
- a MedicationRequest that is a proposal or a plan (FHIR R4 request-intent), a draft, or of
  status unknown is care unknown: it was counted as a prescription ("offered");
- an export with no MedicationRequest file (a bulk export filtered by ``_type``) counts the care
  as unknown unless a dispense or a dose shows it, and says so in summary.json and the report.

Shapes: FHIR R4 MedicationDispense (status: medicationdispense-status; ``whenHandedOver``;
``context``), MedicationAdministration (status: medication-admin-status; ``effective[x]``;
``context``) and MedicationRequest (``intent``: request-intent), with the dm+d VMP
39708911000001106 "Progesterone 200mg pessaries" (NHS dm+d, `/work/shared/clinical/
code-sources.md`), a Utrogestan Medication referenced (exported or ``#contained``, as UK Core
and Epic write ``medicationReference``). Our own synthetic records.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.audit.test_fhir_mapping_agrees import flattened_rows
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import PATIENT_ID, TODAY, day, eligible_resources
from tests.records.real_shapes import (
    DMD,
    OTHER_RXNORM,
    UTROGESTAN_DMD,
    active_request,
    export_of,
    medication,
)

ENGINES = ["duckdb", "python"]
HERE = {"reference": "Encounter/enc-1"}
# dm+d VMP "Progesterone 200mg pessaries" (in the progesterone value set)
PROGESTERONE_VMP = {
    "medicationCodeableConcept": {
        "coding": [
            {"system": DMD, "code": "39708911000001106", "display": "Progesterone 200mg pessaries"}
        ]
    }
}
UTROGESTAN = {"coding": [{"system": DMD, "code": "0000002", "display": "Utrogestan 200mg"}]}


def dispense(medicine: dict[str, Any], status: str = "completed", **extra: Any) -> dict[str, Any]:
    """A MedicationDispense of hers at the audited encounter, handed over today."""
    return {
        "resourceType": "MedicationDispense",
        "id": "md-1",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": HERE,
        "whenHandedOver": f"{day()}T11:30:00Z",
        **medicine,
        **extra,
    }


def administration(medicine: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    """A MedicationAdministration of hers at the audited encounter, today."""
    return {
        "resourceType": "MedicationAdministration",
        "id": "ma-1",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": HERE,
        "effectiveDateTime": f"{day()}T11:00:00Z",
        **medicine,
    }


def request_here(**extra: Any) -> dict[str, Any]:
    """A progesterone MedicationRequest made at the audited encounter (an active order)."""
    return {**active_request(PROGESTERONE_VMP, encounter=HERE), "authoredOn": day(), **extra}


# name: (her records beside the eligible ones, progesterone_prescribed, adherence); every one of
# these exports holds a MedicationRequest file (a folic acid order made elsewhere)
WITH_PRESCRIPTIONS: dict[str, tuple[list[dict[str, Any]], bool | None, str]] = {
    "dispensed-vmp": ([dispense(PROGESTERONE_VMP)], True, "offered"),
    "dispensed-ready-for-pickup": ([dispense(PROGESTERONE_VMP, "in-progress")], True, "offered"),
    "dispensed-exported-medication": (
        [
            # the merged export gives each case's resources its name as an id prefix
            dispense(
                {"medicationReference": {"reference": "Medication/dispensed-exported-medication-m"}}
            ),
            medication("m", UTROGESTAN),
        ],
        True,
        "offered",
    ),
    "dispensed-contained-medication": (
        [
            dispense(
                {
                    "contained": [medication("m1", UTROGESTAN)],
                    "medicationReference": {"reference": "#m1"},
                }
            )
        ],
        True,
        "offered",
    ),
    "administered": ([administration(UTROGESTAN_DMD)], True, "offered"),
    "administration-in-progress": (
        [administration(PROGESTERONE_VMP, "in-progress")],
        True,
        "offered",
    ),
    "dispense-declined": ([dispense(PROGESTERONE_VMP, "declined")], None, "care_unknown"),
    "dispense-cancelled": ([dispense(PROGESTERONE_VMP, "cancelled")], None, "care_unknown"),
    "administration-not-done": (
        [administration(PROGESTERONE_VMP, "not-done")],
        None,
        "care_unknown",
    ),
    "dispense-status-unknown": ([dispense(PROGESTERONE_VMP, "unknown")], None, "care_unknown"),
    "dispense-unidentified-medicine": (
        [dispense({"medicationCodeableConcept": {"text": "PV pessary as directed"}})],
        None,
        "care_unknown",
    ),
    "dispense-entered-in-error": (
        [dispense(PROGESTERONE_VMP, "entered-in-error")],
        False,
        "not_offered",
    ),
    "dispensed-other-medicine": (
        [dispense({"medicationCodeableConcept": {"coding": [OTHER_RXNORM]}})],
        False,
        "not_offered",
    ),
    "dispensed-at-another-encounter": (
        [dispense(PROGESTERONE_VMP, context={"reference": "Encounter/elsewhere"})],
        False,
        "not_offered",
    ),
    # FHIR R4 request-intent: a proposal or a plan is not a prescription, an original order is
    "request-proposal": ([request_here(intent="proposal")], None, "care_unknown"),
    "request-plan": ([request_here(intent="plan")], None, "care_unknown"),
    "request-without-intent": ([request_here(intent=None)], None, "care_unknown"),
    "request-original-order": ([request_here(intent="original-order")], True, "offered"),
    # medicationrequest-status: a draft is not yet actionable; unknown cannot say
    "request-draft": ([request_here(status="draft")], None, "care_unknown"),
    "request-status-unknown": ([request_here(status="unknown")], None, "care_unknown"),
    "request-completed": ([request_here(status="completed")], True, "offered"),
    "request-stopped": ([request_here(status="stopped")], True, "offered"),
    "request-on-hold": ([request_here(status="on-hold")], True, "offered"),
    "proposal-then-dispensed": (
        [request_here(intent="proposal"), dispense(PROGESTERONE_VMP)],
        True,
        "offered",
    ),
    "nothing-given": ([], False, "not_offered"),
}
# The same without any MedicationRequest file in the export.
WITHOUT_PRESCRIPTIONS: dict[str, tuple[list[dict[str, Any]], bool | None, str]] = {
    "dispensed-vmp": ([dispense(PROGESTERONE_VMP)], True, "offered"),
    "administered": ([administration(UTROGESTAN_DMD)], True, "offered"),
    "dispense-entered-in-error": (
        [dispense(PROGESTERONE_VMP, "entered-in-error")],
        None,
        "care_unknown",
    ),
    "nothing-given": ([], None, "care_unknown"),
}
FOLIC_ACID_ELSEWHERE = {
    **active_request({"medicationCodeableConcept": {"coding": [OTHER_RXNORM]}}),
    "id": "rx-folic",
}


def _export(
    cases: dict[str, tuple[list[dict[str, Any]], bool | None, str]], prescriptions: bool
) -> dict[str, list[dict[str, Any]]]:
    exports = {}
    for name, (records, _, _) in cases.items():
        records = [{k: v for k, v in r.items() if v is not None} for r in records]
        if prescriptions:
            records.append(FOLIC_ACID_ELSEWHERE)
        exports[name] = export_of([*eligible_resources(), *records])
    merged = one_export(exports)
    assert ("MedicationRequest" in merged) is prescriptions
    return merged


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("care")
    return {
        "with": write_export(_export(WITH_PRESCRIPTIONS, True), root / "with"),
        "without": write_export(_export(WITHOUT_PRESCRIPTIONS, False), root / "without"),
    }


def _audit(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def _check(rows: dict[str, dict[str, Any]], cases: dict[str, tuple[Any, bool | None, str]]) -> None:
    assert set(rows) == set(cases)
    for name, (_, given, adherence) in cases.items():
        row = rows[name]
        assert row["decision"] == "offer", name
        assert (row["progesterone_prescribed"], row["adherence"]) == (given, adherence), name


@pytest.fixture(scope="module")
def audited(
    folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], tuple[dict[str, dict[str, Any]], Path]]:
    """Each export audited once on each engine: (its rows, its output folder)."""
    out = {}
    for export, folder in folders.items():
        for engine in ENGINES:
            where = tmp_path_factory.mktemp(f"{export}-{engine}")
            out[(export, engine)] = (_audit(folder, where, engine), where)
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_care_dispensed_administered_or_only_proposed_at_the_encounter(
    engine: str, audited: dict[tuple[str, str], tuple[dict, Path]]
) -> None:
    rows, out = audited[("with", engine)]
    _check(rows, WITH_PRESCRIPTIONS)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "without_medication_requests" not in summary["fhir_export"]
    read = summary["fhir_export"]["files_read"]
    assert read["MedicationDispense"] == ["MedicationDispense.ndjson"]
    assert read["MedicationAdministration"] == ["MedicationAdministration.ndjson"]
    assert "MedicationDispense" not in summary["fhir_export"]["skipped_resource_types"]


@pytest.mark.parametrize("engine", ENGINES)
def test_without_prescriptions_in_the_export_care_is_unknown_and_said_so(
    engine: str, audited: dict[tuple[str, str], tuple[dict, Path]]
) -> None:
    rows, out = audited[("without", engine)]
    _check(rows, WITHOUT_PRESCRIPTIONS)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["fhir_export"]["without_medication_requests"] is True
    assert summary["data_quality"]["care_unknown"] == 2
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "The export holds no MedicationRequest file" in report


def test_the_engines_agree_on_the_care_given(
    audited: dict[tuple[str, str], tuple[dict, Path]],
) -> None:
    for export in ("with", "without"):
        assert audited[(export, "duckdb")][0] == audited[(export, "python")][0]


def test_prescribed_on_is_the_prescription_day_else_the_dispense_day(tmp_path: Path) -> None:
    """A dispense handed over today dates the care given; a prescription made there, written a
    day before, dates it when there is one."""
    dispensed = export_of([*eligible_resources(), dispense(PROGESTERONE_VMP)])
    (row,) = flattened_rows(write_export(dispensed, tmp_path / "dispensed"))
    assert (row["progesterone_prescribed"], row["prescribed_on"]) == (True, TODAY)
    both = export_of(
        [*eligible_resources(), dispense(PROGESTERONE_VMP), request_here(authoredOn=day(-1))]
    )
    (row,) = flattened_rows(write_export(both, tmp_path / "both"))
    assert (row["progesterone_prescribed"], row["prescribed_on"]) == (
        True,
        TODAY - dt.timedelta(days=1),
    )


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
