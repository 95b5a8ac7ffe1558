"""What the audit writes besides the summary: the FHIR R4 MeasureReport, the per-site case list,
and the report's trend (counts and intervals), small multiples and links to both files."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.measurereport import MeasureReport

from earlypath.audit.case_list import CASE_LIST
from earlypath.audit.run import OUTPUTS, run_audit
from earlypath.synth import write_cohort


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit-outputs")
    write_cohort(12_000, 5, "csv", folder / "cohort.csv")
    run_audit(folder / "cohort.csv", folder / "out")
    return folder / "out"


@pytest.fixture(scope="module")
def summary(audited: Path) -> dict:
    return json.loads((audited / "summary.json").read_text(encoding="utf-8"))


def _counts(populations: list) -> dict[str, int | None]:
    return {p.code.coding[0].code: p.count for p in populations}


def test_the_summary_names_the_funnel_limits(summary) -> None:
    assert summary["funnel"]["limits"].startswith("exact binomial")


def test_new_outputs_are_staged_with_the_others(audited: Path) -> None:
    assert {"measure-report.json", CASE_LIST} <= set(OUTPUTS)
    names = {p.name for p in audited.iterdir() if not p.name.startswith(".")}
    # every output is published; besides them only the publishing's own manifest, if any
    assert set(OUTPUTS) <= names <= {*OUTPUTS, "manifest.json"}


def test_measure_report_is_a_valid_r4_summary_of_every_measure(audited: Path, summary) -> None:
    report = MeasureReport.model_validate_json((audited / "measure-report.json").read_bytes())
    assert (report.status, report.type) == ("complete", "summary")
    months = sorted(summary["by_group"]["month"])
    assert str(report.period.start) == f"{months[0]}-01"
    assert str(report.period.end).startswith(months[-1])
    assert [g.code.coding[0].code for g in report.group] == [m["id"] for m in summary["measures"]]
    for group, measure in zip(report.group, summary["measures"], strict=True):
        overall = measure["overall"]
        counts = _counts(group.population)
        assert counts == {"numerator": overall["numerator"], "denominator": overall["denominator"]}
        if overall["rate"] is not None:
            assert float(group.measureScore.value) == pytest.approx(overall["rate"], abs=1e-6)
        by = {s.code[0].text: s for s in group.stratifier}
        assert {"site", "month"} <= set(by)
        for name in ("site", "month"):
            cells = summary["by_group"][name]
            strata = {s.value.text: s for s in by[name].stratum}
            assert set(strata) == set(cells)
            for value, cell in cells.items():
                rate = cell["measures"][measure["id"]]
                assert _counts(strata[value].population) == {
                    "numerator": rate["numerator"],
                    "denominator": rate["denominator"],
                }


def test_withheld_counts_are_left_out_of_the_measure_report(tmp_path: Path) -> None:
    write_cohort(3000, 8, "csv", tmp_path / "c.csv")
    run_audit(tmp_path / "c.csv", tmp_path / "out", suppress_below=10)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    report = MeasureReport.model_validate_json(
        (tmp_path / "out" / "measure-report.json").read_text()
    )
    withheld = {
        value
        for value, cell in summary["by_group"]["site"].items()
        if cell["measures"][report.group[0].code.coding[0].code].get("suppressed")
    }
    assert withheld, "the test needs a site with small numbers"
    site = next(s for s in report.group[0].stratifier if s.code[0].text == "site")
    for stratum in site.stratum:
        if stratum.value.text in withheld:
            assert set(_counts(stratum.population).values()) == {None}
            assert stratum.measureScore is None


def test_case_list_is_each_eligible_woman_not_offered_by_site_and_nothing_else(
    audited: Path, summary
) -> None:
    with open(audited / CASE_LIST, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["site", "episode_id"]
    cases = rows[1:]
    headline = next(m for m in summary["measures"] if m["headline"])
    assert len(cases) == headline["overall"]["numerator"] > 0
    per_site = Counter(site for site, _ in cases)
    for site, cell in summary["by_group"]["site"].items():
        assert per_site.get(site, 0) == cell["measures"][headline["id"]]["numerator"]
    assert [site for site, _ in cases] == sorted(site for site, _ in cases)
    episodes = pq.read_table(audited / "episodes.parquet", columns=["episode_id", "adherence"])
    expected = {
        e for e, a in zip(*episodes.to_pydict().values(), strict=True) if a == "not_offered"
    }
    assert {episode for _, episode in cases} == expected


def test_report_trend_has_counts_and_intervals_and_links_the_files(audited: Path, summary) -> None:
    html = (audited / "report.html").read_text(encoding="utf-8")
    headline = next(m for m in summary["measures"] if m["headline"])
    trend = html.split("<h2>Trend by month</h2>")[1].split("<h2>")[0]
    with_rate = {
        m: cell["measures"][headline["id"]]
        for m, cell in summary["by_group"]["month"].items()
        if cell["measures"][headline["id"]]["rate"] is not None
    }
    assert len(with_rate) >= 2
    # one error bar (a path) per month with a rate, and each month's counts in the table
    assert trend.count("<path ") == len(with_rate)
    for month, rate in with_rate.items():
        row = re.search(rf'<th scope="row">{month}</th>(.*?)</tr>', trend).group(1)
        assert f">{rate['numerator']:,}<" in row and f">{rate['denominator']:,}<" in row
        assert f"{rate['ci95_low']:.1%} to {rate['ci95_high']:.1%}" in row
    for name in ("episodes.parquet", CASE_LIST, "measure-report.json"):
        assert f'href="{name}"' in html


def test_report_has_a_small_multiple_per_group(audited: Path, summary) -> None:
    html = (audited / "report.html").read_text(encoding="utf-8")
    for group in summary["groups"]:
        if group == "month":
            continue  # shown by the trend
        slug = "".join(c if c.isalnum() else "-" for c in group)
        figure = html.split(f'<figure aria-labelledby="by-{slug}-cap">')[1].split("</figure>")[0]
        assert figure.count("<svg ") == len(summary["measures"])


def test_the_reference_engine_writes_the_same_case_list_and_measure_report(
    audited: Path, tmp_path: Path
) -> None:
    cohort = audited.parent / "cohort.csv"
    run_audit(cohort, tmp_path / "py", engine="python")
    assert (tmp_path / "py" / CASE_LIST).read_bytes() == (audited / CASE_LIST).read_bytes()
    duck = json.loads((audited / "measure-report.json").read_text())
    ref = json.loads((tmp_path / "py" / "measure-report.json").read_text())
    assert duck["group"] == ref["group"] and duck["period"] == ref["period"]


def test_with_no_case_the_report_says_so(summary) -> None:
    from copy import deepcopy

    from earlypath.audit.report import render_report

    summary = deepcopy(summary)  # the fixture is shared
    headline = next(m for m in summary["measures"] if m["headline"])
    headline["overall"].update(numerator=0, rate=0.0, ci95_low=0.0, ci95_high=0.01)
    html = render_report(summary)
    assert "No eligible woman went without an offer" in html
    assert "Review the 0 cases" not in html


def test_with_no_care_recorded_the_empty_case_list_does_not_reassure(summary) -> None:
    """An export without prescriptions: every eligible episode's care is unknown, the headline
    has no denominator, and the empty case list must not read as "nobody went without"."""
    from copy import deepcopy

    from earlypath.audit.report import render_report

    summary = deepcopy(summary)  # the fixture is shared
    headline = next(m for m in summary["measures"] if m["headline"])
    headline["overall"].update(numerator=0, denominator=0, rate=None, ci95_low=None, ci95_high=None)
    summary["decisions"] = {"offer": 10, "do_not_offer": 5}
    summary["adherence"] = {"offered": 0, "not_offered": 0, "care_unknown": 15}
    html = render_report(summary)
    assert "No eligible woman went without an offer" not in html
    assert "cannot show whether any eligible woman went without an offer" in html
    assert "For 10 episodes where the guideline says offer, the care given is not recorded" in html


def test_offers_with_care_unknown_are_counted_beside_an_empty_case_list(summary) -> None:
    from copy import deepcopy

    from earlypath.audit.report import render_report

    summary = deepcopy(summary)
    headline = next(m for m in summary["measures"] if m["headline"])
    headline["overall"].update(numerator=0, denominator=4, rate=0.0, ci95_low=0.0, ci95_high=0.5)
    summary["decisions"] = {"offer": 5}
    summary["adherence"] = {"offered": 4, "not_offered": 0, "care_unknown": 1}
    html = render_report(summary)
    assert "No eligible woman went without an offer" in html
    assert "For 1 episode where the guideline says offer, the care given is not recorded" in html
