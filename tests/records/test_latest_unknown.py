"""A later bleeding record that does not know whether she is bleeding wins over an older answer
(stop 43, issue 12), alike in the Python reading and the compiled one on DuckDB (Spark: the
`latest-unknown` scenario of `tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from tests.fhir_exports import Export, shape_of, write_export
from tests.records import latest_unknown_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's ``vaginal_bleeding`` (readings in the export's encounter order): Unknown
    where the newest record does not know, and that record named among the problems."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        bleeding = got["steps"]["vaginal_bleeding"]
        if shape in shapes.UNKNOWN:
            assert bleeding is None, shape
            named = [ref for ref, _ in got["problems"] if ref.startswith("Condition/")]
            assert named and all(ref.endswith("-bleed") for ref in named), shape
        else:
            assert bleeding is (shape not in shapes.NOT_BLEEDING), shape


def test_duckdb_reads_a_later_unknown_as_the_service_does(tmp_path: Path) -> None:
    export = shapes.export()
    duck = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    check_reading(export, duck)
