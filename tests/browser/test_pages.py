"""The clinician page and the page for women in a real browser (Chromium), with axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe

from earlypath import assess

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def _axe(page):
    violations = Axe().run(page).response["violations"]
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in SERIOUS]
    assert bad == [], bad
    return violations


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _expected_stop(today: dt.date) -> str:
    episode = {
        "assessed_on": today.isoformat(),
        "previous_miscarriages": 1,
        "vaginal_bleeding": True,
        "lmp": (today - dt.timedelta(weeks=7)).isoformat(),
        "scans": [
            {
                "date": today.isoformat(),
                "location": "intrauterine",
                "fetal_pole": True,
                "fetal_heartbeat": True,
                "crl_mm": 9.5,
            }
        ],
    }
    return assess(episode)["progesterone"]["plan"]["stop_on"]


def test_clinician_fills_form_for_eligible_woman_and_sees_offer(page, server):
    page.goto(server + "/")
    _axe(page)
    today = _today()
    # dates are prefilled: today, LMP 7 weeks ago, scan today
    assert page.get_by_label("Date of assessment").input_value() == today.isoformat()
    page.get_by_label("Number of previous miscarriages").fill("1")
    page.get_by_role("group", name="Vaginal bleeding in this pregnancy").get_by_label("Yes").check()
    page.get_by_label("Where the scan showed the pregnancy").select_option("intrauterine")
    page.get_by_role("group", name="Fetal pole seen").get_by_label("Yes").check()
    page.get_by_role("group", name="Fetal heartbeat seen").get_by_label("Yes").check()
    page.get_by_label("Crown-rump length (mm)").fill("9.5")
    page.get_by_role("button", name="Assess").click()
    page.wait_for_load_state()
    result = page.locator("#result")
    assert "Offer vaginal micronised progesterone 400 mg twice daily" in result.inner_text()
    stop = _expected_stop(today)
    assert stop in page.locator("#stop-date").inner_text()
    for needle in ("1.5.2", "1.5.3", "2023-08-23", "She has vaginal bleeding in this pregnancy."):
        assert needle in result.inner_text()
    _axe(page)
    # Printable: the print stylesheet hides the form and keeps the summary.
    page.emulate_media(media="print")
    assert not page.locator("form").first.is_visible()
    assert not page.get_by_label("Episode as JSON").is_visible()
    assert page.locator("#result").is_visible()
    assert page.locator(".print-only").first.is_visible()
    page.emulate_media(media="screen")


def test_clinician_page_errors_name_the_field(page, server):
    page.goto(server + "/")
    page.get_by_label("First day of last menstrual period (LMP)").fill("2099-01-01")
    page.get_by_role("button", name="Assess").click()
    errors = page.locator("#errors")
    assert "LMP" in errors.inner_text() and "after assessed_on" in errors.inner_text()
    errors.get_by_role("link", name="LMP").click()
    assert page.evaluate("location.hash") == "#lmp"
    _axe(page)


def test_clinician_form_is_keyboard_usable(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    seen = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        seen.add(
            page.evaluate(
                "document.activeElement.id || document.activeElement.name || document.activeElement.textContent"
            )
        )
    for field in (
        "assessed_on",
        "previous_miscarriages",
        "lmp",
        "scan_location",
        "crl_mm",
        "allergies",
        "stop_at",
    ):
        assert field in seen, field
    # Fill and submit with the keyboard alone.
    page.focus("#previous_miscarriages")
    page.keyboard.type("2")
    page.focus("#crl_mm")
    page.keyboard.type("9.5")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#result").is_visible()


def test_woman_checks_what_nice_says(page, server):
    page.goto(server + "/check")
    _axe(page)
    page.get_by_role(
        "group", name="1. Has a scan shown that the pregnancy is in your womb?"
    ).get_by_label("Yes, it is in my womb").check()
    page.get_by_role(
        "group", name="2. Are you bleeding from your vagina in this pregnancy?"
    ).get_by_label("Yes").check()
    page.get_by_role(
        "group", name="3. How many miscarriages have you had before this pregnancy?"
    ).get_by_label("1", exact=True).check()
    page.get_by_label("When did your last period start?").fill(
        (_today() - dt.timedelta(weeks=8)).isoformat()
    )
    page.get_by_role("button", name="See what NICE says").click()
    answer = page.locator("#answer")
    text = answer.inner_text()
    assert "NICE says you should be offered progesterone" in text
    assert "What to ask your doctor" in text
    assert "NG126" in text and "1.5.2" in text
    assert "do not start, stop or change any medicine without talking to your doctor" in text
    body = page.inner_text("body")
    for support in ("The Miscarriage Association", "Tommy's", "NHS 111"):
        assert support in body
    _axe(page)
    page.emulate_media(media="print")
    assert not page.locator("form").is_visible()
    assert answer.is_visible()


def test_woman_who_does_not_know_gets_unknown_not_no(page, server):
    page.goto(server + "/check")
    page.get_by_role(
        "group", name="1. Has a scan shown that the pregnancy is in your womb?"
    ).get_by_label("I don't know").check()
    page.get_by_role(
        "group", name="2. Are you bleeding from your vagina in this pregnancy?"
    ).get_by_label("Yes").check()
    page.get_by_role(
        "group", name="3. How many miscarriages have you had before this pregnancy?"
    ).get_by_label("I don't know").check()
    page.get_by_role("button", name="See what NICE says").click()
    text = page.locator("#answer").inner_text()
    assert "We cannot tell yet" in text
    assert "how many miscarriages you have had before" in text
    assert "does not suggest" not in text
    _axe(page)
