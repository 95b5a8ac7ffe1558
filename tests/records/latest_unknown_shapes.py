"""A later bleeding record that does not know whether she is bleeding (stop 43, issue 12): the
records, and one export of them (a woman per shape), shared by the card's, the audit's and
Spark's tests.

Whether she is bleeding is read from the latest record of this pregnancy. A bleeding Condition
that is not confirmed (stop 42), recorded as resolved (C20.24), or abated by the assessment day
(stops 40-41) says whether she is bleeding now is unknown, but the reading skipped it and took
the latest record that gave an answer: an Observation of bleeding "present" three days ago,
followed yesterday by such a Condition, still read as bleeding, and the card and the audit
offered progesterone (NG126 1.5.2); one of bleeding "absent" still read as no bleeding. The
newest record now wins, and when it does not know, neither does the reading
(`needs_information`, naming it). On the same day a record that gives an answer still wins (which
came first is not known), and an Observation whose value cannot be read is still ignored (it is
an unusable row, reported as such, not a statement that the answer is unknown).

Each woman: `eligible_resources` (a previous miscarriage in 2022, an LMP, an intrauterine
pregnancy on scan today, a crown-rump length) with her bleeding Condition replaced per shape.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    SNOMED,
    bleeding,
    concept,
    day,
    eligible_resources,
    observation,
)

VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
PRESENT, ABSENT = "52101004", "2667000"  # SNOMED CT qualifier values (present, absent)


def observed(answer: str | None, on: int, rid: str = "bleed-obs") -> dict[str, Any]:
    """An Observation of vaginal bleeding ``on`` days from today, its answer a SNOMED CT
    qualifier value (present, absent), or ``None``: a value that is neither."""
    if answer is None:
        return observation(rid, SNOMED, "289530006", day(on), valueString="some spotting")
    return observation(
        rid, SNOMED, "289530006", day(on), valueCodeableConcept=concept(SNOMED, answer)
    )


def unconfirmed(on: int) -> dict[str, Any]:
    return {
        **bleeding(day(on)),
        "verificationStatus": {"coding": [{"system": VER_STATUS, "code": "unconfirmed"}]},
    }


def resolved(on: int) -> dict[str, Any]:
    return {
        **bleeding(day(on)),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "resolved"}]},
    }


def abated(onset: int, on: int) -> dict[str, Any]:
    """Begun ``onset`` days from today, abated ``on`` days from today (no clinicalStatus)."""
    return {**bleeding(day(onset)), "abatementDateTime": day(on)}


def with_bleeding(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible, with these bleeding records in place of her bleeding Condition."""
    return [*(r for r in eligible_resources() if r["id"] != "bleed"), *records]


# bleeding present three days ago, then a record yesterday that does not know: it opened the
# offer on the base; now needs information
PRESENT_THEN_UNKNOWN = {
    "present-then-unconfirmed": with_bleeding(observed(PRESENT, -3), unconfirmed(-1)),
    "present-then-resolved": with_bleeding(observed(PRESENT, -3), resolved(-1)),
    "present-then-abated": with_bleeding(observed(PRESENT, -3), abated(-1, -1)),
    # begun before the Observation, abated after it: the abatement is what is newest
    "present-then-abated-later": with_bleeding(observed(PRESENT, -2), abated(-4, -1)),
}
# bleeding absent three days ago, then a record that does not know: "no bleeding" stood (the
# offer held back as if she were not bleeding); now needs information
ABSENT_THEN_UNKNOWN = {
    "absent-then-unconfirmed": with_bleeding(observed(ABSENT, -3), unconfirmed(-1)),
    "absent-then-resolved": with_bleeding(observed(ABSENT, -3), resolved(-1)),
}
# controls, as before: a later record that answers wins; on the same day the answer wins; an
# Observation whose value cannot be read is ignored
STILL_OFFER = {
    "unconfirmed-then-present": with_bleeding(unconfirmed(-3), observed(PRESENT, -1)),
    "resolved-then-present": with_bleeding(resolved(-3), observed(PRESENT, -1)),
    "same-day-present-and-resolved": with_bleeding(observed(PRESENT, -1), resolved(-1)),
    "present-then-unreadable-value": with_bleeding(
        observed(PRESENT, -3), observed(None, -1, "bleed-obs2")
    ),
}
NOT_BLEEDING = {  # a later "absent" answers: no bleeding, the offer held back
    "unconfirmed-then-absent": with_bleeding(unconfirmed(-3), observed(ABSENT, -1)),
}
SHAPES = {**PRESENT_THEN_UNKNOWN, **ABSENT_THEN_UNKNOWN, **STILL_OFFER, **NOT_BLEEDING}
UNKNOWN = {**PRESENT_THEN_UNKNOWN, **ABSENT_THEN_UNKNOWN}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)
