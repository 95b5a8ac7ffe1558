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
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from earlypath.audit.run import run_audit
from earlypath.errors import ConfigError
from earlypath.web import clock, create_app
from earlypath.web.config import Settings
from tests.fhir_exports import encounter, namespaced, woman
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    condition,
    crl,
    hook_request,
    iup,
    observation,
    prefetch_for,
    previous_miscarriage,
)

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
    export: dict[str, list[dict[str, Any]]] = {"Patient": [], "Encounter": [], "Condition": []}
    for shape, (late, _) in sorted(LATE.items()):
        space = shape.replace(" ", "-") + "-"
        resources = [
            woman(PATIENT_ID),
            encounter("enc", PATIENT_ID, start=f"{LONDON_TODAY}T00:10:00+01:00"),
            *_eligible(),
            late,
        ]
        for resource in namespaced(resources, space):
            export.setdefault(resource["resourceType"], []).append(resource)
    (tmp_path / "in").mkdir()
    for kind, resources in export.items():
        lines = "".join(json.dumps(r) + "\n" for r in resources)
        (tmp_path / "in" / f"{kind}.ndjson").write_text(lines, encoding="utf-8")
    run_audit(tmp_path / "in", tmp_path / "out", engine="duckdb")
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
