"""An Observation that would open the offer, of a status not known to be verified (stop 43,
issue 12): the records, and one export of them (a woman per shape), shared by the card's, the
audit's and Spark's tests.

FHIR R4 observation-status (https://hl7.org/fhir/R4/valueset-observation-status.html):
`preliminary` is an initial or interim result whose data may be incomplete or unverified;
`unknown` means the sender does not know which status applies. Only a scan location read them
so; bleeding recorded as "present" on such a result opened the offer (NG126 1.5.2), as did a
previous miscarriage so recorded (a history finding, or a count of 1). Read now as a Condition
not confirmed is (stop 42): neither opens an offer (whether she is bleeding, and how many
miscarriages she has had, are Unknown, the record named), while what holds the offer back
("absent", a count of 0) still counts, and a later final answer still decides.

Each woman: `eligible_resources` (a previous miscarriage in 2022, bleeding, an LMP, an
intrauterine pregnancy on scan today, a crown-rump length) with her bleeding Condition, or her
previous miscarriage, replaced per shape.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    concept,
    day,
    eligible_resources,
    observation,
)

PRESENT, ABSENT = "52101004", "2667000"  # SNOMED CT qualifier values (present, absent)


def bleeding_seen(answer: str, status: str, on: int = -1, rid: str = "bleed-obs") -> dict[str, Any]:
    """An Observation of vaginal bleeding ``on`` days from today, of this ``status``."""
    value = concept(SNOMED, answer)
    return observation(rid, SNOMED, "289530006", day(on), valueCodeableConcept=value) | {
        "status": status
    }


def miscarriage_history(status: str) -> dict[str, Any]:
    """A "history of miscarriage" finding (SNOMED CT 161744009), with no value (present)."""
    return observation("mc-obs", SNOMED, "161744009", "2022-06-01") | {"status": status}


def miscarriage_count(count: int, status: str) -> dict[str, Any]:
    """LOINC 11614-5, the number of spontaneous abortions (as the HL7 IPS writes a count)."""
    return observation("mc-count", LOINC, "11614-5", day(), valueInteger=count) | {"status": status}


def replacing(rid: str, *records: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible, with these records in place of her record ``rid``."""
    return [*(r for r in eligible_resources() if r["id"] != rid), *records]


# opened the offer on the base; now needs information
UNKNOWN_BLEEDING = {
    f"bleeding-{status}": replacing("bleed", bleeding_seen(PRESENT, status))
    for status in ("preliminary", "unknown")
}
UNKNOWN_PREVIOUS = {
    "history-preliminary": replacing("mc1", miscarriage_history("preliminary")),
    "history-unknown": replacing("mc1", miscarriage_history("unknown")),
    "count-preliminary": replacing("mc1", miscarriage_count(1, "preliminary")),
}
# controls: what holds the offer back still counts; a later final answer decides
NO_OFFER = {
    "bleeding-absent-preliminary": replacing("bleed", bleeding_seen(ABSENT, "preliminary")),
    "count-zero-preliminary": replacing("mc1", miscarriage_count(0, "preliminary")),
}
STILL_OFFER = {
    "preliminary-then-final-present": replacing(
        "bleed",
        bleeding_seen(PRESENT, "preliminary", -3),
        bleeding_seen(PRESENT, "final", -1, "bleed-obs2"),
    ),
    "bleeding-amended": replacing("bleed", bleeding_seen(PRESENT, "amended")),
}
SHAPES = {**UNKNOWN_BLEEDING, **UNKNOWN_PREVIOUS, **NO_OFFER, **STILL_OFFER}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)
