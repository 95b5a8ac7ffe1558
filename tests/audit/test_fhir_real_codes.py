"""The audit of a FHIR bulk export coded as real systems code them (UK primary-care lists,
Synthea, dm+d) gives the answers the CDS service gives (issue 11)."""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.audit.run import run_audit
from tests.fhir_exports import encounter, woman, write_export

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
DMD = "https://dmd.nhs.uk"
TODAY = "2024-03-04"
IUP_3_DAYS_AGO = "2024-03-01"


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _condition(rid: str, patient: str, code: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{patient}"},
        "code": _concept(SNOMED, code),
        "onsetDateTime": onset,
    }


def _observation(rid: str, patient: str, system: str, code: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": f"Patient/{patient}"},
        "code": _concept(system, code),
        "effectiveDateTime": value.pop("on", TODAY),
        **value,
    }


def _eligible(patient: str, *, lmp_code: tuple[str, str] = (LOINC, "8665-2")) -> list[dict]:
    """Offer on its own: bleeding (a UK code), a previous miscarriage (Synthea's code), an LMP
    and an intrauterine pregnancy on a scan 3 days ago."""
    return [
        _condition(f"{patient}-mc", patient, "19169002", "2022-06-01"),
        _condition(f"{patient}-bleed", patient, "723665008", "2024-03-03"),
        _observation(f"{patient}-lmp", patient, *lmp_code, valueDateTime="2024-01-20"),
        _observation(f"{patient}-iup", patient, SNOMED, "370383002", on=IUP_3_DAYS_AGO),
    ]


CASES: dict[str, list[dict]] = {
    "baseline": _eligible("p0"),
    "tubal": [*_eligible("p1"), _condition("p1-e", "p1", "79586000", TODAY)],
    "ruptured-tubal": [*_eligible("p2"), _condition("p2-e", "p2", "198620003", TODAY)],
    "ovarian": [*_eligible("p3"), _condition("p3-e", "p3", "9899009", TODAY)],
    "us-ectopic": [*_eligible("p4"), _observation("p4-e", "p4", SNOMED, "370382007")],
    "complete-miscarriage": [*_eligible("p5"), _condition("p5-m", "p5", "156073000", TODAY)],
    "blighted-ovum": [*_eligible("p6"), _condition("p6-m", "p6", "35999006", TODAY)],
    "gp-lmp": _eligible("p7", lmp_code=(SNOMED, "161713000")),
    "gp-miscarriage-observation": [
        *_eligible("p10"),
        _observation("p10-m", "p10", SNOMED, "156072005"),
    ],
    "heartbeat": [
        *_eligible("p8"),
        _observation("p8-fh", "p8", LOINC, "11948-7", valueQuantity={"value": 150, "unit": "/min"}),
        _observation("p8-msd", "p8", LOINC, "11850-5", valueQuantity={"value": 1.4, "unit": "cm"}),
    ],
    "on-dmd-progesterone": [
        *_eligible("p9"),
        {
            "resourceType": "MedicationRequest",
            "id": "p9-rx",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p9"},
            "authoredOn": "2024-03-02",
            "medicationCodeableConcept": _concept(DMD, "39708911000001106"),
        },
    ],
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("real-codes")
    export: dict[str, list[dict]] = {"Patient": [], "Encounter": []}
    for case, resources in CASES.items():
        patient = resources[0]["subject"]["reference"].removeprefix("Patient/")
        export["Patient"].append(woman(patient))
        export["Encounter"].append(encounter(case, patient))
        for resource in resources:
            export.setdefault(resource["resourceType"], []).append(resource)
    write_export(export, folder / "in")
    run_audit(folder / "in", folder / "out")
    rows = pq.read_table(folder / "out" / "episodes.parquet").to_pylist()
    con = duckdb_connect()
    flatten_fhir_duckdb(con, folder / "in", "flat")
    facts = con.con.sql("SELECT * FROM flat").to_arrow_table().to_pylist()
    flat = {r["episode_id"]: r for r in facts}
    return {r["episode_id"]: {**r, "flat": flat[r["episode_id"]]} for r in rows}


def test_the_baseline_is_an_offer(audited: dict[str, dict[str, Any]]) -> None:
    assert audited["baseline"]["decision"] == "offer"


@pytest.mark.parametrize("case", ["tubal", "ruptured-tubal", "ovarian", "us-ectopic"])
def test_an_ectopic_after_an_intrauterine_scan_is_not_an_offer(
    audited: dict[str, dict[str, Any]], case: str
) -> None:
    assert audited[case]["decision"] != "offer"
    assert audited[case]["decision"] != "needs_information"


@pytest.mark.parametrize(
    "case", ["complete-miscarriage", "blighted-ovum", "gp-miscarriage-observation"]
)
def test_a_miscarriage_today_is_not_an_offer(audited: dict[str, dict[str, Any]], case: str) -> None:
    assert audited[case]["decision"] not in ("offer", "needs_information")


def test_an_lmp_coded_by_gp_systems_dates_the_pregnancy(audited: dict[str, dict[str, Any]]) -> None:
    assert audited["gp-lmp"]["decision"] == "offer"


def test_heart_rate_and_sac_diameter_are_read(audited: dict[str, dict[str, Any]]) -> None:
    row = audited["heartbeat"]
    assert row["decision"] == "offer"
    assert (row["flat"]["fetal_heartbeat"], row["flat"]["msd_mm"]) == ("true", "14.0")
    assert audited["baseline"]["flat"]["fetal_heartbeat"] is None


def test_a_dmd_coded_prescription_is_being_on_progesterone(
    audited: dict[str, dict[str, Any]],
) -> None:
    assert audited["on-dmd-progesterone"]["decision"] == "continue"
