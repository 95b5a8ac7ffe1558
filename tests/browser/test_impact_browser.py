"""The impact page and /docs in a real browser (Chromium), at desktop and phone widths, with
axe-core; screenshots go to out/screenshots/ (ignored by git) for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parents[2] / "out" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}


def _axe(page, at_least: str = "minor") -> None:
    """No violation at all (so none serious or critical), or none from `at_least` up."""
    levels = ("minor", "moderate", "serious", "critical")
    counted = levels[levels.index(at_least) :]
    violations = Axe().run(page).response["violations"]
    found = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in counted]
    assert found == []


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_scenario_switch_shows_the_scenario_clicked(server, page, width) -> None:
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(server + "/impact")
    assert "7,200" in page.locator("#headline-h + p").inner_text()
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, f"impact-nice-2021-{width}")

    page.get_by_role("navigation", name="Scenarios").get_by_role(
        "link", name="coomarasamy-2020"
    ).click()
    page.wait_for_url("**scenario=coomarasamy-2020**")
    assert "8,450" in page.locator("#headline-h + p").inner_text()
    current = page.locator("nav[aria-label=Scenarios] a[aria-current=page]")
    assert current.inner_text() == "coomarasamy-2020"
    _axe(page)
    _shot(page, f"impact-coomarasamy-2020-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_local_inputs_give_a_result_with_its_interval(server, page, width) -> None:
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(server + "/impact?scenario=coomarasamy-2020")
    page.get_by_label("Births a year in your area").fill("6000")
    page.get_by_label("Women with a previous miscarriage (%)").fill("30")
    page.get_by_label("Uptake (%)").fill("80")
    page.get_by_role("button", name="Work it out for my area").click()
    answer = page.locator(".answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "For 6,000 births a year" in text
    assert "additional live births a year (95% interval" in text
    assert page.get_by_label("Births a year in your area").input_value() == "6000"
    _axe(page)
    _no_sideways_scroll(page)
    _shot(page, f"impact-local-{width}")

    # switching scenario keeps the local figures
    page.get_by_role("link", name="nice-2021").click()
    page.wait_for_url("**scenario=nice-2021**")
    assert "For 6,000 births a year" in page.locator(".answer").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_bad_local_input_is_named_beside_its_field(server, page, width) -> None:
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(server + "/impact")
    page.get_by_label("Uptake (%)").fill("120")
    page.get_by_role("button", name="Work it out for my area").click()
    message = page.locator("#uptake-error")
    message.wait_for()
    assert "enter a number from 0 to 100" in message.inner_text()
    assert page.get_by_label("Uptake (%)").get_attribute("aria-invalid") == "true"
    page.get_by_role("link", name="Uptake (%): enter a number from 0 to 100.").click()
    assert page.evaluate("document.activeElement.id") == "uptake"
    _axe(page)
    _shot(page, f"impact-error-{width}")


def test_the_site_navigation_reaches_every_page(server, page) -> None:
    page.goto(server + "/impact")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinician page").click()
    page.wait_for_url(server + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Impact").click()
    page.wait_for_url(server + "/impact")
    assert page.locator("h1").inner_text().startswith("What the NG126")


def test_docs_work_with_no_internet(server, page) -> None:
    """Every request off this machine is refused; Swagger UI still lists the operations."""
    asked_outside: list[str] = []

    def only_loopback(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            asked_outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(server + "/docs")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() >= 3
    assert "/api/assess" in page.locator("#swagger-ui").inner_text()
    assert asked_outside == []
    # Swagger UI's own page: no serious or critical violation (its heading order is its own)
    _axe(page, at_least="serious")
    page.locator(".opblock-summary-control").first.click()
    page.locator(".opblock-body").first.wait_for()
    _axe(page, at_least="serious")
    _shot(page, "docs-offline-desktop")
