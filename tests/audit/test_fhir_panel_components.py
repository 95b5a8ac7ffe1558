"""The FHIR audit reads findings given only as components of an ultrasound panel (issue 12), on
DuckDB and Spark (the compiled reading unnests the components into rows before the checks), and
judges the episode on each engine (DuckDB, Python, Spark): one vignette per fact (crown-rump
length, mean sac diameter, fetal heart rate, heartbeat finding)."""

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
from tests.fhir_exports import write_export
from tests.records.panel_vignettes import woman_with_panel
from tests.records.real_shapes import export_of

# fact -> the flat cells the audit reads for her latest scan
FLAT: dict[str, dict[str, Any]] = {
    "crl": {"crl_mm": "9.5", "fetal_pole": "true"},
    "msd": {"msd_mm": "12.0"},
    "fhr": {"fetal_heartbeat": "true"},
    "fhr-zero": {"fetal_heartbeat": "false"},
    "heartbeat": {"fetal_heartbeat": "true"},
}


def _flat(con: Any, folder: Path, name: str) -> dict[str, Any]:
    table, _ = read_fhir_export(con, discover_export(folder, fhir_flat.RESOURCES), name)
    (row,) = table.to_pyarrow().to_pylist()
    return row


def _episode(folder: Path, out: Path, engine: str, **more: Any) -> dict[str, Any]:
    run_audit(folder, out, engine=engine, **more)  # type: ignore[arg-type]
    (episode,) = pq.read_table(out / "episodes.parquet").to_pylist()
    return episode


@pytest.mark.parametrize("fact", sorted(FLAT))
def test_the_audit_reads_each_panel_finding_on_duckdb(fact: str, tmp_path: Path) -> None:
    folder = write_export(export_of(woman_with_panel(fact)), tmp_path / "in")
    row = _flat(ibis.duckdb.connect(), folder, "pc")
    assert {k: row[k] for k in FLAT[fact]} == FLAT[fact]


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_the_panel_crl_dates_the_pregnancy_and_the_audit_offers(engine: str, tmp_path: Path):
    """No LMP: only the panel's CRL dates the pregnancy (else: needs information)."""
    folder = write_export(export_of(woman_with_panel("crl")), tmp_path / "in")
    episode = _episode(folder, tmp_path / "out", engine)
    assert episode["decision"] == "offer"
    assert episode["gestation_days"] == 49


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_panel_entered_in_error_dates_nothing(engine: str, tmp_path: Path) -> None:
    resources = woman_with_panel("crl", status="entered-in-error")
    folder = write_export(export_of(resources), tmp_path / "in")
    episode = _episode(folder, tmp_path / "out", engine)
    assert episode["decision"] == "needs_information"
    assert episode["gestation_days"] is None


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
