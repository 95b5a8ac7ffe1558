"""Scan results whose status is `unknown` (stop 42): the records, and one export of them (a
woman per shape), shared by the card's, the audit's and Spark's tests.

FHIR R4 observation-status and diagnostic-report-status define `unknown` as "the authoring/source
system does not know which of the status values currently applies ... one of the listed statuses
is presumed to apply" (https://hl7.org/fhir/R4/valueset-observation-status.html), so such a result
may be final. Converters send it when a source status does not map (HL7 v2 OBX-11 or OBR-25
values outside the v2-to-FHIR concept map; CDA statusCode nullFlavor). It was not read at all: a
scan showing an ectopic pregnancy today, sent so, was dropped and the card offered progesterone
on the intrauterine scan of a week ago. Now it is read as a preliminary result is: a finding that
holds an offer back counts, and an intrauterine finding so sent never confirms (it is named).

Each woman: a previous miscarriage, bleeding, an LMP, an intrauterine pregnancy seen (final) a
week ago with a crown-rump length today (`eligible_resources` with its scan a week ago), and
today's result with status `unknown`.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, encounter, namespaced, woman
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    day,
    eligible_resources,
    iup,
    observation,
)
from tests.records.real_shapes import component, us_panel
from tests.records.scan_shapes import scan_report

ECTOPIC = (SNOMED, "34801009")  # Ectopic pregnancy
ECTOPIC_CONCEPT = {"coding": [{"system": SNOMED, "code": "34801009", "display": "Ectopic"}]}
FINDINGS = (LOINC, "59776-5")  # Procedure findings Narrative: a generic code valued by the finding


def _unknown(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "status": "unknown"}


NO_OFFER = {  # today's result shows an ectopic pregnancy: do not offer
    "ectopic-code": _unknown(observation("ect", *ECTOPIC, day())),
    "ectopic-value": _unknown(
        observation("ect", *FINDINGS, day(), valueCodeableConcept=ECTOPIC_CONCEPT)
    ),
    "ectopic-panel-component": _unknown(
        us_panel([component(*FINDINGS, valueCodeableConcept=ECTOPIC_CONCEPT)], on=day())
    ),
    "ectopic-report": scan_report(conclusion=ECTOPIC_CONCEPT, status="unknown"),
}
# today's scan shows an intrauterine pregnancy, status unknown: it does not confirm, but the
# final scan of a week ago stands (offer), and today's is named as not confirming
STILL_OFFER = {"iup-code": _unknown(iup()) | {"id": "iup-today"}}


def her_record() -> list[dict[str, Any]]:
    """Eligible, her intrauterine pregnancy seen (final) a week ago, the CRL today."""
    return [r for r in eligible_resources() if r["id"] != "iup"] + [iup(day(-7))]


def shapes() -> dict[str, list[dict[str, Any]]]:
    """Every shape's record."""
    return {name: [*her_record(), r] for name, r in {**NO_OFFER, **STILL_OFFER}.items()}


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    out: Export = {"Patient": [], "Encounter": []}
    for shape, record in shapes().items():
        for resource in namespaced(
            [woman(PATIENT_ID), encounter("enc", PATIENT_ID), *record], f"{shape}-"
        ):
            out.setdefault(resource["resourceType"], []).append(resource)
    return out


def shape_of(encounter_id: str) -> str:
    """The shape an encounter of `export` is of."""
    return encounter_id.rsplit("-enc", 1)[0]
