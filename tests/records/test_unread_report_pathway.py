"""The pathway sections on a scan report that could not be read, as the reading gives it
(stop 25; `tests.records.scan_shapes.UNREAD_REPORTS`).

Stop 24 made such a report, dated after every location read, end the location carried from an
earlier scan, but it reached the episode as location "unknown": the sections read it as a
pregnancy of unknown location (the hCG section asked for serum hCG 48 hours apart, the others
advised as if no scan had located the pregnancy). The reading now gives it as
"report_not_read", and the sections that read the location ask for the report to be read.
Where a location read that day (or later), or an ectopic seen before it, stands, they answer on
that location as before."""

from __future__ import annotations

import pytest

from earlypath import assess
from earlypath.fhir.mapping import map_resources
from tests.integration.fhir_data import TODAY
from tests.records.scan_shapes import UNREAD_LATEST_SCAN, UNREAD_REPORTS

# The sections whose answer an unread latest report always holds back in these records.
HELD_BACK = ("scan_assessment", "hcg_assessment", "ectopic_management")


def _assessed(shape: str) -> dict:
    resources, _ = UNREAD_REPORTS[shape]
    return assess(map_resources(resources, TODAY).episode)


@pytest.mark.parametrize(
    "shape",
    sorted(s for s, (_, where, _) in UNREAD_LATEST_SCAN.items() if where == "report_not_read"),
)
def test_a_later_unread_report_asks_for_the_report_not_the_pul_pathway(shape: str) -> None:
    assessment = _assessed(shape)
    for name in HELD_BACK:
        section = assessment[name]
        assert section["decision"] == "needs_information", name
        assert section["missing"] == ["scan_report"], name
        assert section["recommendations"], name  # cited, with the version
        assert (
            f"The scan report of {TODAY.isoformat()} has not been read"
            in (section["recommendation"])
        ), name
    assert assessment["hcg_assessment"]["next_step"] == "read_scan_report"
    assert assessment["progesterone"]["decision"] == "needs_information"


@pytest.mark.parametrize(
    "shape",
    sorted(s for s, (_, where, _) in UNREAD_LATEST_SCAN.items() if where != "report_not_read"),
)
def test_a_location_read_beside_or_before_the_report_still_decides(shape: str) -> None:
    assessment = _assessed(shape)
    where = UNREAD_LATEST_SCAN[shape][1]
    for name in HELD_BACK:
        assert "scan_report" not in assessment[name]["missing"], name
    # located: never the PUL pathway
    assert assessment["hcg_assessment"]["decision"] == "not_applicable"
    if where == "ectopic":
        assert assessment["ectopic_management"]["decision"] != "not_applicable"
