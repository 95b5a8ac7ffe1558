"""The FHIR audit reads findings given only as components of an ultrasound panel (issue 12), on
DuckDB and Spark (the compiled reading unnests the components into rows before the checks), and
judges the episode on each engine (DuckDB, Python, Spark): one vignette per fact (crown-rump
length, mean sac diameter, fetal heart rate, heartbeat finding)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_flat import RESOURCES
from earlypath.audit.fhir_read import read_fhir_export
from earlypath.audit.run import run_audit
from tests.fhir_exports import Export, write_export
from tests.records.panel_vignettes import woman_with_panel
from tests.records.read_once import Part, ReadOnce
from tests.records.real_shapes import export_of

# fact -> the flat cells the audit reads for her latest scan
FLAT: dict[str, dict[str, Any]] = {
    "crl": {"crl_mm": "9.5", "fetal_pole": "true"},
    "msd": {"msd_mm": "12.0"},
    "fhr": {"fetal_heartbeat": "true"},
    "fhr-zero": {"fetal_heartbeat": "false"},
    "heartbeat": {"fetal_heartbeat": "true"},
}


def _flat_rows(export: Export, folder: Path) -> list[dict[str, Any]]:
    """``read`` for `ReadOnce`: the flat cells of each episode of the export, on DuckDB."""
    con = ibis.duckdb.connect()
    table, _ = read_fhir_export(con, discover_export(write_export(export, folder), RESOURCES), "pc")
    return table.to_pyarrow().to_pylist()


def _episodes(export: Export, folder: Path, engine: str) -> list[dict[str, Any]]:
    """``read`` for `ReadOnce`: the episodes of the export's audit on ``engine``."""
    run_audit(write_export(export, folder / "in"), folder / "out", engine=engine)  # type: ignore[arg-type]
    return pq.read_table(folder / "out" / "episodes.parquet").to_pylist()


def _hers(part: Part[list[dict[str, Any]]]) -> dict[str, Any]:
    """Her one row (flat cells or episode) of the reading of the women of her export shape."""
    (row,) = [r for r in part.reading if r["episode_id"].startswith(part.space)]
    return row


def _panel(fact: str) -> Export:
    return export_of(woman_with_panel(fact))


def _in_error() -> Export:
    return export_of(woman_with_panel("crl", status="entered-in-error"))


ENGINES = ["duckdb", "python"]


# Until stop 50 each test read an export of its one woman (nine readings): the women of one
# export shape are now read as one export (`ReadOnce`, each woman namespaced), flat once and
# audited once per engine; `test_a_woman_read_with_the_others_reads_as_alone` checks one.
@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> ReadOnce[list[dict[str, Any]]]:
    women = [_panel(fact) for fact in sorted(FLAT)]
    return ReadOnce(women, tmp_path_factory.mktemp("flat"), _flat_rows)


@pytest.fixture(scope="module")
def audited(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, ReadOnce[list[dict[str, Any]]]]:
    women = [_panel("crl"), _in_error()]
    return {
        engine: ReadOnce(women, tmp_path_factory.mktemp(engine), partial(_episodes, engine=engine))
        for engine in ENGINES
    }


@pytest.mark.parametrize("fact", sorted(FLAT))
def test_the_audit_reads_each_panel_finding_on_duckdb(
    fact: str, flat: ReadOnce[list[dict[str, Any]]]
) -> None:
    row = _hers(flat.part(_panel(fact)))
    assert {k: row[k] for k in FLAT[fact]} == FLAT[fact]


def test_a_woman_read_with_the_others_reads_as_alone(
    flat: ReadOnce[list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The flat cells of one woman read with the others are hers read alone (her ids aside): a
    leak between the women of one export would make them differ."""
    export = _panel("fhr-zero")
    part = flat.part(export)
    (alone,) = _flat_rows(export, tmp_path)
    together = {
        k: v.removeprefix(part.space) if isinstance(v, str) else v for k, v in _hers(part).items()
    }
    # row_number: her row's place in the export read, not a cell of hers
    del together["row_number"], alone["row_number"]
    assert together == alone


@pytest.mark.parametrize("engine", ENGINES)
def test_the_panel_crl_dates_the_pregnancy_and_the_audit_offers(
    engine: str, audited: dict[str, ReadOnce[list[dict[str, Any]]]]
) -> None:
    """No LMP: only the panel's CRL dates the pregnancy (else: needs information)."""
    episode = _hers(audited[engine].part(_panel("crl")))
    assert episode["decision"] == "offer"
    assert episode["gestation_days"] == 49


@pytest.mark.parametrize("engine", ENGINES)
def test_a_panel_entered_in_error_dates_nothing(
    engine: str, audited: dict[str, ReadOnce[list[dict[str, Any]]]]
) -> None:
    episode = _hers(audited[engine].part(_in_error()))
    assert episode["decision"] == "needs_information"
    assert episode["gestation_days"] is None


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
