"""Measures, their governance, Wilson intervals, the funnel plot and the report."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from earlypath.audit.funnel import funnel_limits
from earlypath.audit.governance import Governance, load_measures
from earlypath.audit.measures import ADHERENCE, CATEGORIES
from earlypath.audit.run import run_audit
from earlypath.synth import write_cohort


def test_funnel_limits_narrow_with_n() -> None:
    wide, narrow = funnel_limits(0.4, 20, 0.95), funnel_limits(0.4, 2000, 0.95)
    assert wide[0] < narrow[0] < 0.4 < narrow[1] < wide[1]


def test_every_measure_has_its_governance() -> None:
    measures = load_measures()
    assert measures[0].id == "eligible_not_offered" and measures[0].headline
    assert {m.id for m in measures} >= {
        "eligible_not_offered",
        "eligible_offered",
        "given_outside_guideline",
        "undecidable",
    }
    for m in measures:
        gov = m.governance()
        for key in (
            "definition",
            "numerator",
            "denominator",
            "recommendation",
            "authored_by",
            "checked_by",
            "review_by",
        ):
            assert gov[key], (m.id, key)
        assert set(m.numerator) <= set(m.denominator) <= set(CATEGORIES)
        # the governance is its fields, in their order, its lists as lists
        names = [f.name for f in dataclasses.fields(Governance)]
        assert list(gov) == names and gov["numerator"] == list(m.numerator), m.id


def test_every_decision_and_care_has_a_category() -> None:
    for decision in ("offer", "do_not_offer", "stop", "continue"):
        for given in (True, False):
            assert (decision, given) in ADHERENCE


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    write_cohort(30_000, 11, "csv", folder / "cohort.csv")
    run_audit(folder / "cohort.csv", folder / "out", group_by=["deprivation_quintile"])
    return folder / "out"


def test_report_is_self_contained_and_accessible(audited: Path) -> None:
    text = (audited / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    tags = [t for t, _ in page.tags]
    assert ("html", {"lang": "en-GB"}) in page.tags
    assert tags.count("h1") == 1 and "h2" in tags and "th" in tags
    assert all(a.get("scope") in ("col", "row") for t, a in page.tags if t == "th")
    svgs = [a for t, a in page.tags if t == "svg"]
    assert svgs and all(a.get("role") == "img" and a.get("aria-labelledby") for a in svgs)
    assert "<script" not in text and "<metadata" not in text
    links = [
        a.get("href") or a.get("src") for t, a in page.tags if t in ("a", "img", "link", "script")
    ]
    # links out go to NICE only; the others are the audit's own files, beside the report
    local = [link for link in links if link and "://" not in link]
    assert all(link.startswith("https://www.nice.org.uk/") for link in links if "://" in link)
    assert local and all((audited / link).is_file() for link in local)
    for heading in (
        "Headline measures",
        "funnel plot",
        "Trend by month",
        "Breakdown by group",
        "Data quality",
        "Guideline versions applied",
    ):
        assert heading in text


def test_the_built_in_inequality_is_found(audited: Path) -> None:
    summary = json.loads((audited / "summary.json").read_text(encoding="utf-8"))
    by_eth = summary["by_group"]["ethnicity"]
    white = by_eth["White"]["measures"]["eligible_not_offered"]
    black = by_eth["Black"]["measures"]["eligible_not_offered"]
    assert black["rate"] > white["rate"]
    assert {"site", "month", "age_band", "ethnicity", "deprivation_quintile"} <= set(
        summary["groups"]
    )
    versions = [v["version"] for v in summary["guideline_versions"]]
    assert versions == ["2019-04-17", "2021-11-24", "2023-08-23"]
    assert summary["funnel"]["points"]


def test_small_numbers_can_be_withheld(tmp_path: Path) -> None:
    write_cohort(6000, 12, "csv", tmp_path / "c.csv")
    run_audit(tmp_path / "c.csv", tmp_path / "out", suppress_below=8)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["disclosure_control"]["suppress_below"] == 8
    withheld = 0
    for cells in summary["by_group"].values():
        for cell in cells.values():
            assert cell["episodes"] is None or cell["episodes"] >= 8
            for rate in cell["measures"].values():
                if rate.get("suppressed"):
                    withheld += 1
                    assert rate["numerator"] is None and rate["rate"] is None
                else:
                    for n in (
                        rate["numerator"],
                        rate["denominator"],
                        rate["denominator"] - rate["numerator"],
                    ):
                        assert n == 0 or n >= 8
    assert withheld
    overall = summary["measures"][0]["overall"]
    assert overall["numerator"] is not None  # the overall figures stay in full
    assert "withheld (small numbers)" in (tmp_path / "out" / "report.html").read_text()


def test_group_counts_from_one_scan_equal_one_group_by_per_key(tmp_path: Path) -> None:
    # DuckDB counts every group in one scan (GROUPING SETS); Spark unions one group-by per key.
    # Same rows, including missing values, typed columns and a name that needs quoting.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from earlypath.audit.run import evaluate
    from earlypath.audit.summary import _grouping_sets, _union_of_group_bys

    write_cohort(3000, 5, "parquet", tmp_path / "c.parquet")
    table = pq.read_table(tmp_path / "c.parquet")
    n = table.num_rows
    table = table.append_column(
        "flag", pa.array([None if i % 7 == 0 else i % 2 == 0 for i in range(n)])
    )
    table = table.append_column('care "team"', pa.array([i % 4 for i in range(n)], pa.int32()))
    pq.write_table(table, tmp_path / "g.parquet")
    ev = evaluate(tmp_path / "g.parquet")
    keys = ["site", "month", "ethnicity", "flag", 'care "team"', "decision", "guideline_version"]

    def rows(count):  # type: ignore[no-untyped-def]
        return sorted(
            count(ev.con, ev.episodes, keys),
            key=lambda r: (r["key"], r["value"] or "", r["adherence"]),
        )

    one_scan = rows(_grouping_sets)
    assert one_scan == rows(_union_of_group_bys)
    assert {r["key"] for r in one_scan} == set(keys)
    assert {r["value"] for r in one_scan if r["key"] == "flag"} == {"true", "false", None}
    assert sum(r["n"] for r in one_scan if r["key"] == "site") == ev.rows_in - _rejected(ev)


def _rejected(ev) -> int:  # type: ignore[no-untyped-def]
    from earlypath.audit.sql_table import count_rows

    return count_rows(ev.con.con, ev.rejects)  # (a view made only if asked for by ibis)


def test_grouping_by_adherence_itself_counts_each_episode_once(tmp_path: Path) -> None:
    # adherence is in every grouping set, so as a key of its own it must take the other path.
    write_cohort(2000, 8, "csv", tmp_path / "c.csv")
    result = run_audit(tmp_path / "c.csv", tmp_path / "out", group_by=["adherence"])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    cells = summary["by_group"]["adherence"]
    assert sum(cell["episodes"] for cell in cells.values()) == result.evaluated
    assert sum(summary["decisions"].values()) == result.evaluated
    assert set(cells) <= set(CATEGORIES)
