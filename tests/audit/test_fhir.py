"""FHIR R4 bulk NDJSON in: flattened in DuckDB with the FHIR mapping, judged like CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from earlypath.synth import write_cohort


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fhir")
    write_cohort(2500, 21, "fhir-ndjson", folder / "ndjson")
    write_cohort(2500, 21, "csv", folder / "cohort.csv")
    return {"fhir": folder / "ndjson", "csv": folder / "cohort.csv", "out": folder}


def _datable(row: dict[str, Any]) -> bool:
    """Can the FHIR mapping date this pregnancy (an LMP, or a CRL the dating rule reads)?"""
    crl = row["crl_mm"]
    return row["lmp"] is not None or (crl is not None and 0 < crl <= 84)


def _episodes(path: Path) -> dict[str, Any]:
    return {r["episode_id"]: r for r in pq.read_table(path / "episodes.parquet").to_pylist()}


def test_fhir_export_on_duckdb_equals_the_reference_engine(exports: dict[str, Path]) -> None:
    out = exports["out"]
    duck = run_audit(exports["fhir"], out / "duck")
    run_audit(exports["fhir"], out / "py", engine="python")
    # every synthetic presentation records her pregnancy status: none is excluded
    assert duck.rows_in == 2500 == duck.evaluated + duck.rejected and duck.excluded == 0
    assert (
        pq.read_table(out / "duck" / "episodes.parquet").to_pylist()
        == pq.read_table(out / "py" / "episodes.parquet").to_pylist()
    )
    assert set(_episodes(out / "duck")) and duck.summary["by_group"]["ethnicity"]
    # stop 26: the cohort draws scans whose report was not read; where the report decides,
    # the audit asks for it (never a PUL, never "a scan"), and the summary counts it
    unread = [e for e in _episodes(out / "duck").values() if "scan_report" in e["missing"]]
    assert unread and all(e["decision"] == "needs_information" for e in unread)
    assert duck.summary["data_quality"]["missing_facts"]["scan_report"] == len(unread)


def test_fhir_and_csv_of_the_same_cohort_give_the_same_decisions(exports: dict[str, Path]) -> None:
    out = exports["out"]
    run_audit(exports["fhir"], out / "f")
    run_audit(exports["csv"], out / "c")
    fhir, csv = _episodes(out / "f"), _episodes(out / "c")
    both = set(fhir) & set(csv)
    assert len(both) > 2400
    differ = [
        i
        for i in both
        if (fhir[i]["decision"], fhir[i]["missing"]) != (csv[i]["decision"], csv[i]["missing"])
    ]
    # The FHIR mapping places this presentation's facts in the pregnancy by date: with neither an
    # LMP nor a crown-rump length to date it, her bleeding and scan cannot be placed (Unknown).
    rows = {r["episode_id"]: r for r in pacsv.read_csv(exports["csv"]).to_pylist()}
    assert len(differ) < 0.02 * len(both)
    for i in differ:
        assert not _datable(rows[i]), i
        assert fhir[i]["decision"] == "needs_information", i
        assert {"vaginal_bleeding", "scans"} <= set(fhir[i]["missing"]), i
    # stop 26: the scans whose report was not read (a text-only scan report in the export, the
    # word in the CSV) are judged alike, the report named where it decides
    unread = [i for i in both if rows[i]["scan_location"] == "report_not_read"]
    assert len(unread) > 20
    for i in unread:
        if _datable(rows[i]):
            assert (fhir[i]["decision"], fhir[i]["missing"]) == (
                csv[i]["decision"],
                csv[i]["missing"],
            ), i
            assert "scans" not in fhir[i]["missing"], i
    for i in both:
        for column in (
            "site",
            "age_band",
            "ethnicity",
            "deprivation_quintile",
            "guideline_version",
        ):
            assert str(fhir[i][column]) == str(csv[i][column]), (i, column)


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
