"""The FHIR audit reads a woman whose record was merged (Patient.link) as one woman (issue 12,
real records; `tests.records.merge_shapes`): her previous miscarriage under the old Patient id is
seen at her scan under the new one ("offer"; it was judged without it, as if her history were
unknown), through either side's link, absolute references and a chain of two merges; an
encounter written under the old id is hers. A cycle or a record merged into two different
records is not merged and is named in summary.json; seealso links merge nothing. On DuckDB, the
Python engine and Spark alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from earlypath.records.merges import CONFLICT_MESSAGE, CYCLE_MESSAGE
from tests.fhir_exports import write_export
from tests.records.merge_shapes import AUDIT_CASES, one_export


def _audit(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(one_export(), tmp_path_factory.mktemp("merged") / "in")


def _check(rows: dict[str, dict[str, Any]]) -> None:
    assert set(rows) == set(AUDIT_CASES)
    for case, (_, one_woman) in AUDIT_CASES.items():
        row = rows[case]
        if one_woman:
            assert (row["decision"], row["missing"]) == ("offer", []), case
            assert row["age_band"] == "30-34", case  # her surviving Patient's birth date
        else:  # not merged: her history is not read as hers (unknown, never "none")
            assert row["decision"] == "needs_information", case
            assert row["missing"] == ["previous_miscarriages"], case


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_merged_record_is_read_as_one_woman(
    engine: str, export_folder: Path, tmp_path: Path
) -> None:
    _check(_audit(export_folder, tmp_path / "out", engine))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    merges = summary["fhir_export"]["patient_merges"]
    # old, first, middle (twice: merged and old side, new side, seen under old)
    assert merges["records_read_as_another"] == 6
    assert merges["encounters_of_unresolved_merges"] == {CONFLICT_MESSAGE: 1, CYCLE_MESSAGE: 1}
    assert merges["links_not_used"] == {"seealso": 2}
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "6 merged patient records (Patient.link) read as the record in use" in report
    assert "1 encounter of a patient record that has merge links" in report


def test_an_export_without_links_says_nothing_of_merges(tmp_path: Path) -> None:
    export, _ = AUDIT_CASES["merged"]
    plain = {k: [dict(r) for r in v] for k, v in export.items()}
    for p in plain["Patient"]:
        p.pop("link", None)
    _audit(write_export(plain, tmp_path / "in"), tmp_path / "out", "duckdb")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert "patient_merges" not in summary["fhir_export"]
    # nor of resources named by identifier: none here (stop 23, `records.identifiers`)
    assert "subjects_by_identifier" not in summary["fhir_export"]


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
