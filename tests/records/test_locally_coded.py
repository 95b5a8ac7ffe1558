"""A record coded in no value set the reading reads, whose text names a pregnancy loss or an
ectopic pregnancy, holds the location back from its day and is named (stop 44, issue 12), alike
in the Python reading and the compiled one on DuckDB (Spark: the `locally-coded` scenario of
`tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from tests.fhir_exports import Export, export_merges, shape_of, write_export
from tests.records import locally_coded_shapes as shapes
from tests.records.test_engines_agree import assert_same, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's latest scan location (readings in the export's encounter order): not read
    where a locally coded loss is dated today, the record named; intrauterine otherwise."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        latest = got["steps"]["scans"][-1]
        named = [ref for ref, _ in got["problems"] if ref.endswith("-local")]
        if shape in shapes.HELD_BACK:
            assert latest["location"] == "report_not_read", shape
            assert named, shape
        else:
            assert latest["location"] == "intrauterine", shape
            assert bool(named) == (shape in shapes.NAMED_UNPLACED), shape


def test_duckdb_reads_a_locally_coded_record_as_the_service_does(tmp_path: Path) -> None:
    export = shapes.export()
    merges = export_merges(export)
    folder = write_export(export, tmp_path)
    duck = readings_of(
        fetched(compiled_reading(ibis.duckdb.connect(), folder, "duck", merges)), export, merges
    )
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    check_reading(export, duck)
