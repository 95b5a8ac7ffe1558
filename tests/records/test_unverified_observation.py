"""An Observation of status `preliminary` or `unknown` never opens the offer (stop 43, issue
12), alike in the Python reading and the compiled one on DuckDB (Spark: the
`unverified-observation` scenario of `tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from tests.fhir_exports import Export, shape_of, write_export
from tests.records import unverified_observation_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's bleeding and previous miscarriages (readings in the export's encounter
    order): Unknown where an unverified result would have opened the offer, that result named."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        steps = got["steps"]
        named = [ref for ref, _ in got["problems"] if ref.startswith("Observation/")]
        if shape in shapes.UNKNOWN_BLEEDING:
            assert steps["vaginal_bleeding"] is None, shape
            assert named and all(ref.endswith("-bleed-obs") for ref in named), shape
        elif shape in shapes.UNKNOWN_PREVIOUS:
            assert steps["previous_miscarriages"] is None, shape
            assert named and all(ref.endswith(("-mc-obs", "-mc-count")) for ref in named), shape
        elif shape == "bleeding-absent-preliminary":
            assert steps["vaginal_bleeding"] is False, shape
        elif shape == "count-zero-preliminary":
            assert steps["previous_miscarriages"] == 0, shape
        else:
            assert steps["vaginal_bleeding"] is True, shape
            assert steps["previous_miscarriages"] == 1, shape


def test_duckdb_reads_an_unverified_observation_as_the_service_does(tmp_path: Path) -> None:
    export = shapes.export()
    duck = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    check_reading(export, duck)
