"""The plan as a FHIR R4 MedicationRequest, and a draft order compared with the plan."""

from __future__ import annotations

from fhir.resources.R4B.medicationrequest import MedicationRequest

from earlypath import assess
from earlypath.fhir import is_progesterone_order, order_differences, plan_to_medication_request
from tests.integration.fhir_data import progesterone_order

EPISODE = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": "2024-01-15",
    "scans": [
        {"date": "2024-03-04", "location": "intrauterine", "fetal_pole": True, "crl_mm": 9.5}
    ],
}


def _plan():
    return assess(EPISODE)["progesterone"]["plan"]


def test_plan_is_valid_r4_medication_request():
    plan = _plan()
    resource = plan_to_medication_request(plan, "p1", request_id="r1")
    MedicationRequest.model_validate(resource)
    assert resource["id"] == "r1" and resource["status"] == "draft"
    dosage = resource["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 400,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert dosage["timing"]["repeat"]["boundsPeriod"] == {
        "start": "2024-03-04",
        "end": plan["stop_on"],
    }
    assert resource["dispenseRequest"]["quantity"]["value"] == plan["units_first_14_days"]
    assert "vaginally twice daily" in dosage["text"]
    assert is_progesterone_order(resource)
    assert order_differences(resource, plan) == ([], [])


def test_differences_are_comparisons_with_the_plan():
    plan = _plan()
    assert order_differences(progesterone_order(), plan) == ([], [])
    diffs, _ = order_differences(
        progesterone_order(dose_mg=200, per_day=3, route_code="26643006", end="2024-08-01"), plan
    )
    assert len(diffs) == 4
    unstructured = {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {"text": "progesterone"},
    }
    diffs, unchecked = order_differences(unstructured, plan)
    assert diffs == [] and unchecked


def test_twice_daily_by_code_and_grams():
    plan = _plan()
    order = progesterone_order()
    order["dosageInstruction"][0]["timing"] = {
        "code": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                    "code": "BID",
                }
            ]
        }
    }
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 0.4, "code": "g"}
    assert order_differences(order, plan) == ([], [])
