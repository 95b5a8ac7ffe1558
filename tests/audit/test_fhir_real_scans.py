"""The FHIR audit reads scan results as hospitals send them as the CDS service does (issue 12,
real records; `tests.records.scan_shapes`), on DuckDB, the Python engine and Spark alike: an
encounter whose only intrauterine finding is preliminary is "needs information", not "offer" (it
was: an offer not yet confirmed, counted as care a woman should have had), an amended or
corrected one confirms it, and a finding dated by effectiveInstant, a period's start or end, or
issued only is dated. A scan report (DiagnosticReport) is not read: a strict expected failure
holds the gap it leaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.audit.test_fhir_medicines_read import _one_export, _write
from tests.records.real_shapes import export_of
from tests.records.scan_shapes import (
    NEEDS_SCAN,
    REPORT_GAPS,
    SCAN_AS_CONDITION,
    SCAN_DATING,
    SCAN_REPORTS,
    SCAN_STATUS,
)
from tests.records.test_engines_agree import assert_same, audit_reading

ENGINES = ["duckdb", "python"]
CASES = {**SCAN_STATUS, **SCAN_AS_CONDITION, **SCAN_DATING, **SCAN_REPORTS}


def _decisions(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def _check(rows: dict[str, dict], cases: dict[str, tuple[Any, str]]) -> None:
    assert set(rows) == set(cases)
    for name, (_, decision) in cases.items():
        assert rows[name]["decision"] == decision, name
        if decision == NEEDS_SCAN:
            assert "scans" in rows[name]["missing"], name


def _export(cases: dict[str, tuple[Any, str]]) -> dict[str, list[dict[str, Any]]]:
    """One export of every woman (each her own patient and encounter)."""
    return _one_export({name: export_of(resources) for name, (resources, _) in cases.items()})


def _folder(cases: dict[str, tuple[Any, str]], tmp: Path) -> Path:
    return _write(_export(cases), tmp / "in")


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(CASES, tmp_path_factory.mktemp("scans"))


@pytest.mark.parametrize("engine", ENGINES)
def test_the_audit_offers_only_on_a_confirmed_intrauterine_scan(
    engine: str, export_folder: Path, tmp_path: Path
) -> None:
    _check(_decisions(export_folder, tmp_path / "out", engine), CASES)


def test_the_service_and_the_audit_read_steps_and_problems_alike(export_folder: Path) -> None:
    """Every step and problem (the preliminary scan's included) the same on both engines."""
    export = _export(CASES)
    assert_same(export, audit_reading(ibis.duckdb.connect(), export_folder, "duck", export))


@pytest.mark.spark
def test_spark_reads_scan_results_as_duckdb_does(
    export_folder: Path, tmp_path: Path, spark: Any
) -> None:
    on_spark = _decisions(export_folder, tmp_path / "s", "spark", spark=spark)
    _check(on_spark, CASES)
    assert on_spark == _decisions(export_folder, tmp_path / "d", "duckdb")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "gap (stop 19): DiagnosticReport is not read, so a scan report concluding a miscarriage "
        "after a scan that confirmed the pregnancy a week ago is not seen and the encounter is "
        "judged 'offer'; reading it needs its conclusionCode and contained Observations in the "
        "records IR and a CDS prefetch key"
    ),
)
def test_a_scan_report_concluding_a_miscarriage_is_no_offer(tmp_path: Path) -> None:
    _check(_decisions(_folder(REPORT_GAPS, tmp_path), tmp_path / "out", "duckdb"), REPORT_GAPS)
