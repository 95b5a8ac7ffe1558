"""What counts as evidence of a current pregnancy (`earlypath.fhir.pregnancy`), as the CDS
patient-view service reads it through `mapping.has_pregnancy_context` (the audit's SQL is held to
the same answers by tests/audit/test_fhir_mapping_agrees.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from earlypath.fhir.mapping import has_pregnancy_context, map_resources

TODAY = dt.date(2024, 6, 3)
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


def _observation(code: str, day: str = "2024-06-01", system: str = LOINC, **value: Any) -> dict:
    return {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": _concept(system, code),
        "effectiveDateTime": day,
        **value,
    }


def _condition(code: str, onset: str = "2024-04-01", **extra: Any) -> dict:
    return {
        "resourceType": "Condition",
        "id": "c",
        "subject": {"reference": "Patient/p"},
        "code": _concept(SNOMED, code),
        "onsetDateTime": onset,
        **extra,
    }


def _patient(gender: str) -> dict:
    return {"resourceType": "Patient", "id": "p", "gender": gender}


def _lmp() -> dict:
    return _observation("8665-2", valueDateTime="2024-04-10")


def _pregnant(*resources: dict) -> bool:
    return has_pregnancy_context(map_resources(list(resources), TODAY))


PREGNANT = {"valueCodeableConcept": _concept(SNOMED, "77386006", "Pregnant")}
NOT_PREGNANT = {"valueCodeableConcept": _concept(SNOMED, "60001007", "Not pregnant")}


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param([_lmp()], True, id="an LMP"),
        pytest.param([_patient("male"), _lmp()], False, id="a man's record, whatever it holds"),
        pytest.param([_patient("female"), _lmp()], True, id="a woman's LMP"),
        pytest.param([_observation("82810-3", **PREGNANT)], True, id="pregnancy status pregnant"),
        pytest.param(
            [_observation("82810-3", **{"valueCodeableConcept": _concept(LOINC, "LA15173-0")})],
            True,
            id="pregnancy status pregnant (LOINC answer)",
        ),
        pytest.param([_observation("82810-3", **NOT_PREGNANT)], False, id="status not pregnant"),
        pytest.param(
            [_observation("21198-7", valueQuantity={"value": 1500, "unit": "IU/L"})],
            True,
            id="a positive serum hCG",
        ),
        pytest.param(
            [_observation("21198-7", valueQuantity={"value": 2, "unit": "IU/L"})],
            False,
            id="a negative serum hCG",
        ),
        pytest.param(
            [_observation("21198-7", valueQuantity={"value": 2, "unit": "ng/mL"})],
            True,
            id="an hCG in a unit not compared is not read as negative",
        ),
        pytest.param(
            [_observation("2106-3", valueCodeableConcept=_concept(SNOMED, "260385009"))],
            False,
            id="a negative urine pregnancy test",
        ),
        pytest.param([_observation("2106-3")], True, id="a urine pregnancy test with no value"),
        pytest.param(
            [_observation("49051-6", valueQuantity={"value": 8, "unit": "wk"})],
            True,
            id="a gestational age",
        ),
        pytest.param([_condition("72892002")], True, id="Normal pregnancy (Synthea)"),
        pytest.param([_condition("237241002")], True, id="Viable pregnancy"),
        pytest.param(
            [_condition("72892002", abatementDateTime="2024-05-01")],
            False,
            id="a pregnancy that ended before today",
        ),
        pytest.param(
            [_condition("72892002", abatementDateTime="2024-06-10")],
            True,
            id="a pregnancy that ended after today",
        ),
        pytest.param(
            [_condition("72892002", abatementString="delivered")],
            True,
            id="an undated end is not an end",
        ),
        pytest.param(
            [_condition("72892002", onset="2023-07-01")], False, id="more than 45 weeks ago"
        ),
        pytest.param([_condition("72892002", onset="2024-06-10")], False, id="recorded later"),
        pytest.param(
            [_condition("72892002", verificationStatus={"coding": [{"code": "refuted"}]})],
            False,
            id="a refuted pregnancy",
        ),
        pytest.param([_condition("161744009")], False, id="a miscarriage history is not now"),
        pytest.param([_condition("17369002", onset="2024-06-03")], True, id="a miscarriage today"),
        pytest.param(
            [_condition("17369002", onset="2024-05-31", recordedDate="2024-06-03")],
            True,
            id="a miscarriage recorded today",
        ),
        pytest.param(
            [_condition("17369002", onset="2024-05-03")],
            False,
            id="a miscarriage a month ago ended that pregnancy",
        ),
        pytest.param([_condition("38341003")], False, id="nothing about pregnancy"),
        pytest.param(
            [
                {
                    "resourceType": "MedicationRequest",
                    "id": "m",
                    "status": "active",
                    "intent": "order",
                    "subject": {"reference": "Patient/p"},
                    "medicationCodeableConcept": {"text": "Utrogestan 100mg capsules"},
                    "authoredOn": "2024-05-01",
                }
            ],
            False,
            id="progesterone alone (HRT is progesterone too) is no pregnancy",
        ),
    ],
)
def test_current_pregnancy_evidence(resources: list[dict], expected: bool) -> None:
    assert _pregnant(*resources) is expected
