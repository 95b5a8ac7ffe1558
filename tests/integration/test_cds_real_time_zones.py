"""Records written in local time, read by a service whose today is the date where its clinicians
are (stop 40, `earlypath.web.clock`).

The shape is UK Core's: times with their offset, in British Summer Time "+01:00" (NHSDigital/
FHIR-R4-UKCORE-STAGING-MAIN, examples/UKCore-Bundle-NEWS2Observations-Example.xml, commit
3d2827e3e9918674640d0c14a0f870084397a615: `effectiveDateTime` "2018-10-04T14:17:59+01:00").
An ectopic pregnancy seen on a scan at 00:30 BST, or a miscarriage recorded at 00:20, is dated
as written: the next day of the UTC calendar. When the service's today was the UTC date, each
was "dated after the assessment date; ignored", and the card offered progesterone on the
intrauterine scan of two days before (HAZ-01, HAZ-06). The audit dates an encounter as written
too, so it read them as today's: the card and the audit now agree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from earlypath.audit.run import run_audit
from earlypath.errors import ConfigError
from earlypath.web import clock, create_app
from earlypath.web.config import Settings
from tests.fhir_exports import export_per_shape, shape_of, write_export
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    condition,
    crl,
    hook_request,
    iup,
    observation,
    prefetch_for,
    previous_miscarriage,
)
from tests.records import instant_day_shapes as instant_days
from tests.records.instant_day_shapes import intrauterine, seen_on

PV = "/cds-services/ng126-progesterone"
# 23:45 UTC on 4 June 2024: 00:45 on 5 June in London (BST, UTC+1)
NOW = dt.datetime(2024, 6, 4, 23, 45, tzinfo=dt.UTC)
LONDON_TODAY = "2024-06-05"


def _eligible() -> list[dict[str, Any]]:
    """Eligible on 5 June: a previous miscarriage, bleeding, an intrauterine pregnancy on a scan
    two days before (CRL 9.5 mm), an LMP of 17 April."""
    return [
        previous_miscarriage(),
        condition("bleed", "289530006", "2024-06-04T21:10:00+01:00"),
        observation("lmp", LOINC, "8665-2", "2024-06-03", valueDateTime="2024-04-17"),
        iup("2024-06-03"),
        crl(on="2024-06-03"),
    ]


LATE = {  # made in the hour after midnight, British Summer Time, as UK Core writes times
    "ectopic scan": (
        observation("ect", SNOMED, "370382007", "2024-06-05T00:30:00+01:00"),
        "ectopic",
    ),
    "miscarriage": (
        condition("mc-now", "17369002", "2024-06-05T00:20:00+01:00"),
        "miscarriage",
    ),
}


@pytest.fixture
def london_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The service as deployed: settings' default time zone, the clock at ``NOW``."""
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)
    settings = Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        yield client


def _summary(client: TestClient, resources: list[dict[str, Any]]) -> str:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return str(card["summary"])


def test_an_eligible_woman_is_offered_after_midnight(london_client: TestClient) -> None:
    assert _summary(london_client, _eligible()).startswith("Offer")


@pytest.mark.parametrize("shape", sorted(LATE))
def test_a_record_made_after_midnight_in_summer_time_is_todays(
    london_client: TestClient, shape: str
) -> None:
    late, word = LATE[shape]
    summary = _summary(london_client, [*_eligible(), late])
    assert not summary.startswith("Offer"), shape
    assert word in summary, shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export, a woman per record, her encounter at 00:10 BST: not offered either."""
    records = {s.replace(" ", "-"): [*_eligible(), late] for s, (late, _) in sorted(LATE.items())}
    after_midnight = dict.fromkeys(records, f"{LONDON_TODAY}T00:10:00+01:00")
    export = export_per_shape(records, after_midnight)
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine="duckdb")
    episodes = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert len(episodes) == len(LATE)
    for episode in episodes:
        assert episode["decision"] == "do_not_offer", episode["episode_id"]


def test_today_is_the_date_in_the_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)
    assert clock.site_today("Europe/London")() == dt.date(2024, 6, 5)
    assert clock.site_today("UTC")() == dt.date(2024, 6, 4)
    winter = dt.datetime(2024, 1, 4, 23, 45, tzinfo=dt.UTC)  # GMT: London's date is UTC's
    monkeypatch.setattr(clock, "utc_now", lambda: winter)
    assert clock.site_today("Europe/London")() == dt.date(2024, 1, 4)


def test_the_time_zone_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EARLYPATH_TIME_ZONE", raising=False)
    assert Settings.from_env().time_zone == "Europe/London"
    monkeypatch.setenv("EARLYPATH_TIME_ZONE", "America/New_York")
    assert Settings.from_env().time_zone == "America/New_York"
    monkeypatch.setenv("EARLYPATH_TIME_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="EARLYPATH_TIME_ZONE"):
        Settings.from_env().checked()


# --- instants written in UTC, or with another offset (stop 41) ----------------------------------
# Real systems write one visit's times in several forms: UK Core's examples with the local offset
# ("+01:00", above); Epic's FHIR API (open.epic.com/Clinical/Observation) and many servers in UTC
# ("Z"); Synthea with the offset of the machine that generated it (a Synthea record:
# yuriykatko/health-api data/Condition.js, `onsetDateTime` "2011-12-12T19:41:48-05:00"). Each is
# dated on its day in London (`earlypath.records.time_zone`): the records were dated as written, so
# an ectopic pregnancy seen at 00:30 BST and written "23:30:00Z" was the day before the scan at
# 00:10 BST written "+01:00", and the card offered progesterone on that earlier scan.


def _ectopic(at: str) -> dict[str, Any]:
    return observation("ect", SNOMED, "370382007", at)


# shape -> (the clock, the records, does the card offer?)
WRITTEN = {
    # 00:45 BST on 2 June: the intrauterine scan at 00:10 written locally, the ectopic seen after
    # it at 00:30 written in UTC (Epic) or at 01:30 with Synthea's offset
    "ectopic in UTC after midnight BST": (
        dt.datetime(2026, 6, 1, 23, 45, tzinfo=dt.UTC),
        seen_on(
            "2026-06-02",
            "2026-04-20",
            *intrauterine("2026-06-02T00:10:00+01:00"),
            _ectopic("2026-06-01T23:30:00Z"),
        ),
        False,
    ),
    "ectopic at -05:00 after midnight BST": (
        dt.datetime(2026, 6, 2, 0, 45, tzinfo=dt.UTC),
        seen_on(
            "2026-06-02",
            "2026-04-20",
            *intrauterine("2026-06-02T00:10:00+01:00"),
            _ectopic("2026-06-01T19:30:00-05:00"),
        ),
        False,
    ),
    # 23:45 BST on 1 June: an ectopic seen at 23:30 BST, written with a zone an hour ahead
    # ("+02:00": the next day as written, so it was "dated after the assessment date; ignored")
    "ectopic written the next day": (
        dt.datetime(2026, 6, 1, 22, 45, tzinfo=dt.UTC),
        seen_on(
            "2026-06-01",
            "2026-04-19",
            *intrauterine("2026-06-01T20:10:00+01:00"),
            _ectopic("2026-06-02T00:30:00+02:00"),
        ),
        False,
    ),
    # Greenwich Mean Time: London's day is UTC's (as before)
    "ectopic in GMT": (
        dt.datetime(2026, 1, 15, 23, 45, tzinfo=dt.UTC),
        seen_on(
            "2026-01-15",
            "2025-12-03",
            *intrauterine("2026-01-15T23:10:00Z"),
            _ectopic("2026-01-15T18:30:00-05:00"),
        ),
        False,
    ),
    "intrauterine in UTC after midnight BST": (
        dt.datetime(2026, 6, 1, 23, 45, tzinfo=dt.UTC),
        seen_on("2026-06-02", "2026-04-20", *intrauterine("2026-06-01T23:30:00Z")),
        True,
    ),
    "dates alone": (
        dt.datetime(2026, 6, 1, 23, 45, tzinfo=dt.UTC),
        seen_on("2026-06-02", "2026-04-20", *intrauterine("2026-06-02")),
        True,
    ),
}


@pytest.mark.parametrize("shape", sorted(WRITTEN))
def test_an_instant_is_dated_where_the_care_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    now, resources, offered = WRITTEN[shape]
    monkeypatch.setattr(clock, "utc_now", lambda: now)
    settings = Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        summary = _summary(client, resources)
    assert summary.startswith("Offer") is offered, (shape, summary)


# The audit: an encounter and its scan, each written in one of the forms (a woman per shape, one
# export: `instant_day_shapes`). Dated as written, the encounter in UTC at 23:30 (00:30 BST) was
# on 1 June and the scan written locally on 2 June "after the assessment day": ignored, so no
# scan decided (needs_information).


def test_the_audit_dates_the_visit_and_its_scan_where_they_happened(tmp_path: Path) -> None:
    run_audit(write_export(instant_days.export(), tmp_path / "in"), tmp_path / "out", "duckdb")
    episodes = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert len(episodes) == len(instant_days.VISITS)
    for episode in episodes:
        shape = shape_of(episode["episode_id"])
        assert episode["assessed_on"].isoformat() == instant_days.VISITS[shape][3], shape
        assert episode["decision"] == "offer", shape
