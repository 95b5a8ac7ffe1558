"""The woman's page has her own words for every advice a decision can give (NG126 1.4.6-1.4.11
scan steps among them), and says them through the /check route in a kind order."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY
from earlypath.web import forms, plain
from earlypath.web.app import create_app
from earlypath.web.config import Settings
from tests.unit.test_web_readability import grade


def _every_advice_id() -> set[str]:
    """Every advice id the progesterone tables (the page's only decision) can give, in every
    guideline version: read from the tables, so a new advice is found without a hand list."""
    return {
        advice.id
        for v in VERSIONS
        for advice in progesterone_table(v.version, DEFAULT_POLICY.stop_day).advice
    }


def test_every_advice_a_decision_can_give_has_her_words():
    ids = _every_advice_id()
    assert {f"viability_1_4_{n}" for n in range(6, 12)} <= ids
    assert sorted(ids - set(plain.ADVICE)) == []


def test_an_advice_without_words_is_not_dropped_and_not_the_clinician_text():
    words = plain._advice_words(["fourteen_day_bleeding_advice", "a_new_rule"], skip=set())
    assert words == [plain.ADVICE["fourteen_day_bleeding_advice"], plain.ADVICE_WITHOUT_WORDS]


@pytest.mark.parametrize("advice_id", sorted(plain.VIABILITY))
def test_each_scan_step_reads_at_about_age_11(advice_id):
    words = f"{plain.VIABILITY[advice_id]} {plain.VIABILITY_PROGESTERONE}"
    assert grade(words) <= 6.0, grade(words)
    assert "sac" not in words and "pole" not in words and "length" not in words


@pytest.fixture
def client() -> TestClient:
    return TestClient(
        create_app(Settings(auth=False, feedback_db="sqlite://"), today=lambda: dt.date(2024, 3, 4))
    )


def _with_scan_findings(monkeypatch: pytest.MonkeyPatch, **findings: Any) -> None:
    """Her form does not ask for the scan's findings; add them to her scan as a record would
    (the route, engine, wording and template are the real ones)."""
    original = forms.check_episode

    def episode_with_findings(form: dict[str, str], today: dt.date) -> dict[str, Any]:
        episode = original(form, today)
        episode["scans"][0].update(findings)
        return episode

    monkeypatch.setattr(forms, "check_episode", episode_with_findings)


OFFER = {
    "scan": "womb",
    "bleeding": "yes",
    "pain": "no",
    "miscarriages": "1",
    "period": "2024-01-15",
}


def _answer(page: str) -> str:
    section = re.search(r'<section class="result.*?</section>', page, re.S)
    assert section
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(0))))


def test_no_heartbeat_crl_7_mm_or_more_says_second_opinion_or_second_scan(client, monkeypatch):
    _with_scan_findings(monkeypatch, fetal_pole=True, fetal_heartbeat=False, crl_mm=9.5)
    text = _answer(client.post("/check", data=OFFER).text)
    assert plain.VIABILITY["viability_1_4_7"] in text
    assert "another specialist should check your scan" in text
    assert "at least 7 days" in text
    assert plain.VIABILITY_PROGESTERONE in text
    # What happens next comes before the medicine's details; the vaguer rescan line is replaced.
    assert text.index("did not see a heartbeat") < text.index(plain.OFFER_TEXT[0])
    assert plain.ADVICE["rescan_for_heartbeat"] not in text
    assert "crown-rump" not in text.lower() and "viability" not in text.lower()
    assert "NG126" in text  # the page's own reference stays
    assert grade(text) <= 6.0, grade(text)


def test_no_heartbeat_crl_under_7_mm_says_another_scan_in_7_days(client, monkeypatch):
    _with_scan_findings(monkeypatch, fetal_pole=True, fetal_heartbeat=False, crl_mm=5.0)
    text = _answer(client.post("/check", data=OFFER).text)
    assert plain.VIABILITY["viability_1_4_6"] in text
    assert plain.VIABILITY["viability_1_4_7"] not in text
    assert "another specialist" not in text


def test_heartbeat_seen_says_no_scan_step(client, monkeypatch):
    _with_scan_findings(monkeypatch, fetal_pole=True, fetal_heartbeat=True, crl_mm=9.5)
    text = _answer(client.post("/check", data=OFFER).text)
    assert plain.VIABILITY_TITLE not in text
    assert "did not see" not in text
    assert plain.OFFER_TEXT[0] in text


def test_no_progesterone_line_when_progesterone_is_not_offered(client, monkeypatch):
    _with_scan_findings(monkeypatch, fetal_pole=True, fetal_heartbeat=False, crl_mm=9.5)
    text = _answer(client.post("/check", data={**OFFER, "miscarriages": "0"}).text)
    assert plain.VIABILITY["viability_1_4_7"] in text
    assert plain.VIABILITY_PROGESTERONE not in text
