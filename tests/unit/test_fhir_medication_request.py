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


def test_an_injected_progesterone_order_named_by_its_dmd_brand_is_checked_against_the_plan():
    """A draft order coded in dm+d by a product code the value set does not list (an AMP or a
    pack), named by its brand (stop 51): Gestone, progesterone in oil given intramuscularly, is a
    progesterone order, and what makes it not the NG126 product (route, dose) is named. Until
    stop 51 it was not read as a progesterone order, so nothing was compared."""
    order = progesterone_order(dose_mg=50, per_day=1, route_code="78421000")  # intramuscular
    order["medicationCodeableConcept"] = {
        "coding": [
            {
                "system": "https://dmd.nhs.uk",
                "code": "0000006",  # made up: a code outside the set, read by its name
                "display": "Gestone 50mg/1ml solution for injection ampoules",
            }
        ]
    }
    assert is_progesterone_order(order)
    diffs, unchecked = order_differences(order, _plan())
    assert unchecked == []
    assert "route is not vaginal" in diffs
    assert "dose is 50 mg; the plan is 400 mg" in diffs
    assert "1 doses a day; the plan is twice daily" in diffs


def test_a_dosage_is_read_as_the_record_reading_reads_it():
    """One reading of a dosage (stop 52): a draft order's dosage is read as her record's
    (`records.definition`, the shapes in `tests/records/real_shapes.py`): doseAndRate as one
    object, a dose in units of a dm+d VMP of known strength, every dosage of a sequence; a
    strength is never read from a name."""
    from tests.records.real_shapes import MEDICATION_SHAPES, NG126_PRODUCT

    plan = _plan()
    for shape in (
        "dose-and-rate-one-object",
        "vmp-200mg-two-capsules-bid",
        "vmp-400mg-one-pessary-bid",
        "vmp-200mg-one-capsule-bid",
        "named-200mg-two-capsules-no-code",
        "two-vmps-of-different-strengths",
        "loading-dose-then-200mg",
        "two-dosages-both-ng126",
        # stop 54: day parts with no frequency
        "when-morn-and-night",
        "when-morning-only",
        "when-morning-and-bedtime",
        "when-with-once-daily-frequency",
        "when-with-a-timing-code",
        "split-morning-and-night",
        "split-of-one-sequence",
        "split-in-sequence",
        "split-at-one-day-part",
        "split-of-200mg",
        # stop 55: a contained Medication's ingredient.strength (a draft order holds no other)
        "ingredient-strength-two-capsules",
        "ingredient-strength-one-capsule",
        "ingredient-strength-of-another-form",
        "ingredient-strength-per-two-capsules",
        "ingredient-strength-two-ingredients",
    ):
        order = {**progesterone_order(), **MEDICATION_SHAPES[shape][0]}
        order.pop("dispenseRequest", None)
        if "medicationReference" in order:  # its medicine is the Medication's, not the plan's
            order.pop("medicationCodeableConcept", None)
        diffs, unchecked = order_differences(order, plan)
        expected = NG126_PRODUCT[shape][0]
        read = False if diffs else (None if unchecked else True)
        assert read is expected, (shape, diffs, unchecked)
        if expected is None:
            gaps = {
                "dose": "dose (no dose in mg, nor in units of a product of known strength)",
                "frequency": "frequency (no structured timing)",
            }
            assert unchecked == [gaps[a] for a in NG126_PRODUCT[shape][1]], shape
