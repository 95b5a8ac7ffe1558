"""A scan's route as a record gives it (stop 42, w-route42): a crown-rump length of 9 mm with no
heartbeat (a heart rate of 0/min) whose ``Observation.method`` names a transabdominal or a
transvaginal beam path (DICOM CID 12025: SNOMED CT 66739002 Trans-abdominal, 54300008
Trans-vaginal), none, or both, beside an eligible woman's record: the card's, the audit's and
Spark's tests."""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import (
    LOINC,
    bleeding,
    crl,
    day,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)

SNOMED = "http://snomed.info/sct"
TRANSVAGINAL = {"system": SNOMED, "code": "54300008", "display": "Trans-vaginal"}
TRANSABDOMINAL = {"system": SNOMED, "code": "66739002", "display": "Trans-abdominal"}
# shape -> (the method's codings, the route read: None is Unknown)
ROUTES: dict[str, tuple[list[dict[str, str]], str | None]] = {
    "route-ta": ([TRANSABDOMINAL], "transabdominal"),
    "route-tv": ([TRANSVAGINAL], "transvaginal"),
    "route-none": ([], None),
    "route-both": ([TRANSVAGINAL, TRANSABDOMINAL], None),
}


def crl_by(routes: list[dict[str, str]], mm: float = 9.0) -> dict[str, Any]:
    """A crown-rump length (today) whose method names these routes (none: no method)."""
    finding = crl(mm)
    if routes:
        finding["method"] = {"coding": list(routes)}
    return finding


def no_heartbeat() -> dict[str, Any]:
    """A fetal heart rate of 0/min (LOINC 11948-7), today."""
    rate = {"value": 0, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}
    return observation("fhr", LOINC, "11948-7", day(), valueQuantity=rate)


def record(routes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """An eligible woman's record (IUP, bleeding, a previous miscarriage) with that scan."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(), crl_by(routes), no_heartbeat()]


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    return export_per_shape({shape: record(routes) for shape, (routes, _) in ROUTES.items()})


def check_reading(readings: list[dict[str, Any]]) -> None:
    """Each woman's scan day carries the route her record gives (Unknown where none or both)."""
    assert len(readings) == len(ROUTES)
    for got, (shape, (_, route)) in zip(readings, ROUTES.items(), strict=True):
        (scan,) = got["steps"]["scans"]
        assert scan["route"] == route, shape
        named = [m for _, m in got["problems"] if "name both a transvaginal" in m]
        assert len(named) == (shape == "route-both"), shape
