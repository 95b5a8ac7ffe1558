"""A record coded in no value set the reading reads, whose text names a pregnancy loss or an
ectopic pregnancy, holds the location back from its day and is named (stop 44, issue 12), alike
in the Python reading and the compiled one on DuckDB (Spark: the `locally-coded` scenario of
`tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from earlypath.records.definition import LOCALLY_CODED_MESSAGE, LOCALLY_CODED_UNPLACED_MESSAGE
from tests.fhir_exports import Export, export_merges, shape_of, write_export
from tests.records import locally_coded_shapes as shapes
from tests.records.test_engines_agree import assert_same, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched

# the words both messages of a record so coded hold
CODED_LOCALLY_WORDS = "coded in no value set earlypath reads"
assert CODED_LOCALLY_WORDS in LOCALLY_CODED_MESSAGE
assert CODED_LOCALLY_WORDS in LOCALLY_CODED_UNPLACED_MESSAGE


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's latest scan location (readings in the export's encounter order): not read
    where a locally coded loss is dated today, the record named; intrauterine otherwise."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        latest = got["steps"]["scans"][-1]
        # named as coded locally (a report none of whose findings is read is named too: stop 47)
        named = [
            ref
            for ref, why in got["problems"]
            if ref.endswith("-local") and CODED_LOCALLY_WORDS in why
        ]
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
