"""FHIR R4 test data for the CDS Hooks and mapping tests: one woman, built fact by fact."""

from __future__ import annotations

import datetime as dt
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
TODAY = dt.date(2024, 3, 4)
PATIENT_ID = "pat-SECRET-4417"


def day(offset: int = 0) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def condition(rid: str, code: str, onset: str | None, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": concept(SNOMED, code),
    }
    if onset:
        res["onsetDateTime"] = onset
    res.update(extra)
    return res


def observation(
    rid: str, system: str, code: str, effective: str | None, **value: Any
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": concept(system, code),
    }
    if effective:
        res["effectiveDateTime"] = effective
    res.update(value)
    return res


def lmp(value: str = "2024-01-15") -> dict[str, Any]:
    return observation("lmp", LOINC, "8665-2", day(), valueDateTime=value)


def iup(on: str | None = None) -> dict[str, Any]:
    return observation("iup", SNOMED, "370383002", on or day())


def crl(value: float = 9.5, unit: str = "mm", on: str | None = None) -> dict[str, Any]:
    return observation(
        "crl",
        LOINC,
        "11957-8",
        on or day(),
        valueQuantity={
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    )


def bleeding(on: str | None = None) -> dict[str, Any]:
    return condition("bleed", "289530006", on or day(-1))


def previous_miscarriage(on: str = "2022-06-01") -> dict[str, Any]:
    return condition("mc1", "17369002", on)


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def eligible_resources() -> list[dict[str, Any]]:
    """An eligible woman: IUP on scan, bleeding, one previous miscarriage, 7+0 by CRL."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(), crl()]


def prefetch_for(
    resources: list[dict[str, Any]], medications: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    statements = [r for r in resources if r["resourceType"] == "MedicationStatement"]
    reports = [r for r in resources if r["resourceType"] == "DiagnosticReport"]
    procedures = [r for r in resources if r["resourceType"] == "Procedure"]
    administrations = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    imaging = [r for r in resources if r["resourceType"] == "ImagingStudy"]
    return {
        "patient": {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female"},
        "conditions": bundle(conditions),
        "observations": bundle(observations),
        "medications": bundle(medications or []),
        "statements": bundle(statements),
        "allergies": None,
        "reports": bundle(reports),
        "procedures": bundle(procedures),
        "administrations": bundle(administrations),
        "imaging": bundle(imaging),
    }


def progesterone_order(
    rid: str = "draft-1",
    dose_mg: float = 400,
    route_code: str = "16857009",
    per_day: int = 2,
    end: str | None = None,
    text: str = "Utrogestan 200 mg vaginal capsules",
) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
        "route": concept(SNOMED, route_code),
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": dose_mg,
                    "unit": "mg",
                    "system": "http://unitsofmeasure.org",
                    "code": "mg",
                }
            }
        ],
    }
    if end:
        dosage["timing"]["repeat"]["boundsPeriod"] = {"start": day(), "end": end}
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"text": text},
        "dosageInstruction": [dosage],
    }


def hook_request(hook: str, prefetch: dict[str, Any] | None, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": PATIENT_ID, **context},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body
