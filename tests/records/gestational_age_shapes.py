"""A recorded gestational age (or an EDD given to a month only) beside the LMP (stop 41): the
records, and one export of them (a woman per shape), shared by the card's and the audit's tests.

Eligible but for dating, as in `edd_shapes`: bleeding, a previous miscarriage, an intrauterine
pregnancy seen today, no crown-rump length Observation, an LMP of 2023-11-20 (15+0 on the
assessment day, 2024-03-04). The shapes:

- an ultrasound gestational age as SATUSEHAT's ANC mapping sends it (LOINC 11888-5 "Gestational
  age US composite estimate", valueQuantity in UCUM `wk`) and AU Core's gestational age
  (hl7au/draft-diagnostic-orders input/fsh/instances/Inline-5-GestationalAgeObservation.fsh:
  SNOMED 57036006 "Fetal gestational age" beside LOINC 11885-1, valueQuantity 112 `d`);
- LOINC 11884-4 "Gestational age Estimated" in whole (completed) weeks, 11886-9 "from ovulation
  date" in days;
- gestational ages that cannot be read (no unit, months, text) and IPS's EDD
  (observation-pregnancy-edd-1.fsh, LOINC 11778-8) given to a month only ("2024-08");
- an EDD whose value is not a date (stop 42): a valueString in the UK's day order, as an HL7 v2
  OBX of value type ST converts, a valuePeriod, a valueDateTime that is no date. Every profile
  found (IPS, ISiK, zib, GP Connect's PRSB "Expected delivery date", IHE mAPS) sends a
  valueDateTime; these were ignored silently, so the LMP dated her.

A gestation further than the tolerance from the LMP's (a scan redated her, or the record
contradicts itself), or one that cannot be read, leaves her gestation unknown, the LMP named; one
that agrees, is of an earlier pregnancy, has no value or sits beside a CRL changes nothing.
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
TODAY = "2024-03-04"
UCUM = "http://unitsofmeasure.org"


def _quantity(value: float, code: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if code is not None:
        quantity.update(unit=code, system=UCUM, code=code)
    return quantity


def _ga(value: float, unit: str | None, code: str = "11888-5", on: str = TODAY) -> dict[str, Any]:
    return observation("ga", LOINC, code, on, valueQuantity=_quantity(value, unit))


def _au_core() -> dict[str, Any]:
    """AU Core's gestational age: two codings, 112 days (16+0) taken today."""
    ga = _ga(112, "d", "11885-1")
    ga["code"] = {
        "coding": [
            {"system": SNOMED, "code": "57036006", "display": "Fetal gestational age"},
            {"system": LOINC, "code": "11885-1"},
        ],
        "text": "Gestational Age by Last Menstrual Period (LMP)",
    }
    return ga


AGAINST = {  # the LMP is not used: needs_information, the LMP named as disagreeing
    "us-16.9-wk": _ga(16.9, "wk"),  # 118.3 days: 16+6 by the scan
    "au-core-112-d": _au_core(),  # 16+0
    "estimated-13-wk": _ga(13, "wk", "11884-4"),  # 13+0 to 13+6: she is further on by the LMP
    "ovulation-118-d": _ga(118, "d", "11886-9"),
}


def _edd(on: str = "2023-12-20", **value: Any) -> dict[str, Any]:
    return observation("edd", LOINC, "11778-8", on, **value)


UNREADABLE = {  # the LMP is not used: needs_information, the record and the LMP named
    "us-no-unit": _ga(16.9, None),
    "us-months": _ga(4, "mo"),
    "us-in-words": observation("ga", LOINC, "11888-5", TODAY, valueString="16 weeks 6 days"),
    "edd-month-only": observation("edd", LOINC, "11778-8", "2023-12-20", valueDateTime="2024-08"),
}
# an EDD whose value is no date (stop 42): named as such, the LMP unchecked
EDD_NOT_A_DATE = {
    "edd-in-words": _edd(valueString="13/08/2024"),
    "edd-period": _edd(valuePeriod={"start": "2024-08-13", "end": "2024-08-13"}),
    "edd-datetime-not-a-date": _edd(valueDateTime="13/08/2024"),
}
UNREADABLE |= EDD_NOT_A_DATE
UNCHANGED = {  # dated as before: offer, nothing named
    "us-15-wk": _ga(15, "wk"),
    "by-lmp-105-d": _ga(105, "d", "11885-1"),
    # 14 completed weeks a week ago: 14+0 to 14+6 then, 14+1 by the LMP
    "completed-weeks": _ga(14, "wk", "11884-4", on="2024-02-26"),
    "earlier-pregnancy": _ga(30, "wk", "11884-4", on="2022-01-10"),
    "no-value": observation("ga", LOINC, "11884-4", TODAY),
    # an EDD in words recorded in an earlier pregnancy, and one with no value: nothing to check
    "edd-in-words-earlier-pregnancy": _edd("2021-09-01", valueString="01/03/2022"),
    "edd-no-value": _edd(),
}
# beside a CRL, which dates the pregnancy (so the LMP is not needed): offer, the LMP named
WITH_CRL = {"us-16.9-wk-with-crl": _ga(16.9, "wk")}


def resources(extra: dict[str, Any], with_crl: bool = False) -> list[dict[str, Any]]:
    """Her record, with this Observation."""
    out = [previous_miscarriage(), bleeding(), lmp(LMP), iup(), extra]
    return [*out, crl()] if with_crl else out


def shapes() -> dict[str, list[dict[str, Any]]]:
    """Every shape's record."""
    return {
        **{name: resources(o) for name, o in {**AGAINST, **UNREADABLE, **UNCHANGED}.items()},
        **{name: resources(o, with_crl=True) for name, o in WITH_CRL.items()},
    }


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    return export_per_shape(shapes())
