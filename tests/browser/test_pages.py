"""The clinician page and the page for women in a real browser (Chromium), with axe-core, at
desktop (1280 px) and phone (390 px) widths. Screenshots go to out/screenshots/ (ignored by git)
so a person can look at each state."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from earlypath import assess

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
SHOTS = Path(__file__).parents[2] / "out" / "screenshots"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=sorted(WIDTHS))
def screen(request, browser):
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.screen_name = request.param
    yield pg
    context.close()


def _axe(page):
    violations = Axe().run(page).response["violations"]
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in SERIOUS]
    assert bad == [], bad
    return violations


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{page.screen_name}.png", full_page=True)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    )


def _pdf_pages(page) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", page.pdf(format="A4")))


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _uk(day: dt.date | str) -> str:
    day = dt.date.fromisoformat(str(day))
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _eligible_episode(today: dt.date) -> dict:
    return {
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


def _radio(page, group: str, option: str) -> None:
    page.get_by_role("group", name=group).get_by_label(option, exact=True).check()


# --- the clinician page -----------------------------------------------------------------------


def test_clinician_assesses_an_eligible_woman_and_prints_one_page(screen, server):
    page = screen
    page.goto(server + "/")
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-empty")
    today = _today()
    assert page.get_by_label("Date of assessment").input_value() == today.isoformat()
    _radio(page, "Vaginal bleeding in this pregnancy", "Yes")
    _radio(page, "Haemodynamically unstable", "No, stable")
    _radio(page, "Abdominal or pelvic pain", "None")
    page.get_by_label("First day of last menstrual period (LMP)").fill(
        (today - dt.timedelta(weeks=7)).isoformat()
    )
    page.get_by_label("Number of previous miscarriages").fill("1")
    scan = page.get_by_role("group", name="Scan 1")
    scan.get_by_label("Scan date").fill(today.isoformat())
    scan.get_by_label("Where the scan showed the pregnancy").select_option("intrauterine")
    _radio(scan, "Fetal pole seen", "Yes")
    _radio(scan, "Fetal heartbeat seen", "Yes")
    scan.get_by_label("Crown-rump length (mm)").fill("9.5")
    page.get_by_role("button", name="Assess", exact=True).click()
    page.wait_for_load_state()
    steps = page.locator("#next-steps")
    stop = assess(_eligible_episode(today))["progesterone"]["plan"]["stop_on"]
    assert "Offer vaginal micronised progesterone 400 mg twice daily" in steps.inner_text()
    assert f"stop on {_uk(stop)}" in steps.inner_text()
    # The next steps come first: their top is on the first screen.
    assert steps.bounding_box()["y"] < page.viewport_size["height"]
    result = page.locator("#result").inner_text()
    for needle in ("1.5.2", "1.5.3", "23 August 2023", "She has vaginal bleeding"):
        assert needle in result
    assert _uk(stop) in page.locator("#stop-date").inner_text()
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-offer")
    page.emulate_media(media="print")
    assert not page.locator("form").first.is_visible()
    assert page.locator("#next-steps").is_visible() and page.locator("#stop-date").is_visible()
    _shot(page, "clinician-offer-print")
    assert _pdf_pages(page) == 1
    page.emulate_media(media="screen")


def _plateau_after_an_unlocated_scan(page, lmp: dt.date, first: dt.date, second: dt.date) -> None:
    """The LMP; a scan on ``first`` that did not locate the pregnancy; serum hCG 1000 then
    1100 IU/L (a plateau) taken at 09:00 on ``first`` and on ``second``."""
    page.get_by_label("First day of last menstrual period (LMP)").fill(lmp.isoformat())
    scan = page.get_by_role("group", name="Scan 1")
    scan.get_by_label("Scan date").fill(first.isoformat())
    scan.get_by_label("Where the scan showed the pregnancy").select_option("unknown")
    for row, (day, value) in enumerate(((first, "1000"), (second, "1100")), start=1):
        hcg = page.get_by_role("group", name=f"hCG result {row}")
        hcg.get_by_label("Date and time the blood was taken").fill(f"{day.isoformat()}T09:00")
        hcg.get_by_label("Serum hCG (IU/L)").fill(value)


def test_clinician_sees_epu_review_first_for_a_pul_with_hcg_rows(screen, server):
    page = screen
    today = _today()
    page.goto(server + "/")
    _radio(page, "Vaginal bleeding in this pregnancy", "Yes")
    # Recorded: unassessed heavy bleeding could mean A&E and would come first (NG126 1.3).
    _radio(page, "Significant concern about the amount of bleeding", "No")
    _radio(page, "Abdominal or pelvic pain", "None")
    _radio(page, "Haemodynamically unstable", "No, stable")
    first, second = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
    _plateau_after_an_unlocated_scan(page, today - dt.timedelta(weeks=6), first, second)
    page.get_by_role("button", name="Assess", exact=True).click()
    page.wait_for_load_state()
    first_step = page.locator("#next-steps li").first
    text = first_step.inner_text()
    assert "Review in the early pregnancy unit within 24 hours" in text
    assert f"By {_uk(today)}" in text and "NG126 1.4" in text
    assert first_step.bounding_box()["y"] < page.viewport_size["height"]
    body = page.inner_text("body")
    for raw in ("epu_review_within_24h", "Hcg", "Anti d rule", "assessed_on", "pessarys"):
        assert raw not in body
    assert "(number not verified)" in page.locator("#next-steps").inner_text()
    # Sections without an action are folded; the hCG section (the action) is open.
    assert page.locator("#section-hcg_assessment").get_attribute("open") is not None
    assert page.locator("#section-miscarriage_management").get_attribute("open") is None
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-pul-hcg")


def _stable_history(page, bleeding_heavy: str = "No", pain: str = "None") -> None:
    _radio(page, "Vaginal bleeding in this pregnancy", "Yes")
    _radio(page, "Significant concern about the amount of bleeding", bleeding_heavy)
    _radio(page, "Abdominal or pelvic pain", pain)
    _radio(page, "Haemodynamically unstable", "No, stable")


def _scan(page, day: dt.date, location: str, pole: str, heartbeat: str, crl: str) -> None:
    scan = page.get_by_role("group", name="Scan 1")
    scan.get_by_label("Scan date").fill(day.isoformat())
    scan.get_by_label("Where the scan showed the pregnancy").select_option(location)
    _radio(scan, "Fetal pole seen", pole)
    _radio(scan, "Fetal heartbeat seen", heartbeat)
    scan.get_by_label("Crown-rump length (mm)").fill(crl)


def _assess(page) -> None:
    page.get_by_role("button", name="Assess", exact=True).click()
    page.wait_for_load_state()


def test_clinician_sees_read_the_scan_report_not_the_pul_pathway(screen, server):
    """Stop 25: a scan done today whose report was not read, hCG results on file: the page asks
    for the report to be read (first among the steps, in words, with its day), not for the hCG
    pathway of a pregnancy of unknown location."""
    page = screen
    today = _today()
    page.goto(server + "/")
    _stable_history(page)
    page.get_by_label("First day of last menstrual period (LMP)").fill(
        (today - dt.timedelta(weeks=6)).isoformat()
    )
    scan = page.get_by_role("group", name="Scan 1")
    scan.get_by_label("Scan date").fill(today.isoformat())
    scan.get_by_label("Where the scan showed the pregnancy").select_option("report_not_read")
    first, second = today - dt.timedelta(days=2), today
    for row, (day, value) in enumerate(((first, "1000"), (second, "1700")), start=1):
        hcg = page.get_by_role("group", name=f"hCG result {row}")
        hcg.get_by_label("Date and time the blood was taken").fill(f"{day.isoformat()}T09:00")
        hcg.get_by_label("Serum hCG (IU/L)").fill(value)
    _assess(page)
    first_step = page.locator("#next-steps li").first.inner_text()
    assert f"The scan report of {today.isoformat()} has not been read" in first_step, first_step
    assert "NG126 1.4.27" in first_step
    steps = page.locator("#next-steps").inner_text()
    assert "Transvaginal scan" not in steps  # the rise over 63% is not read as a PUL's
    assert "what the latest scan report shows (it could not be read)" in steps
    body = page.inner_text("body")
    for raw in ("report_not_read", "read_scan_report", "scan_report"):
        assert raw not in body
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-scan-report-not-read")


def test_clinician_sees_a_and_e_first_for_heavy_bleeding(screen, server):
    """NG126 1.3: significant concern about bleeding means A&E, even in a stable woman."""
    page = screen
    today = _today()
    page.goto(server + "/")
    _stable_history(page, bleeding_heavy="Yes")
    page.get_by_label("First day of last menstrual period (LMP)").fill(
        (today - dt.timedelta(weeks=7)).isoformat()
    )
    page.get_by_label("Number of previous miscarriages").fill("1")
    _scan(page, today, "intrauterine", "Yes", "Yes", "9.5")
    _assess(page)
    first_step = page.locator("#next-steps li").first
    text = first_step.inner_text()
    assert "A&E" in text and "Now" in text
    assert first_step.bounding_box()["y"] < page.viewport_size["height"]
    assert "Offer vaginal micronised progesterone" in page.locator("#next-steps").inner_text()
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-a-and-e")


def test_clinician_sees_an_overdue_review_as_do_now_with_its_date(screen, server):
    """A plateauing hCG pair taken a week ago: the 24-hour EPU review is overdue."""
    page = screen
    today = _today()
    page.goto(server + "/")
    _stable_history(page)
    first, second = today - dt.timedelta(days=9), today - dt.timedelta(days=7)
    _plateau_after_an_unlocated_scan(page, today - dt.timedelta(weeks=7), first, second)
    _assess(page)
    first_step = page.locator("#next-steps li").first
    text = first_step.inner_text()
    was_due = second + dt.timedelta(days=1)
    assert f"Overdue: do now (was due {_uk(was_due)})" in text
    assert "early pregnancy unit within 24 hours" in text
    assert "overdue" in (first_step.get_attribute("class") or "")
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-overdue")


def test_clinician_sees_confirm_the_diagnosis_first_before_any_treatment(screen, server):
    """A missed miscarriage on a single scan: no management until it is confirmed."""
    page = screen
    today = _today()
    page.goto(server + "/")
    _stable_history(page, pain="Mild")
    _radio(page, "Miscarriage diagnosed in this pregnancy", "Yes")
    _radio(page, "Type of miscarriage", "Missed")
    _scan(page, today, "intrauterine", "Yes", "No", "8")
    _assess(page)
    steps = page.locator("#next-steps").inner_text()
    assert "Confirm the diagnosis first." in steps
    assert f"On or after {_uk(today + dt.timedelta(days=7))}" in steps
    assert "Expectant management for 7 to 14 days" not in steps
    summary = page.locator("#section-miscarriage_management summary").inner_text()
    assert "Confirm the diagnosis first" in summary
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-confirm-first")


def test_clinician_adds_an_hcg_row_without_losing_answers(screen, server):
    page = screen
    page.goto(server + "/")
    page.get_by_label("Number of previous miscarriages").fill("2")
    page.get_by_role("button", name="Add another hCG result").click()
    page.wait_for_load_state()
    assert page.get_by_role("group", name="hCG result 3").is_visible()
    assert page.get_by_label("Number of previous miscarriages").input_value() == "2"
    assert page.locator("#result").count() == 0
    _axe(page)


def test_clinician_errors_sit_beside_the_field_and_in_the_summary(screen, server):
    page = screen
    page.goto(server + "/")
    page.get_by_label("First day of last menstrual period (LMP)").fill("2099-01-01")
    page.get_by_label("Number of previous miscarriages").fill("two")
    page.get_by_role("button", name="Assess", exact=True).click()
    summary = page.locator("#errors")
    assert "Number of previous miscarriages: Enter a whole number, like 2" in summary.inner_text()
    beside = page.locator("#previous_miscarriages-error")
    assert "Enter a whole number, like 2" in beside.inner_text()
    assert "Input should be" not in page.inner_text("body")
    summary.get_by_role("link", name="Number of previous miscarriages").click()
    assert page.evaluate("location.hash") == "#previous_miscarriages"
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "clinician-errors")
    page.get_by_label("Number of previous miscarriages").fill("1")
    page.get_by_role("button", name="Assess", exact=True).click()
    assert "Must not be after the date of assessment" in page.locator("#lmp-error").inner_text()
    _axe(page)


def test_clinician_page_has_no_sideways_scroll_at_320_px(browser, server):
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    try:
        page.goto(server + "/")
        _no_sideways_scroll(page)
        page.locator("#episode_json").evaluate("e => e.closest('details').open = true")
        _no_sideways_scroll(page)
        page.get_by_role("button", name="Assess", exact=True).click()
        page.wait_for_load_state()
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        _no_sideways_scroll(page)
        page.goto(server + "/check")
        _no_sideways_scroll(page)
    finally:
        context.close()


def test_clinician_form_is_keyboard_usable(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    seen = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        seen.add(
            page.evaluate(
                "document.activeElement.id || document.activeElement.name"
                " || document.activeElement.textContent"
            )
        )
    for field in (
        "assessed_on",
        "previous_miscarriages",
        "lmp",
        "scans-0-location",
        "scans-0-crl_mm",
        "hcg-1-iu_per_l",
        "allergies",
        "stop_at",
    ):
        assert field in seen, field
    # Enter in a field assesses (it does not add a row).
    page.focus("#previous_miscarriages")
    page.keyboard.type("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#result").is_visible()


# --- the page for women -----------------------------------------------------------------------


def _answer(page, scan, bleeding, pain, miscarriages):
    _radio(page, "1. Has a scan shown that the pregnancy is in your womb?", scan)
    _radio(page, "2. Are you bleeding from your vagina in this pregnancy?", bleeding)
    _radio(page, "3. Do you have pain in your tummy?", pain)
    _radio(page, "4. How many miscarriages have you had before this pregnancy?", miscarriages)


def test_first_question_is_visible_on_a_phone_without_scrolling(screen, server):
    page = screen
    page.goto(server + "/check")
    group = page.get_by_role(
        "group", name="1. Has a scan shown that the pregnancy is in your womb?"
    )
    first_option = group.get_by_label("Yes, it is in my womb")
    box = first_option.bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "check-empty")


def test_woman_who_fits_gets_what_to_ask_and_a_note_for_her_doctor(screen, server):
    page = screen
    page.goto(server + "/check")
    _answer(page, "Yes, it is in my womb", "Yes, light bleeding or spotting", "No", "1")
    period = _today() - dt.timedelta(weeks=8)
    page.get_by_label("5. When did your last period start?").fill(period.isoformat())
    page.get_by_role("button", name="See what NICE says").click()
    answer = page.locator("#answer").inner_text()
    assert "NICE says you should be offered progesterone" in answer
    assert "Can I have progesterone?" in answer
    assert "NICE is the National Institute for Health and Care Excellence" in answer
    assert "do not start, stop or change any medicine without talking to your doctor" in answer
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}", answer)  # UK dates
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page.inner_text("main"))
    note = page.locator("#note").inner_text()
    assert "recommendation 1.5.2" in note and "23 August 2023" in note
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, "check-offer")
    page.emulate_media(media="print")
    assert not page.locator("form").is_visible()
    assert page.locator("#answer").is_visible() and page.locator("#note").is_visible()
    _shot(page, "check-offer-print")
    assert _pdf_pages(page) <= 2


def test_woman_with_an_ectopic_gets_urgent_advice_first(screen, server):
    page = screen
    page.goto(server + "/check")
    _answer(
        page, "No, it is outside my womb (ectopic)", "Yes, light bleeding or spotting", "No", "1"
    )
    page.get_by_role("button", name="See what NICE says").click()
    urgent = page.locator("#urgent")
    assert "ectopic pregnancy" in urgent.inner_text()
    assert urgent.bounding_box()["y"] < page.locator("#answer").bounding_box()["y"]
    assert urgent.bounding_box()["y"] < page.viewport_size["height"]
    assert "Has a scan shown that my pregnancy is in my womb?" not in page.inner_text("body")
    _axe(page)
    _shot(page, "check-ectopic")


def test_woman_with_heavy_bleeding_gets_urgent_advice_first(screen, server):
    page = screen
    page.goto(server + "/check")
    _answer(page, "Yes, it is in my womb", "Yes, heavy bleeding", "Yes, bad pain", "1")
    page.get_by_role("button", name="See what NICE says").click()
    urgent = page.locator("#urgent").inner_text()
    assert "bleeding heavily" in urgent and "bad pain" in urgent and "999" in urgent
    assert page.locator("#urgent").bounding_box()["y"] < page.viewport_size["height"]
    _axe(page)
    _shot(page, "check-heavy-bleeding")


def test_woman_who_does_not_know_gets_unknown_not_no(screen, server):
    page = screen
    page.goto(server + "/check")
    _answer(page, "I don't know", "Yes, light bleeding or spotting", "I don't know", "I don't know")
    page.get_by_role("button", name="See what NICE says").click()
    text = page.locator("#answer").inner_text()
    assert "We cannot tell yet" in text
    assert "how many miscarriages you have had before" in text
    assert "does not suggest" not in text
    _axe(page)
    _shot(page, "check-unknown")


def test_future_period_date_error_never_shows_an_internal_name(screen, server):
    page = screen
    page.goto(server + "/check")
    _answer(page, "Yes, it is in my womb", "Yes, light bleeding or spotting", "No", "1")
    future = _today() + dt.timedelta(days=30)
    page.get_by_label("5. When did your last period start?").fill(future.isoformat())
    page.get_by_role("button", name="See what NICE says").click()
    body = page.inner_text("main")
    for internal in ("scans[0]", "scans", "assessed_on", "lmp", "_"):
        assert internal not in body, internal
    assert "not in the future" in page.locator("#period-error").inner_text()
    page.locator("#errors").get_by_role("link").first.click()
    assert page.evaluate("location.hash") == "#period"
    _axe(page)
    _shot(page, "check-period-error")
