"""FHIR R4 MedicationRequest <-> the engine's treatment plan.

`plan_to_medication_request` writes the engine's plan as a draft order. `order_differences`
compares a draft order with the plan (dose, route, frequency, end date): comparisons with the
engine's plan, not rules of their own.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from earlypath.fhir.codes import code_set, system_uri
from earlypath.fhir.mapping import as_day
from earlypath.products import (
    DAY_PARTS,
    DMD_SYSTEM,
    DOSE_UNIT_FORMS,
    DOSE_UNIT_WORDS,
    MG_PER_UNIT,
    NG126_DOSES_PER_DAY,
    NG126_ROUTE_SET,
    VMP_MG_PER_UNIT,
)

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


# `[base/]Type/id[/_history/v]` -> `Type/id`; group 1 is the relative reference.
LITERAL_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def relative_reference(reference: str) -> str | None:
    """`Type/id` of a relative or absolute literal reference (with or without `_history`)."""
    match = LITERAL_REFERENCE.search(reference.strip())
    return match.group(1) if match else None


def _medication_names(medication: dict[str, Any]) -> list[Any]:
    """A Medication's code and its ingredients' concepts (a product may be named only by what
    it contains)."""
    names = [medication["code"]] if medication.get("code") is not None else []
    names += [
        i["itemCodeableConcept"]
        for i in _items(medication.get("ingredient"))
        if i.get("itemCodeableConcept") is not None
    ]
    return names


def is_progesterone_order(
    resource: dict[str, Any], medications: dict[str, dict[str, Any]] | None = None
) -> bool:
    """Is this (draft) MedicationRequest for progesterone? By code, or by name in text/display.

    `medications`: Medication resources sent with the orders (the draftOrders Bundle), by the
    reference that names them (`Medication/x`, or the entry's fullUrl).
    """
    if resource.get("resourceType") != "MedicationRequest":
        return False
    progesterone = code_set("progesterone")
    concepts: list[Any] = []
    if resource.get("medicationCodeableConcept") is not None:
        concepts.append(resource["medicationCodeableConcept"])
    else:
        ref = _obj(resource.get("medicationReference"))
        key = str(ref.get("reference") or "")
        for med in _items(resource.get("contained")):
            if key and f"#{med.get('id')}" == key:
                concepts += _medication_names(med)
        known = medications or {}
        relative = relative_reference(key)
        listed = known.get(key) or (known.get(relative) if relative is not None else None)
        if not concepts and listed is not None:
            concepts += _medication_names(listed)
        if not concepts and ref.get("display"):
            concepts.append({"text": ref["display"]})
    return any(progesterone.matches(_concept(concept)) for concept in concepts)


# Draft orders come straight from the EHR, not through the FHIR parser, and real ones bend R4:
# the CDS Hooks order-select example itself gives `doseAndRate` as one object, not a list. A
# single object where a list belongs is read as a list of one; anything else that is not the
# shape R4 gives is read as absent, so it is reported "not checked", never a crash or a guess.
def _items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _concept(value: Any) -> dict[str, Any]:
    """A CodeableConcept keeping only what R4 allows in it (text a string, codings objects), so
    a malformed one matches nothing instead of failing the call."""
    concept = _obj(value)
    codings = concept.get("coding")
    if codings is None and "code" in concept and "system" in concept:
        codings = [concept]  # a bare Coding where the concept belongs
    out: dict[str, Any] = {"coding": _items(codings)}
    if isinstance(concept.get("text"), str):
        out["text"] = concept["text"]
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


_T = TypeVar("_T")


def _factor(quantity: dict[str, Any], factors: Mapping[str, _T]) -> _T | None:
    for unit in (quantity.get("code"), quantity.get("unit")):
        factor = factors.get(str(unit or "").strip().lower())
        if factor is not None:
            return factor
    return None


_PER_UNIT = dict.fromkeys(DOSE_UNIT_WORDS, 1.0)


# The strength per unit of the order's product and the unit dose form it is of (None: any unit
# of the product, as a dm+d VMP's strength is read).
Strength = tuple[float, str | None]


def _strength_mg(resource: dict[str, Any]) -> Strength | None:
    """The strength per unit of the order's product, by its dm+d VMP code (as the record
    reading, `records.definition`); two VMPs of different strengths leave it unknown. With no
    medicine of its own, the contained Medication it refers to, by its ingredient.strength."""
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        return _ingredient_strength(_contained_medication(resource))
    codings = _items(_obj(concept).get("coding"))
    found = {
        VMP_MG_PER_UNIT[c["code"]]
        for c in codings
        if c.get("system") == DMD_SYSTEM and c.get("code") in VMP_MG_PER_UNIT
    }
    return (float(found.pop()), None) if len(found) == 1 else None


def _contained_medication(resource: dict[str, Any]) -> dict[str, Any]:
    """The contained Medication ``medicationReference`` names ("#id"), or {}."""
    reference = _obj(resource.get("medicationReference")).get("reference")
    if not isinstance(reference, str) or not reference.startswith("#"):
        return {}
    for held in _items(resource.get("contained")):
        if held.get("resourceType") == "Medication" and held.get("id") == reference[1:]:
            return held
    return {}


def _ingredient_strength(medication: dict[str, Any]) -> Strength | None:
    """A Medication's strength per unit as the record reading reads it (stop 55): one
    ingredient, progesterone, so many mg (above 0) per exactly one unit of a dose form."""
    ingredients = _items(medication.get("ingredient"))
    if len(ingredients) != 1:
        return None
    (ingredient,) = ingredients
    if not code_set("progesterone").matches(_concept(ingredient.get("itemCodeableConcept"))):
        return None
    strength = _obj(ingredient.get("strength"))
    numerator, denominator = _obj(strength.get("numerator")), _obj(strength.get("denominator"))
    value, factor = _number(numerator.get("value")), _factor(numerator, MG_PER_UNIT)
    form = _factor(denominator, DOSE_UNIT_FORMS)
    if value is None or factor is None or value * factor <= 0 or form is None:
        return None
    return (value * factor, form) if _number(denominator.get("value")) == 1.0 else None


def _dose_mg(dosage: dict[str, Any], strength: Strength | None) -> float | None:
    """The dose in mg: in a mass unit, or in units of the product of known ``strength`` (of
    the dose's own form, when the strength is of one)."""
    doses = [_obj(dr.get("doseQuantity")) for dr in _items(dosage.get("doseAndRate"))]
    for q in doses:
        value, factor = _number(q.get("value")), _factor(q, MG_PER_UNIT)
        if value is not None and factor is not None:
            return value * factor
    for q in doses:
        value, factor = _number(q.get("value")), _factor(q, _PER_UNIT)
        if value is None or factor is None or strength is None:
            continue
        mg, form = strength
        if form is not None and _factor(q, DOSE_UNIT_FORMS) != form:
            return None
        return value * factor * mg
    return None


def _per_day(dosage: dict[str, Any]) -> float | None:
    timing = _obj(dosage.get("timing"))
    code = timing.get("code")
    if code and code_set("twice_daily").matches(_concept(code)):
        return 2.0
    repeat = _obj(timing.get("repeat"))
    freq, period = _number(repeat.get("frequency")), _number(repeat.get("period"))
    per_unit_days = {"h": 1 / 24, "d": 1, "wk": 7}.get(str(repeat.get("periodUnit")))
    if period is not None and period > 0:
        if freq is None or per_unit_days is None:
            return None
        return freq / (period * per_unit_days)
    return _day_parts_per_day(timing, repeat)


def _day_parts_per_day(timing: dict[str, Any], repeat: dict[str, Any]) -> float | None:
    """Day parts with no timing code, frequency nor period: one dose a distinct day part
    (`products.DAY_PARTS`), as the record reading (`records.definition` ``_WHEN_PER_DAY``)."""
    when = repeat.get("when")
    if isinstance(timing.get("code"), dict) or not isinstance(when, list) or not when:
        return None
    if repeat.get("frequency") is not None or repeat.get("period") is not None:
        return None
    if not all(isinstance(part, str) and part in DAY_PARTS for part in when):
        return None
    return float(len(set(when)))


def _split_per_day(dosages: list[Any]) -> float | None:
    """Dosages split by day part (each at one day part no other names, and concurrent: no
    sequence on any, or one sequence on all): as many doses a day as dosages, as the record
    reading (`records.definition` ``_split_per_day``); None for any other dosages."""
    if len(dosages) < 2 or not all(isinstance(d, dict) for d in dosages):
        return None
    sequences = {_number(d.get("sequence")) for d in dosages}
    given = [d.get("sequence") is not None for d in dosages]
    if any(given) and (not all(given) or len(sequences) != 1 or None in sequences):
        return None
    parts: set[Any] = set()
    for dosage in dosages:
        timing = _obj(dosage.get("timing"))
        if _day_parts_per_day(timing, _obj(timing.get("repeat"))) != 1:
            return None
        parts |= set(_obj(timing.get("repeat"))["when"])
    return float(len(dosages)) if len(parts) == len(dosages) else None


def _end(resource: dict[str, Any], dosage: dict[str, Any]) -> dt.date | None:
    bounds = _obj(_obj(_obj(dosage.get("timing")).get("repeat")).get("boundsPeriod"))
    validity = _obj(_obj(resource.get("dispenseRequest")).get("validityPeriod"))
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
    dosages = _items(resource.get("dosageInstruction"))
    if not dosages:
        return differences, [
            "the order has no structured dosage: dose, route and frequency not checked"
        ]
    strength = _strength_mg(resource)
    split = _split_per_day(dosages)
    # every dosage is compared (a sequence: a loading dose, then another), as the record reading
    # reads them (stop 52); each difference or gap is said once
    for dosage in dosages:
        dose = _dose_mg(dosage, strength)
        if dose is None:
            unchecked.append("dose (no dose in mg, nor in units of a product of known strength)")
        elif dose != plan["dose_mg"]:
            differences.append(f"dose is {dose:g} mg; the plan is {plan['dose_mg']} mg")
        route = dosage.get("route")
        if not isinstance(route, dict):
            unchecked.append(
                "route (none given)" if route is None else "route (not a coded concept)"
            )
        elif not code_set(NG126_ROUTE_SET).matches(_concept(route)):
            differences.append(f"route is not {plan['route']}")
        per_day = split if split is not None else _per_day(dosage)
        if per_day is None:
            unchecked.append("frequency (no structured timing)")
        elif per_day != NG126_DOSES_PER_DAY:
            differences.append(f"{per_day:g} doses a day; the plan is {plan['frequency']}")
    differences, unchecked = list(dict.fromkeys(differences)), list(dict.fromkeys(unchecked))
    ends = [e for e in (_end(resource, dosage) for dosage in dosages) if e is not None]
    end = max(ends, default=None)
    stop = dt.date.fromisoformat(plan["stop_on"])
    if end is not None and end > stop:
        differences.append(
            f"the order runs to {end.isoformat()}, past the stop date {plan['stop_on']}"
        )
    return differences, unchecked
