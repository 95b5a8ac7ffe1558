"""Visits whose encounter and scan are written in different forms of instant (stop 41): the
records, and one export of them (a woman per shape), shared by the audit's test
(`tests/integration/test_cds_real_time_zones.py`) and the Spark reading agreement.

The forms are those real systems write: UK Core's examples the local offset ("+01:00";
NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN, examples/UKCore-Bundle-NEWS2Observations-Example.xml),
Epic's FHIR API (open.epic.com/Clinical/Observation) and many servers UTC ("Z"), Synthea the
offset of the machine that generated it (a Synthea record: yuriykatko/health-api
data/Condition.js, `onsetDateTime` "2011-12-12T19:41:48-05:00"), and a date alone. Each
instant is dated on its day in London (`earlypath.records.time_zone`), so each scan is on its
visit's day; dated as written, the encounter at 00:30 BST written in UTC was the day before its
scan written locally, and the scan was ignored as after the assessment day.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape, shape_of
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    condition,
    crl,
    observation,
    previous_miscarriage,
)

# shape -> (the encounter's start, the scan's time, the LMP, the day both are on in London)
VISITS = {
    "utc-visit-local-scan-bst": (
        "2026-06-01T23:30:00Z",
        "2026-06-02T00:20:00+01:00",
        "2026-04-20",
        "2026-06-02",
    ),
    "synthea-visit-local-scan-bst": (
        "2026-06-01T19:30:00-05:00",
        "2026-06-02T01:40:00+01:00",
        "2026-04-20",
        "2026-06-02",
    ),
    "local-visit-utc-scan-bst": (
        "2026-06-02T00:30:00+01:00",
        "2026-06-01T23:40:00Z",
        "2026-04-20",
        "2026-06-02",
    ),
    "utc-visit-gmt": (
        "2026-01-15T23:30:00Z",
        "2026-01-15T23:40:00+00:00",
        "2025-12-03",
        "2026-01-15",
    ),
    "dates-alone": ("2026-06-02", "2026-06-02", "2026-04-20", "2026-06-02"),
}


def seen_on(day: str, lmp: str, *found: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible on ``day`` but for the scan: a previous miscarriage, bleeding, an LMP some six
    weeks before, and the scan findings ``found``."""
    return [
        previous_miscarriage(),
        condition("bleed", "289530006", day),
        observation("lmp", LOINC, "8665-2", day, valueDateTime=lmp),
        *found,
    ]


def intrauterine(at: str) -> list[dict[str, Any]]:
    """An intrauterine pregnancy and its crown-rump length, seen at ``at``."""
    return [observation("iup", SNOMED, "370383002", at), crl(on=at)]


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape)."""
    records = {
        s: seen_on(start, lmp, *intrauterine(scan)) for s, (start, scan, lmp, _) in VISITS.items()
    }
    return export_per_shape(records, starts={s: start for s, (start, *_) in VISITS.items()})


def check(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each encounter's reading (`readings_of`, in the export's encounter order) has its scan,
    on its visit's day."""
    assert len(readings) == len(VISITS)
    for e, reading in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(e["id"], among=VISITS)  # its id namespaced again on Spark
        days = [str(scan["day"]) for scan in reading["steps"]["scans"]]
        assert days == [VISITS[shape][3]], (shape, days)
