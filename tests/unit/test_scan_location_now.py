"""Stop 26: a hand-typed episode (CLI, web form, API) with an ectopic pregnancy seen on an
earlier scan and then a scan whose report was not read is judged as the FHIR reading judges the
same record: the ectopic stands (an unread report never hides it). One rule
(`earlypath.scan_location.location_now`) for the engines' facts and for an episode made a
flat audit row; without it both read the unread report alone ("report_not_read")."""

from __future__ import annotations

import datetime as dt

import pytest

from earlypath.audit.flat import episode_to_flat
from earlypath.facts import episode_facts
from earlypath.model import parse_episode

ECTOPIC = {"date": "2024-02-26", "location": "ectopic"}
IUP = {"date": "2024-02-28", "location": "intrauterine"}
PUL = {"date": "2024-02-28", "location": "unknown"}


def _unread(day: str) -> dict[str, str]:
    return {"date": day, "location": "report_not_read"}


# scans (list order) -> the location the rules read
CASES = {
    "ectopic-then-unread": ([ECTOPIC, _unread("2024-03-04")], "ectopic"),
    "ectopic-then-two-unread-out-of-order": (
        [_unread("2024-03-04"), ECTOPIC, _unread("2024-03-01")],
        "ectopic",
    ),
    # the same day: the later in the list is the latest scan, the ectopic before it stands
    "ectopic-then-unread-same-day": ([ECTOPIC, _unread("2024-02-26")], "ectopic"),
    # a location read after the ectopic ends it, as in the reading
    "ectopic-iup-unread": ([ECTOPIC, IUP, _unread("2024-03-04")], "report_not_read"),
    "ectopic-pul-unread": ([ECTOPIC, PUL, _unread("2024-03-04")], "report_not_read"),
    "unread-only": ([_unread("2024-03-04")], "report_not_read"),
    "unread-before-ectopic": ([_unread("2024-02-20"), ECTOPIC], "ectopic"),
    "iup-then-unread": ([IUP, _unread("2024-03-04")], "report_not_read"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_facts_and_the_flat_row_keep_an_ectopic_seen_before_an_unread_report(
    case: str,
) -> None:
    scans, location = CASES[case]
    episode = {"assessed_on": "2024-03-04", "lmp": "2024-01-15", "scans": scans}
    facts = episode_facts(parse_episode(episode))
    assert facts["scan_location"] == location, case
    flat = episode_to_flat(episode)
    assert flat["scan_location"] == location, case
    # the latest scan's other cells are its own (its day; its heartbeat unknown)
    latest = max(dt.date.fromisoformat(s["date"]) for s in scans)
    assert facts["scan_date"] == flat["scan_date"] == latest, case
    assert facts["fetal_heartbeat"] is None and flat["fetal_heartbeat"] is None, case
