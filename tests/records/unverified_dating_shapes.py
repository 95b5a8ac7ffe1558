"""Dating read from records that should not date her (stop 44, issue 12): the records, and one
export of them (a woman per shape), shared by the card's, the audit's and Spark's tests.

1. An LMP on an Observation of status `preliminary` or `unknown` (FHIR R4 observation-status,
   https://hl7.org/fhir/R4/valueset-observation-status.html: a result whose data may be
   incomplete or unverified, or whose status the sender does not know) dated her as a final one
   does, a newer one over a final one. Now such an LMP never dates her: newest, the LMP is
   unknown (`needs_information`, named, as bleeding on such a result is, C20.28); a final LMP
   recorded after it, or a scan's CRL, dates her.
2. A newer LMP given to a month or a year only ("2023-10", "2023"), or as text, was ignored and
   an older full LMP dated her (w-latest43's probe: offered until 2024-03-18). Now it is the
   latest LMP, one whose day is not known: the LMP is unknown, unless a scan's CRL dates her.
3. A crown-rump length on such a result (`CRL_SHAPES`, their own export `crl_export`, so the
   shapes above and the Spark scenario `unverified-dating` stay as they are) still dates her:
   alone she is offered, and over a final LMP of 17+0 (past 16 completed weeks, NG126 1.5.2) she
   is offered too. Not fixed yet (HAZ-20 C20.30): its vignettes are strict xfails. It must still
   count for viability (a CRL of 7 mm or more with no heartbeat), so it cannot simply be dropped.

Each woman: `eligible_resources` (a previous miscarriage in 2022, bleeding, an LMP of
2024-01-15, an intrauterine pregnancy on scan today, a crown-rump length of 9.5 mm today), with
her LMP and CRL replaced per shape. Today is 2024-03-04.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import LOINC, day, eligible_resources, observation

# SNOMED 54300008 "Transvaginal ultrasonography": the route NG126 1.4.7's step needs named
TRANSVAGINAL = {"coding": [{"system": "http://snomed.info/sct", "code": "54300008"}]}
FAR_ON = "2023-11-06"  # an LMP that puts her at 17+0 today: past the offer's 16 weeks


def lmp_seen(
    value: str, on: int = 0, status: str = "final", rid: str = "lmp", **as_value: Any
) -> dict[str, Any]:
    """An LMP (LOINC 8665-2) recorded ``on`` days from today, its valueDateTime ``value``."""
    values = as_value or {"valueDateTime": value}
    return observation(rid, LOINC, "8665-2", day(on), **values) | {"status": status}


def crl_seen(mm: float, on: int = 0, status: str = "final", rid: str = "crl") -> dict[str, Any]:
    """A crown-rump length (LOINC 11957-8) measured ``on`` days from today."""
    quantity = {"value": mm, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}
    return observation(rid, LOINC, "11957-8", day(on), valueQuantity=quantity) | {"status": status}


def heart_rate(per_minute: float) -> dict[str, Any]:
    """A fetal heart rate (LOINC 11948-7 "Fetal Heart rate US"), taken today."""
    quantity = {"value": per_minute, "unit": "/min", "system": "http://unitsofmeasure.org"}
    return observation("fhr", LOINC, "11948-7", day(), valueQuantity={**quantity, "code": "/min"})


def her(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible, her LMP and CRL replaced by these records."""
    return [*(r for r in eligible_resources() if r["id"] not in ("lmp", "crl")), *records]


# 1. an unverified LMP alone: on the base it dated her (offer); now the gestation is unknown
UNVERIFIED_ALONE = {
    f"lmp-{status}-alone": her(lmp_seen("2024-01-15", status=status))
    for status in ("preliminary", "unknown")
}
# ... and newer than her final LMP (7+0): on the base its 17+0 dated her (no offer); now it is
# not taken and does not leave the older standing either: the LMP is unknown, confirm it
UNVERIFIED_OVER_FINAL = {
    "lmp-preliminary-after-final": her(
        lmp_seen("2024-01-15", -3), lmp_seen(FAR_ON, -1, status="preliminary", rid="lmp2")
    ),
}
# controls: a final LMP recorded after it, or a scan's CRL, dates her; `amended` is final
FINAL_DATES = {
    "lmp-final-after-preliminary": her(
        lmp_seen(FAR_ON, -3, status="preliminary", rid="lmp2"), lmp_seen("2024-01-15", -1)
    ),
    "lmp-preliminary-with-crl": her(lmp_seen("2024-01-15", status="preliminary"), crl_seen(9.5)),
    "lmp-amended": her(lmp_seen("2024-01-15", status="amended")),
}
# 2. a newer LMP whose day is not known, over an older full one: on the base the older dated her
# (offer, at 14+1 by it); now the LMP is unknown
PARTIAL_NEWER = {
    "lmp-month-after-full": her(lmp_seen("2023-11-27", -3), lmp_seen("2023-10", -1, rid="lmp2")),
    "lmp-year-after-full": her(lmp_seen("2023-11-27", -3), lmp_seen("2023", -1, rid="lmp2")),
    "lmp-text-after-full": her(
        lmp_seen("2023-11-27", -3), lmp_seen("", -1, rid="lmp2", valueString="early October 2023")
    ),
}
# controls: a CRL still dates her by the existing precedence; a newer full LMP dates her; a full
# LMP with a time and a zone reads as its day
PARTIAL_CONTROLS = {
    "lmp-month-after-full-with-crl": her(
        lmp_seen("2023-11-27", -3), lmp_seen("2023-10", -1, rid="lmp2"), crl_seen(9.5)
    ),
    "lmp-full-after-month": her(lmp_seen("2023-10", -3, rid="lmp2"), lmp_seen("2024-01-15", -1)),
    "lmp-with-zone": her(lmp_seen("2024-01-15T00:30:00+01:00")),
}
SHAPES = {
    **UNVERIFIED_ALONE,
    **UNVERIFIED_OVER_FINAL,
    **FINAL_DATES,
    **PARTIAL_NEWER,
    **PARTIAL_CONTROLS,
}

# 3. an unverified CRL (9.5 mm, 7+0 today) with no LMP: on the base it dated her (offer); it
# should leave the gestation unknown, naming the CRL and that it is not final
UNVERIFIED_CRL_ALONE = {
    f"crl-{status}-alone": her(crl_seen(9.5, status=status))
    for status in ("preliminary", "unknown")
}
# ... and beside a final LMP of 17+0: on the base the CRL dated her (offer); the final LMP should
# (no offer: past 16 completed weeks)
UNVERIFIED_CRL_OVER_FINAL_LMP = {
    "crl-preliminary-over-final-lmp": her(
        lmp_seen(FAR_ON, -3), crl_seen(9.5, status="preliminary")
    ),
}
# controls (pass on the base, must pass after): a final CRL dates her over a final LMP of 17+0;
# an unverified CRL beside a final LMP that agrees; and with a heart rate of 0/min the unverified
# CRL of 7 mm or more still counts for viability (NG126 1.4.7 named on the card)
CRL_CONTROLS = {
    "crl-final-over-final-lmp": her(lmp_seen(FAR_ON, -3), crl_seen(9.5)),
    "crl-preliminary-with-final-lmp": her(
        lmp_seen("2024-01-15"), crl_seen(9.5, status="preliminary")
    ),
    "crl-preliminary-no-heartbeat": her(
        lmp_seen("2024-01-15"),
        crl_seen(9.5, status="preliminary") | {"method": TRANSVAGINAL},
        heart_rate(0),
    ),
}
CRL_SHAPES = {**UNVERIFIED_CRL_ALONE, **UNVERIFIED_CRL_OVER_FINAL_LMP, **CRL_CONTROLS}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)


def crl_export() -> Export:
    """A woman per CRL shape, her encounter today."""
    return export_per_shape(CRL_SHAPES)
