"""The FHIR audit places miscarriages dated to a month or a year only (`tests.records.
partial_date_shapes`) as the CDS service does, on DuckDB and the Python engine alike (Spark: the
scenario ``partial-dates`` of `tests/audit/test_spark_agreement.py`): every woman in one export,
read once per engine. Before stop 24 each such loss was "no usable date": a woman whose previous
miscarriage was dated "2022-06" was never counted as eligible (needs information), and one whose
pregnancy miscarried in a month of it ("2024-02") was judged eligible. Before stop 25 a loss
dated to the encounter's own month ("2024-03", the encounter on 2024-03-04), or to a year or a
month across this pregnancy's start, beside a dated earlier loss, was named and not read: she was
counted eligible (and, without progesterone, "eligible and not offered"); now whether this
pregnancy has miscarried is unknown and she needs information. The export is read after the
encounter, so a loss dated to a month wholly after it was not known then and is not read."""

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
from tests.records.partial_date_shapes import CASES, ECTOPIC_MAY_BE_THIS_CASES
from tests.records.real_shapes import export_of


def exports() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each case's record as an export of its own (one encounter today), by case."""
    return {name: export_of(resources) for name, (resources, _, _, _) in CASES.items()}


def _decisions(folder: Path, out: Path, engine: str) -> dict[str, dict]:
    run_audit(folder, out, engine=engine)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def flat_cells(previous: int | None, diagnosed: bool | None) -> tuple[str | None, str]:
    """The flat cells ``previous_miscarriages`` and ``miscarriage_diagnosed`` a case gives: an
    Unknown diagnosis is the flat form's word for it, never false."""
    return (
        None if previous is None else str(previous),
        "unknown" if diagnosed is None else str(diagnosed).lower(),
    )


def check(rows: dict[str, dict]) -> None:
    """Each case's audited episode (keyed by case) has the decision the card gives."""
    assert set(rows) == set(CASES)
    for name, (_, previous, diagnosed, decision) in CASES.items():
        assert rows[name]["decision"] == decision, name
        if decision == "needs_information":
            missing = set(rows[name]["missing"])
            assert ("previous_miscarriages" in missing) == (previous is None), name
            assert ("miscarriage_diagnosed" in missing) == (diagnosed is None), name
            # an ectopic that may be this pregnancy's: the latest scan's location is unknown
            assert ("scans" in missing) == (name in ECTOPIC_MAY_BE_THIS_CASES), name


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(one_export(exports()), tmp_path_factory.mktemp("partial") / "in")


def test_the_audit_places_partial_dates_alike_on_duckdb_and_python(
    export_folder: Path, tmp_path: Path
) -> None:
    duck = _decisions(export_folder, tmp_path / "d", "duckdb")
    check(duck)
    assert duck == _decisions(export_folder, tmp_path / "p", "python")


def test_the_flat_table_holds_what_was_placed(export_folder: Path) -> None:
    export = discover_export(export_folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), export, "partial")
    rows = {r["episode_id"].removeprefix("enc-"): r for r in table.to_pyarrow().to_pylist()}
    for name, (_, previous, diagnosed, _) in CASES.items():
        row = rows[name]
        cells = (row["previous_miscarriages"], row["miscarriage_diagnosed"])
        assert cells == flat_cells(previous, diagnosed), name
