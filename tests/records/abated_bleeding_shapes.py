"""A bleeding Condition with abatement[x] and no clinicalStatus (stop 40): the records, and one
export of them (a woman per shape), shared by the card's and the audit's tests.

FHIR R4 invariant con-4: a Condition with an abatement must have a clinicalStatus of inactive,
resolved or remission; real feeds still send one without. Eligible (`eligible_resources`) but
for bleeding, which began two days ago and is recorded as abated, as each element of
abatement[x] can say it. Abated by the assessment day, or at a time that is not a day, whether
she is bleeding now is unknown; abated after the assessment day, she is bleeding now.

Stop 41: the same abatement beside a clinicalStatus that says the bleeding is not over (`active`,
`recurrence`: also against con-4, whose FHIRPath validators did not always enforce, see
hl7au/au-fhir-base issue 151, where an `active` Condition passed the profile's con-4 test). The
record contradicts itself, so whether she is bleeding now is unknown as well (`CONTRADICTED`),
named as a contradiction; abated after the assessment day, still current.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import bleeding, day, eligible_resources


def _abated(**abatement: Any) -> dict[str, Any]:
    return {**bleeding(day(-2)), **abatement}


MAY_HAVE_ENDED = {  # whether she is bleeding now is unknown: needs_information, naming it
    "date-yesterday": _abated(abatementDateTime=day(-1)),
    "date-today": _abated(abatementDateTime=f"{day()}T09:30:00+00:00"),
    "period": _abated(abatementPeriod={"start": day(-1), "end": day(-1)}),
    "age": _abated(abatementAge={"value": 31, "unit": "a", "system": "http://unitsofmeasure.org"}),
    "string": _abated(abatementString="stopped"),
}


def _status(code: str) -> dict[str, Any]:
    system = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    return {"clinicalStatus": {"coding": [{"system": system, "code": code}]}}


CONTRADICTED = {  # abated, yet not over by its status: unknown, named as a contradiction
    "active-date-yesterday": _abated(**_status("active"), abatementDateTime=day(-1)),
    "active-date-today": _abated(**_status("active"), abatementDateTime=f"{day()}T08:00:00Z"),
    "active-string": _abated(**_status("active"), abatementString="settled"),
    "recurrence-period": _abated(
        **_status("recurrence"), abatementPeriod={"start": day(-1), "end": day(-1)}
    ),
}
CURRENT = {  # she is bleeding now: offer
    "date-after-today": _abated(abatementDateTime=day(1)),
    "no-abatement": bleeding(day(-2)),
    "active-after-today": _abated(**_status("active"), abatementDateTime=day(1)),
    "active-no-abatement": {**bleeding(day(-2)), **_status("active")},
}


def with_bleeding(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible, with this bleeding Condition in place of hers."""
    return [*(r for r in eligible_resources() if r["id"] != "bleed"), condition]


def export(shapes: dict[str, dict[str, Any]] | None = None) -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today; by
    default those of stop 40 and the controls."""
    every = shapes or {**MAY_HAVE_ENDED, **CURRENT}
    return export_per_shape({shape: with_bleeding(c) for shape, c in every.items()})
