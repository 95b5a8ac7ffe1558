"""FHIR R4 MedicationRequest <-> the engine's treatment plan.

`plan_to_medication_request` writes the engine's plan as a draft order. `order_differences`
compares a draft order with the plan (dose, route, frequency, end date): comparisons with the
engine's plan, not rules of their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from earlypath.fhir.codes import code_set, system_uri
from earlypath.fhir.mapping import as_day

THREATENED_MISCARRIAGE = {
    "system": "http://snomed.info/sct",
    "code": "54048003",
    "display": "Threatened miscarriage",
}
VAGINAL_ROUTE = {"system": "http://snomed.info/sct", "code": "16857009", "display": "Vaginal route"}


def plan_to_medication_request(
    plan: dict[str, Any], patient_id: str | None, *, request_id: str | None = None
) -> dict[str, Any]:
    """A draft MedicationRequest (FHIR R4 JSON) for the engine's progesterone plan."""
    product = plan["product"]
    start, stop = plan["start_on"], plan["stop_on"]
    per_dose = product["units_per_dose"]
    unit = product["unit"]
    instruction = (
        f"{plan['dose_mg']} mg ({per_dose} {unit}{'s' if per_dose != 1 else ''} of "
        f"{product['strength_mg']} mg) {plan['route']}ly {plan['frequency']}, from {start} "
        f"until {stop} (stop on {stop})"
    )
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": request_id or str(uuid.uuid4()),
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": f"{product['name']} (micronised progesterone)"},
        "authoredOn": start,
        "reasonCode": [
            {
                "coding": [THREATENED_MISCARRIAGE],
                "text": "Threatened miscarriage (NICE NG126 1.5.2)",
            }
        ],
        "dosageInstruction": [
            {
                "text": instruction,
                "timing": {
                    "repeat": {
                        "boundsPeriod": {"start": start, "end": stop},
                        "frequency": 2,
                        "period": 1,
                        "periodUnit": "d",
                    }
                },
                "route": {"coding": [VAGINAL_ROUTE], "text": "vaginal"},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": plan["dose_mg"],
                            "unit": "mg",
                            "system": system_uri("ucum"),
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": start, "end": stop},
            "quantity": {"value": plan["units_first_14_days"], "unit": unit},
            "expectedSupplyDuration": {
                "value": min(14, plan["days_to_stop_date"]),
                "unit": "days",
                "system": system_uri("ucum"),
                "code": "d",
            },
        },
        "note": [
            {"text": plan["off_label"]},
            {
                "text": (
                    f"First prescription: {plan['units_first_14_days']} {unit}s for 14 days; "
                    f"{plan['units_to_stop_date']} {unit}s to the stop date."
                )
            },
        ],
    }
    if patient_id:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
    return resource


def is_progesterone_order(resource: dict[str, Any]) -> bool:
    """Is this (draft) MedicationRequest for progesterone? By code, or by name in text/display."""
    if resource.get("resourceType") != "MedicationRequest":
        return False
    progesterone = code_set("progesterone")
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        ref = resource.get("medicationReference") or {}
        key = str(ref.get("reference") or "")
        for med in resource.get("contained") or []:
            if isinstance(med, dict) and f"#{med.get('id')}" == key:
                concept = med.get("code")
        if concept is None and ref.get("display"):
            concept = {"text": ref["display"]}
    return concept is not None and progesterone.matches(concept)


def _dose_mg(dosage: dict[str, Any]) -> float | None:
    for dr in dosage.get("doseAndRate") or []:
        q = dr.get("doseQuantity") or {}
        unit = str(q.get("code") or q.get("unit") or "").lower()
        if q.get("value") is None:
            continue
        if unit == "mg":
            return float(q["value"])
        if unit == "g":
            return float(q["value"]) * 1000
    return None


def _per_day(dosage: dict[str, Any]) -> float | None:
    timing = dosage.get("timing") or {}
    code = timing.get("code")
    if code and code_set("twice_daily").matches(code):
        return 2.0
    repeat = timing.get("repeat") or {}
    freq, period, unit = repeat.get("frequency"), repeat.get("period"), repeat.get("periodUnit")
    if freq is None or period in (None, 0) or unit is None:
        return None
    per_unit_days = {"h": 1 / 24, "d": 1, "wk": 7}.get(unit)
    if per_unit_days is None:
        return None
    return float(freq) / (float(period) * per_unit_days)


def _end(resource: dict[str, Any], dosage: dict[str, Any]) -> dt.date | None:
    bounds = ((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
    validity = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
    days = [d for d in (as_day(bounds.get("end")), as_day(validity.get("end"))) if d is not None]
    return max(days) if days else None


def order_differences(
    resource: dict[str, Any], plan: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """How a progesterone order differs from the engine's plan.

    Returns (differences, unchecked): what differs, and what the order does not say clearly
    enough to compare.
    """
    differences: list[str] = []
    unchecked: list[str] = []
    dosages = [d for d in resource.get("dosageInstruction") or [] if isinstance(d, dict)]
    if not dosages:
        return differences, [
            "the order has no structured dosage: dose, route and frequency not checked"
        ]
    dosage = dosages[0]
    dose = _dose_mg(dosage)
    if dose is None:
        unchecked.append("dose (no dose in mg)")
    elif dose != plan["dose_mg"]:
        differences.append(f"dose is {dose:g} mg; the plan is {plan['dose_mg']} mg")
    route = dosage.get("route")
    if route is None:
        unchecked.append("route (none given)")
    elif not code_set("vaginal_route").matches(route):
        differences.append(f"route is not {plan['route']}")
    per_day = _per_day(dosage)
    if per_day is None:
        unchecked.append("frequency (no structured timing)")
    elif per_day != 2:
        differences.append(f"{per_day:g} doses a day; the plan is {plan['frequency']}")
    end = _end(resource, dosage)
    stop = dt.date.fromisoformat(plan["stop_on"])
    if end is not None and end > stop:
        differences.append(
            f"the order runs to {end.isoformat()}, past the stop date {plan['stop_on']}"
        )
    return differences, unchecked
