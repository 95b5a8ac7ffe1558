"""An estimated date of delivery beside the LMP (stop 41): the records, and one export of them (a
woman per shape), shared by the card's and the audit's tests.

The shape is HL7 IPS's `Observation-pregnancy-edd` example (HL7/fhir-ips
input/fsh/instances/observation-pregnancy-edd-1.fsh: LOINC 11778-8, `effectiveDateTime` the day
it was set, `valueDateTime` the EDD), with the other EDD codes of the value set (ISiK's 11781-2
"US composite estimate", 11779-6 "from last menstrual period", zib Pregnancy's SNOMED 161714006).
Eligible but for dating: bleeding, a previous miscarriage, an intrauterine pregnancy seen today,
no crown-rump length Observation, an LMP of 2023-11-20 (15+0 on the assessment day, 2024-03-04).
An EDD further than the tolerance from 280 days after that LMP (a scan redated her, or the record
contradicts itself) leaves her gestation unknown, the LMP named; one that agrees, is of an earlier
pregnancy, or sits beside a CRL (which dates her) changes nothing.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    bleeding,
    crl,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)

LMP = "2023-11-20"  # 105 days before 2024-03-04: 15+0


def _edd(value: str, code: str = "11778-8", system: str = LOINC) -> dict[str, Any]:
    return observation("edd", system, code, "2023-12-20", valueDateTime=value)


DATING_UNKNOWN = {  # the LMP is not used: needs_information, the LMP named
    "ips-16+6": _edd("2024-08-13"),  # 280 - 162 days to go: 16+6 by the scan
    "us-composite-16+6": _edd("2024-08-13", "11781-2"),
    "snomed-16+6": _edd("2024-08-13", "161714006", SNOMED),
    "ips-14+0": _edd("2024-09-02"),  # earlier than the LMP says: 14+0
    # DICOM CID 12026's physical-exam methods (HL7 case reporting's EDD component is 57064-8)
    "fundal-height-16+6": _edd("2024-08-13", "57064-8"),
    "physical-exam-16+6": _edd("2024-08-13", "90368-2"),
}
UNCHANGED = {  # dated as before: offer, nothing named
    "by-lmp-280-days": _edd("2024-08-26", "11779-6"),
    "by-lmp-naegele": _edd("2024-08-27", "11779-6"),  # Naegele's rule: 1 day after 280 days
    "earlier-pregnancy": observation(
        "edd", LOINC, "11778-8", "2021-09-01", valueDateTime="2022-03-01"
    ),
    "no-edd": None,
}
# beside a CRL, which dates the pregnancy (so the LMP is not needed): offer, the LMP named
WITH_CRL = {"ips-16+6-with-crl": _edd("2024-08-13")}


def resources(edd: dict[str, Any] | None, with_crl: bool = False) -> list[dict[str, Any]]:
    """Her record, with this EDD Observation (or none)."""
    out = [previous_miscarriage(), bleeding(), lmp(LMP), iup()]
    if with_crl:
        out.append(crl())
    return [*out, edd] if edd is not None else out


def shapes() -> dict[str, list[dict[str, Any]]]:
    """Every shape's record."""
    return {
        **{name: resources(edd) for name, edd in {**DATING_UNKNOWN, **UNCHANGED}.items()},
        **{name: resources(edd, with_crl=True) for name, edd in WITH_CRL.items()},
    }


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    return export_per_shape(shapes())
