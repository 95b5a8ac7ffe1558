"""Malformed medicines and panel components (our own synthetic records): a MedicationStatement
or MedicationRequest whose status is missing or not text, whose medication[x] or effective[x] is
of the wrong JSON type or has no full date, and an ultrasound panel whose component's code or
value[x] is of the wrong type. Before, none gave a problem, and a progesterone statement or
request with no readable status was read as "not on progesterone" (an offer of a second
prescription). Used by `tests/records/test_malformed_records.py`,
`tests/integration/test_cds_real_malformed.py` and `tests/audit/test_fhir_malformed.py`."""

from __future__ import annotations

import copy
from typing import Any

from tests.integration.fhir_data import LOINC, PATIENT_ID, day, observation
from tests.records.real_shapes import UTROGESTAN_DMD, active_request, statement

PROGESTERONE_RX = {
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "https://dmd.nhs.uk",
                "code": "39709011000001102",
                "display": "Progesterone 400mg pessaries",
            }
        ]
    }
}
OTHER_MEDICINE = {
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "197361",
                "display": "amlodipine 5 MG Oral Tablet",
            }
        ]
    }
}


def _without(resource: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    del out[key]
    return out


def _with(resource: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    out.update(changes)
    return out


_STATEMENT = statement(UTROGESTAN_DMD)
_REQUEST = active_request(PROGESTERONE_RX)

# (the resource, its problem, whether she is on progesterone: None is Unknown)
MEDICINES: dict[str, tuple[dict[str, Any], str, bool | None]] = {
    "statement-status-missing": (
        _without(_STATEMENT, "status"),
        "status is missing (FHIR R4 requires it); read as 'unknown'",
        None,
    ),
    "statement-status-a-number": (
        _with(_STATEMENT, status=1),
        "status is not text; read as absent",
        None,
    ),
    "statement-status-a-concept": (
        _with(_STATEMENT, status={"coding": [{"code": "active"}]}),
        "status is not text; read as absent",
        None,
    ),
    "statement-medication-a-string": (
        _with(_STATEMENT, medicationCodeableConcept="Utrogestan 200mg"),
        "medicationCodeableConcept is not a JSON object; read as absent",
        None,
    ),
    "statement-medication-a-list": (
        _with(_STATEMENT, medicationCodeableConcept=[UTROGESTAN_DMD["medicationCodeableConcept"]]),
        "medicationCodeableConcept is not a JSON object; read as absent",
        None,
    ),
    "statement-effective-a-number": (
        _with(_without(_STATEMENT, "effectivePeriod"), effectiveDateTime=20240220),
        "effectiveDateTime is not text; read as absent",
        True,
    ),
    "statement-period-start-a-number": (
        _with(_STATEMENT, effectivePeriod={"start": 20240220}),
        "effectivePeriod.start is not text; read as absent",
        True,
    ),
    "statement-period-a-string": (
        _with(_STATEMENT, effectivePeriod="last month"),
        "effectivePeriod is not a JSON object; read as absent",
        True,
    ),
    "request-status-missing": (
        _without(_REQUEST, "status"),
        "status is missing (FHIR R4 requires it); read as 'unknown'",
        None,
    ),
    "request-status-a-number": (
        _with(_REQUEST, status=1),
        "status is not text; read as absent",
        None,
    ),
    # another medicine with no status: reported, and it says nothing of progesterone
    "other-medicine-statement-status-missing": (
        _without(statement(OTHER_MEDICINE), "status"),
        "status is missing (FHIR R4 requires it); read as 'unknown'",
        False,
    ),
}
# a statement whose effective[x] has no full date (and no dateAsserted): current, and said so
UNDATED_EFFECTIVE = _with(
    _without(_STATEMENT, "dateAsserted"), effectivePeriod={"start": "2024-02"}
)
UNDATED_EFFECTIVE_PROBLEM = (
    "effective[x] has no full date: when she took it is unknown, so it is read as current"
)


def panel(component: dict[str, Any]) -> dict[str, Any]:
    """An early pregnancy scan panel today whose one component is ``component``."""
    return panel_of([component])


def panel_of(components: Any) -> dict[str, Any]:
    """An early pregnancy scan panel today whose ``component`` is ``components`` as given."""
    return observation("us-panel", LOINC, "11878-6", day(), component=components)


_CRL = {"code": {"coding": [{"system": LOINC, "code": "11957-8"}]}}
_MM = {"value": 9.5, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}
# (the component, the panel's problem)
COMPONENTS: dict[str, tuple[dict[str, Any], str]] = {
    "code-a-string": (
        {"code": "11957-8", "valueQuantity": _MM},
        "a component's code is not a JSON object; read as absent",
    ),
    "value-quantity-a-number": (
        {**_CRL, "valueQuantity": 9.5},
        "a component's valueQuantity is not a JSON object; read as absent",
    ),
    "value-a-string-number": (
        {**_CRL, "valueQuantity": {**_MM, "value": "9.5"}},
        "a component's valueQuantity.value is not a number; read as absent",
    ),
    "value-concept-a-string": (
        {
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "370383002"}]},
            "valueCodeableConcept": "present",
        },
        "a component's valueCodeableConcept is not a JSON object; read as absent",
    ),
    "value-boolean-a-string": (
        {
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "370383002"}]},
            "valueBoolean": "true",
        },
        "a component's valueBoolean is not true or false; read as absent",
    ),
}

_NO_CODE = "a component has no code (FHIR R4 requires it) or is not a JSON object; not read"
# (the panel's whole `component`, the panel's problem): not a list, or an item that is not a JSON
# object or has no code (stop 18; before, each was read as nothing without a word)
PANEL_COMPONENTS: dict[str, tuple[Any, str]] = {
    "component-an-object": (
        {**_CRL, "valueQuantity": _MM},
        "component is not a list; read as absent",
    ),
    "component-a-string": ("CRL 9.5 mm", "component is not a list; read as absent"),
    "component-item-a-string": (["CRL 9.5 mm"], _NO_CODE),
    "component-item-a-number": ([9.5], _NO_CODE),
    "component-item-without-code": ([{"valueQuantity": _MM}], _NO_CODE),
}

# The care given at the audited encounter (read by the audit, `CARE_EVENT_ROWS`): a progesterone
# dispense and dose (FHIR R4 MedicationDispense, MedicationAdministration) whose required or read
# elements are missing or of the wrong JSON type. Before stop 22 none gave a problem.
_HERE = {"reference": "Encounter/enc-1"}


def _care_event(kind: str, rid: str, dated_by: str) -> dict[str, Any]:
    """Progesterone dispensed or given to her at the audited encounter, completed, dated today."""
    return {
        "resourceType": kind,
        "id": rid,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": _HERE,
        dated_by: "2024-03-04T11:00:00Z",
        **PROGESTERONE_RX,
    }


_DISPENSE = _care_event("MedicationDispense", "disp-1", "whenHandedOver")
_DOSE = _care_event("MedicationAdministration", "dose-1", "effectiveDateTime")
_NO_MEDICATION = "medication[x] is missing (FHIR R4 requires it); the medicine cannot be identified"
_NO_STATUS = "status is missing (FHIR R4 requires it); the care given is unknown"
# (the resource, its problem, whether the care given at the encounter is then Unknown: a record
# of progesterone there that cannot say it was given, or of a medicine that may be progesterone)
CARE_EVENTS: dict[str, tuple[dict[str, Any], str, bool]] = {
    "dispense-status-missing": (_without(_DISPENSE, "status"), _NO_STATUS, True),
    "dispense-status-a-number": (
        _with(_DISPENSE, status=1),
        "status is not text; read as absent",
        True,
    ),
    "dispense-medication-missing": (
        _without(_DISPENSE, "medicationCodeableConcept"),
        _NO_MEDICATION,
        True,
    ),
    "dispense-medication-a-string": (
        _with(_DISPENSE, medicationCodeableConcept="Utrogestan 200mg"),
        "medicationCodeableConcept is not a JSON object; read as absent",
        True,
    ),
    "dispense-handed-over-a-number": (
        _with(_DISPENSE, whenHandedOver=20240304),
        "whenHandedOver is not text; read as absent",
        False,
    ),
    "dispense-context-a-string": (
        _with(_DISPENSE, context="Encounter/enc-1"),
        "context is not a JSON object; read as absent",
        False,
    ),
    "dose-status-missing": (_without(_DOSE, "status"), _NO_STATUS, True),
    "dose-medication-reference-a-string": (
        _with(_without(_DOSE, "medicationCodeableConcept"), medicationReference="Medication/m1"),
        "medicationReference is not a JSON object; read as absent",
        True,
    ),
    "dose-period-a-string": (
        _with(_without(_DOSE, "effectiveDateTime"), effectivePeriod="this morning"),
        "effectivePeriod is not a JSON object; read as absent",
        False,
    ),
    "dose-period-start-a-number": (
        _with(_without(_DOSE, "effectiveDateTime"), effectivePeriod={"start": 20240304}),
        "effectivePeriod.start is not text; read as absent",
        False,
    ),
}
