"""GP records coded in Read v2 or CTV3 only, and under the NHS HL7 v3 code-system OIDs (stop 43,
w-gp43; issue 12): our own synthetic records, in the shapes GP systems send (Read v2 as the
5-character concept or with its 2-character term id, CTV3's 5 characters), each fact in place
of its SNOMED CT or LOINC code in an eligible woman's record. Used by the card's, the DuckDB
audit's and Spark's tests (`tests/integration/test_cds_real_gp_read.py`,
`tests/audit/test_spark_reading_agreement.py`).

Codes checked in the GM SDE code sets (UoM-Data-Science-Platforms/gm-sde, from the CPRD Pregnancy
Register lists): pregnancy-miscarriage (Read v2 and CTV3 inevitable miscarriage), pregnancy-lmp
(1513.), pregnancy-edd (1514., Xa4SR, XaXwo, SNOMED CT 738070007), pregnancy-antenatal (584D.
"Antenatal ultrasound confirms intrauterine pregnancy"). The OIDs: the GP2GP adaptor's
`CodeSystemsUtil` (NHSDigital/integration-adaptor-gp2gp-sending).

Before stop 43 each fixed shape was read as no record: an inevitable miscarriage today gave an
offer of progesterone, and an EDD that disagrees with the LMP let the LMP date her (an offer where
the LOINC-coded EDD asks for information); an LMP or a scan-confirmed intrauterine pregnancy so
coded left the decision needs_information.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    SNOMED,
    bleeding,
    condition,
    crl,
    day,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)

READ_V2 = "http://read.info/readv2"
CTV3 = "http://read.info/ctv3"
# the NHS HL7 v3 OIDs of a GP2GP extract, as a record converted back from one may name them
SNOMED_UK_OID = "urn:oid:2.16.840.1.113883.2.1.3.2.4.15"
READ_V2_OID = "urn:oid:2.16.840.1.113883.2.1.6.2"
CTV3_OID = "urn:oid:2.16.840.1.113883.2.1.3.2.4.14"
# an EDD five months after the LMP's (2024-01-15 gives 2024-10-21): they disagree
EDD_DISAGREEING = "2024-12-01"


def coded(resource: dict[str, Any], *codings: tuple[str, str]) -> dict[str, Any]:
    """The resource with only these codings (no display, as a GP extract may send them)."""
    return {**resource, "code": {"coding": [{"system": s, "code": c} for s, c in codings]}}


def eligible() -> list[dict[str, Any]]:
    """IUP on scan, bleeding, a previous miscarriage, LMP and CRL: an offer."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(), crl()]


def diagnosed_today(system: str, code: str) -> list[dict[str, Any]]:
    return [*eligible(), coded(condition("dx-today", "0", day()), (system, code))]


def edd_beside_lmp(system: str, code: str) -> list[dict[str, Any]]:
    """LMP, IUP and this EDD (no CRL): the EDD disagrees with the LMP."""
    edd = observation("edd", SNOMED, "0", day(), valueDateTime=EDD_DISAGREEING)
    return [previous_miscarriage(), bleeding(), lmp(), iup(), coded(edd, (system, code))]


def lmp_only_dating(system: str, code: str) -> list[dict[str, Any]]:
    """No CRL: the LMP so coded is what dates her."""
    return [previous_miscarriage(), bleeding(), coded(lmp(), (system, code)), iup()]


def iup_coded(system: str, code: str) -> list[dict[str, Any]]:
    return [previous_miscarriage(), bleeding(), lmp(), coded(iup(), (system, code)), crl()]


def bleeding_coded(*codings: tuple[str, str]) -> list[dict[str, Any]]:
    return [previous_miscarriage(), coded(bleeding(), *codings), lmp(), iup(), crl()]


def history_coded(system: str, code: str) -> list[dict[str, Any]]:
    return [coded(previous_miscarriage(), (system, code)), bleeding(), lmp(), iup(), crl()]


# shape -> (her record, the audit's decision)
NO_OFFER: dict[str, list[dict[str, Any]]] = {  # a miscarriage or an ectopic today
    "readv2-inevitable-incomplete-with-term": diagnosed_today(READ_V2, "L044z00"),
    "readv2-inevitable-incomplete-concept": diagnosed_today(READ_V2, "L044z"),
    "readv2-inevitable-complete-synonym": diagnosed_today(READ_V2, "L045z11"),
    "readv2-inevitable-abortion-term": diagnosed_today(READ_V2, "L10zz11"),
    "ctv3-incomplete-inevitable": diagnosed_today(CTV3, "XaBDs"),
    "readv2-oid-spontaneous-abortion": diagnosed_today(READ_V2_OID, "L04..00"),
    "snomed-uk-oid-tubal-pregnancy": diagnosed_today(SNOMED_UK_OID, "79586000"),
}
NEEDS_INFORMATION: dict[str, list[dict[str, Any]]] = {  # the EDD disagrees with the LMP
    "readv2-edd-with-term": edd_beside_lmp(READ_V2, "1514.00"),
    "readv2-edd-by-scan": edd_beside_lmp(READ_V2, "1514100"),
    "ctv3-edd": edd_beside_lmp(CTV3, "1514."),
    "ctv3-edd-by-scan": edd_beside_lmp(CTV3, "XaXwo"),
    "snomed-edd-by-scan": edd_beside_lmp(SNOMED, "738070007"),
}
OFFER: dict[str, list[dict[str, Any]]] = {  # the fact read as its SNOMED CT or LOINC code is
    "readv2-lmp-with-term": lmp_only_dating(READ_V2, "1513.00"),
    "readv2-lmp-concept": lmp_only_dating(READ_V2, "1513."),
    "ctv3-lmp": lmp_only_dating(CTV3, "1513."),
    "readv2-scan-confirms-iup": iup_coded(READ_V2, "584D.00"),
    "ctv3-scan-confirms-iup": iup_coded(CTV3, "584D."),
    "ctv3-oid-early-pregnancy-haemorrhage": bleeding_coded((CTV3_OID, "L10z.")),
    # read right before stop 43 (guards): Read first and SNOMED CT second; CTV3 H/O miscarriage
    "read-first-snomed-second": bleeding_coded((READ_V2, "L10y.11"), (SNOMED, "289530006")),
    "ctv3-history-of-miscarriage": history_coded(CTV3, "1542."),
}
# Read v2 1542.00 "H/O: miscarriage": no public Read v2 list holding it was found (its CTV3 twin
# is read): not read, so the number of previous miscarriages stays unknown, never 0
UNKNOWN_HISTORY: dict[str, list[dict[str, Any]]] = {
    "readv2-history-of-miscarriage": history_coded(READ_V2, "1542.00"),
}
SHAPES: dict[str, list[dict[str, Any]]] = {
    **NO_OFFER,
    **NEEDS_INFORMATION,
    **OFFER,
    **UNKNOWN_HISTORY,
}
DECISIONS: dict[str, str] = {
    **{shape: "do_not_offer" for shape in NO_OFFER},
    **{shape: "needs_information" for shape in (*NEEDS_INFORMATION, *UNKNOWN_HISTORY)},
    **{shape: "offer" for shape in OFFER},
}
EDD_DISAGREES = "LMP disagrees with the estimated date of delivery recorded"


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    return export_per_shape(SHAPES)


def check_reading(readings: list[dict[str, Any]]) -> None:
    """Each woman's reading: a miscarriage today diagnosed, an ectopic seen, the EDD named as
    disagreeing, an LMP dating her, a Read-coded scan confirming the pregnancy."""
    assert len(readings) == len(SHAPES)
    for got, shape in zip(readings, SHAPES, strict=True):
        steps = got["steps"]
        named = [m for _, m in got["problems"] if m.startswith(EDD_DISAGREES)]
        assert len(named) == (shape in NEEDS_INFORMATION), shape
        if shape in NO_OFFER and "tubal" not in shape:
            assert steps["miscarriage_diagnosed"] is True, shape
        if "tubal" in shape:
            assert any(s["location"] == "ectopic" for s in steps["scans"]), shape
        if "lmp" in shape:
            assert steps["lmp"] == "2024-01-15", shape
        if "iup" in shape:
            assert any(s["location"] == "intrauterine" for s in steps["scans"]), shape
