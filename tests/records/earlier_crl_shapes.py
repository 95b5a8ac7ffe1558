"""A crown-rump length measured on an earlier scan of this pregnancy than today's (stop 44, issue
12): the records, and one export of them (a woman per shape), shared by the card's, the audit's
and Spark's tests.

The card dates a pregnancy by the earliest scan with a CRL (`earlypath.facts.episode_facts`;
NG126 reference, "Dating": when a CRL is available, date by the scan, Robinson & Fleming, the
scan day carried forward). The FHIR audit's flat row held only today's scan, so with no LMP the
audit said "needs the LMP" where the card offered; with an LMP it dated her by the LMP where the
card dated her by the CRL. A CRL from a scan of a previous pregnancy (one that ended: she was
recorded not pregnant after it) dates neither.

Each woman: a previous miscarriage in 2022, bleeding yesterday, an intrauterine pregnancy on scan
today, and the shape's CRLs and LMP.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    bleeding,
    condition,
    crl,
    day,
    iup,
    lmp,
    previous_miscarriage,
)


def _woman(*records: dict[str, Any]) -> list[dict[str, Any]]:
    return [previous_miscarriage(), bleeding(), iup(), *records]


def _not_pregnant(onset: str) -> dict[str, Any]:
    """SNOMED CT 60001007 |Not pregnant|: the pregnancy before it ended."""
    return condition("notpreg", "60001007", onset)


# 9.5 mm three days ago: 49 days then (Robinson & Fleming, rounded), 52 today: eligible
EARLIER_DATES = {
    # the card offered, the audit asked for the LMP
    "earlier-crl-no-lmp": _woman(crl(9.5, on=day(-3))),
    # the card dated her by the CRL and offered, the audit by the LMP (22 weeks: not offered)
    "earlier-crl-lmp-says-22-weeks": _woman(crl(9.5, on=day(-3)), lmp("2023-10-01")),
    # two CRLs: the earliest dates her (the audit read today's)
    "earlier-and-today-crl": _woman(
        crl(9.5, on=day(-3)), crl(12.0, on=day()) | {"id": "crl-today"}
    ),
}
GESTATION_DAYS = 52
# controls: today's CRL dates her as before; a previous pregnancy's CRL dates nobody
TODAY_DATES = {"crl-today-no-lmp": _woman(crl(9.5))}
PREVIOUS_PREGNANCY = {
    "previous-pregnancy-crl": _woman(crl(20.0, on="2023-06-01"), _not_pregnant("2023-09-01")),
}
SHAPES = {**EARLIER_DATES, **TODAY_DATES, **PREVIOUS_PREGNANCY}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)
