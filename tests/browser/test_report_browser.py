"""The audit report in a real browser: it opens from disk at desktop and phone widths, axe-core
finds no violation, nothing scrolls sideways, and its links reach the audit's files.
Screenshots go to out/screenshots/ (ignored by git)."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from earlypath.audit.run import run_audit
from earlypath.synth import write_cohort

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parents[2] / "out" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_cohort(8000, 2, "csv", folder / "c.csv")
    run_audit(folder / "c.csv", folder / "out", group_by=["deprivation_quintile"])
    return folder / "out" / "report.html"


@pytest.mark.parametrize("width", WIDTHS)
def test_report_opens_from_disk_without_axe_violations(report: Path, page, width: str) -> None:
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(report.as_uri())
    assert page.locator("h1").count() == 1
    # funnel, trend, and a panel per measure for each group but month
    assert page.locator("figure svg[role=img]").count() >= 2 + 5 * 3
    first = page.locator("section.first")
    assert "Look at first" in first.inner_text()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.get_by_text("The counts by month").click()  # open the table of the trend
    assert page.locator("details table").is_visible()
    violations = Axe().run(page).response["violations"]
    # none at all (as before the report grew), so none serious or critical either
    assert [(v["id"], v["impact"]) for v in violations] == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report-{width}.png"), full_page=True)
    for link in first.locator("a").all():
        assert (report.parent / link.get_attribute("href")).is_file()
