"""Dating from an LMP that should not date her (stop 44, issue 12): one on a result not known to
be verified, or a newer one that is not a day, alike in the Python reading and the compiled one
on DuckDB (Spark: the `unverified-dating` scenario of
`tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from tests.fhir_exports import Export, export_merges, shape_of, write_export
from tests.records import unverified_dating_shapes as shapes
from tests.records.test_engines_agree import assert_same, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched

UNKNOWN = {**shapes.UNVERIFIED_ALONE, **shapes.UNVERIFIED_OVER_FINAL, **shapes.PARTIAL_NEWER}


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's LMP (readings in the export's encounter order): unknown, the LMP that left it
    so named, where such an LMP is the latest; else the final full LMP's day."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        lmp = got["steps"]["lmp"]
        named = [ref for ref, _ in got["problems"] if ref.endswith(("-lmp", "-lmp2"))]
        if shape in UNKNOWN:
            assert lmp is None, shape
            assert named, shape
        elif shape == "lmp-with-zone":
            assert lmp is not None, shape  # its day in the configured zone (stop 41)
        else:
            assert str(lmp) == "2024-01-15" or shape.endswith("with-crl"), (shape, lmp)


def test_duckdb_reads_a_dating_lmp_as_the_service_does(tmp_path: Path) -> None:
    export = shapes.export()
    merges = export_merges(export)
    folder = write_export(export, tmp_path)
    duck = readings_of(
        fetched(compiled_reading(ibis.duckdb.connect(), folder, "duck", merges)), export, merges
    )
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    check_reading(export, duck)
