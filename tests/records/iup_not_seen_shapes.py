"""A scan that records an intrauterine pregnancy as not seen (stop 40): the records, and one
export of them (a woman per shape), shared by the card's, the audit's and Spark's tests.

The shape: a finding answered yes or no, as questionnaires, EPAU scan forms and lab systems code
it (LOINC answer list LL361-7 "Yes"/"No", the SNOMED CT qualifier values, or `valueBoolean`, the
FHIR R4 Observation value for a yes/no finding; `tests.records.real_shapes.YES_NO`), and an
ultrasound panel's component (`tests.records.real_shapes.us_panel`). An intrauterine pregnancy
was seen two days ago; today's scan records it as not seen.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    bleeding,
    crl,
    day,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)
from tests.records.real_shapes import component, us_panel

IUP_FINDING = (SNOMED, "370383002")  # Antenatal ultrasound confirms intrauterine pregnancy
IUP_DISORDER = (SNOMED, "65727000")  # Intrauterine pregnancy


def _answered(code: tuple[str, str], **value: Any) -> dict[str, Any]:
    return observation("iup-today", code[0], code[1], day(), **value)


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


NOT_SEEN = {  # today's scan: no intrauterine pregnancy
    "loinc-no": _answered(IUP_DISORDER, valueCodeableConcept=_concept(LOINC, "LA32-8", "No")),
    "snomed-no": _answered(IUP_FINDING, valueCodeableConcept=_concept(SNOMED, "373067005", "No")),
    "snomed-absent": _answered(
        IUP_FINDING, valueCodeableConcept=_concept(SNOMED, "2667000", "Absent")
    ),
    "boolean-false": _answered(IUP_FINDING, valueBoolean=False),
    "panel-component": us_panel([component(*IUP_FINDING, valueBoolean=False)], on=day()),
}
SAYS_NOTHING = {  # today's scan: no ectopic pregnancy seen
    "ectopic-not-seen": _answered((SNOMED, "370382007"), valueBoolean=False),
}


def seen_two_days_ago() -> list[dict[str, Any]]:
    """Eligible: a previous miscarriage, bleeding, an LMP, and an intrauterine pregnancy with a
    CRL of 9.5 mm on a scan two days ago."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(day(-2)), crl(on=day(-2))]


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    every = {**NOT_SEEN, **SAYS_NOTHING}
    return export_per_shape({shape: [*seen_two_days_ago(), f] for shape, f in every.items()})
