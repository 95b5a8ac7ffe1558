"""Conditions whose verificationStatus is not confirmed (stop 42, issue 12): the records, and
one export of them (a woman per shape), shared by the card's, the audit's and Spark's tests.

HL7 FHIR R4 condition-ver-status (http://terminology.hl7.org/CodeSystem/condition-ver-status):
`unconfirmed` is "not sufficient diagnostic and/or clinical evidence to treat this as a
confirmed condition", `provisional` and `differential` its children; only `confirmed` says it is
so. A previous miscarriage or bleeding so recorded was read as a confirmed one, and the card and
the audit offered progesterone (NG126 1.5.2). Now they never open an offer: the previous
miscarriage is not counted (the count is unknown, never 0) and the bleeding does not say she is
bleeding, each named; a diagnosis that holds an offer back (an ectopic, a miscarriage of this
pregnancy) still counts; a Condition with no verificationStatus (optional, and most feeds omit
it) is read as before.

Each woman: `eligible_resources` (a previous miscarriage in 2022, bleeding yesterday, an LMP, an
intrauterine pregnancy on scan today, a crown-rump length), changed per shape.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    bleeding,
    condition,
    day,
    eligible_resources,
    previous_miscarriage,
)

VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def status(code: str, local_first: bool = False) -> dict[str, Any]:
    """A verificationStatus of the HL7 code system (a site's own coding first, if asked)."""
    coding = [{"system": VER_STATUS, "code": code}]
    if local_first:
        coding.insert(0, {"system": "urn:example:local-status", "code": "P"})
    return {"coding": coding}


def _with(resource: dict[str, Any], code: str, local_first: bool = False) -> dict[str, Any]:
    return {**resource, "verificationStatus": status(code, local_first)}


def _replacing(rid: str, by: dict[str, Any]) -> list[dict[str, Any]]:
    return [by if r["id"] == rid else r for r in eligible_resources()]


# a past miscarriage not confirmed: her only one, so the count is unknown (needs information)
UNKNOWN_PREVIOUS = {
    f"miscarriage-{code}": _replacing("mc1", _with(previous_miscarriage(), code))
    for code in ("unconfirmed", "provisional", "differential")
} | {
    "miscarriage-local-coding-first": _replacing(
        "mc1", _with(previous_miscarriage(), "provisional", local_first=True)
    ),
    # a history entry ("Past pregnancy history of miscarriage") so recorded
    "history-provisional": _replacing(
        "mc1", _with(condition("mc1", "161744009", "2023-01-10"), "provisional")
    ),
}
# bleeding not confirmed: whether she is bleeding is unknown (needs information)
UNKNOWN_BLEEDING = {
    f"bleeding-{code}": _replacing("bleed", _with(bleeding(), code))
    for code in ("unconfirmed", "provisional", "differential")
}
# controls that hold the offer back, as before: an ectopic pregnancy, or a miscarriage of this
# pregnancy, recorded as provisional still counts
NO_OFFER = {
    "ectopic-provisional": [
        *eligible_resources(),
        _with(condition("ect", "34801009", day()), "provisional"),
    ],
    "this-miscarriage-provisional": [
        *eligible_resources(),
        _with(condition("mc-now", "17369002", day()), "provisional"),
    ],
}
# controls that still offer: no verificationStatus at all (as before), confirmed, and a
# confirmed previous miscarriage beside one not confirmed (one at least: the count stands)
STILL_OFFER = {
    "no-verification-status": eligible_resources(),
    "confirmed": [
        _with(r, "confirmed") if r["resourceType"] == "Condition" else r
        for r in eligible_resources()
    ],
    "confirmed-beside-unconfirmed": [
        *eligible_resources(),
        _with(previous_miscarriage("2019-03-01") | {"id": "mc0"}, "unconfirmed"),
    ],
}
SHAPES = {**UNKNOWN_PREVIOUS, **UNKNOWN_BLEEDING, **NO_OFFER, **STILL_OFFER}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)
