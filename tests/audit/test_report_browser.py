"""The report in a real browser: it opens from disk and axe-core finds no accessibility violation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from earlypath.audit.run import run_audit
from earlypath.audit.synth import write_cohort

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's Chromium")
def test_report_opens_from_disk_without_axe_violations(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    write_cohort(8000, 2, "csv", tmp_path / "c.csv")
    run_audit(tmp_path / "c.csv", tmp_path / "out")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.goto((tmp_path / "out" / "report.html").as_uri())
            assert page.locator("h1").count() == 1
            assert page.locator("svg[role=img]").count() == 2
            result = axe_module.Axe().run(page)
            assert result.violations_count == 0, [v["id"] for v in result.response["violations"]]
        finally:
            browser.close()
