"""The FHIR audit reads previous miscarriages recorded as a count of past pregnancy outcomes (an IPS
"History of Pregnancy" Observation; `tests.records.count_shapes`) as the CDS service does, on
DuckDB, the Python engine and Spark alike: every woman in one export, read once per engine. Before
stop 22 none was read: each was "needs information" (a woman with a count of 2 and bleeding, who
should have been offered progesterone, was never counted as eligible)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import read_fhir_export
from earlypath.audit.run import run_audit
from tests.fhir_exports import one_export, write_export
from tests.records.count_shapes import CASES
from tests.records.real_shapes import export_of


def _decisions(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def _check(rows: dict[str, dict]) -> None:
    assert set(rows) == set(CASES)
    for name, (_, _, decision) in CASES.items():
        assert rows[name]["decision"] == decision, name
        if decision == "needs_information":
            assert "previous_miscarriages" in rows[name]["missing"], name


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = {name: export_of(resources) for name, (resources, _, _) in CASES.items()}
    return write_export(one_export(exports), tmp_path_factory.mktemp("counts") / "in")


def test_the_audit_reads_counts_alike_on_duckdb_and_python(export_folder: Path, tmp_path: Path):
    duck = _decisions(export_folder, tmp_path / "d", "duckdb")
    _check(duck)
    assert duck == _decisions(export_folder, tmp_path / "p", "python")


def test_the_flat_table_holds_the_number_read(export_folder: Path) -> None:
    export = discover_export(export_folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), export, "counts")
    rows = {r["episode_id"].removeprefix("enc-"): r for r in table.to_pyarrow().to_pylist()}
    for name, (_, previous, _) in CASES.items():
        cell = rows[name]["previous_miscarriages"]
        assert cell == (None if previous is None else str(previous)), name


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
