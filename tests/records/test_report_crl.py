"""A crown-rump length inside a partial / preliminary / unknown-status scan report, or a
preliminary panel (stop 46, issue 12, HAZ-20 C20.35): the compiled reading on DuckDB reads it as
the Python reading does, and the reading names it and marks its day unverified (it never dates
her, yet keeps its millimetres for viability)."""

from __future__ import annotations

from pathlib import Path

from tests.records import report_crl_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading, service_reading


def test_duckdb_reads_a_crl_inside_a_report_as_the_service_does(tmp_path: Path) -> None:
    import ibis

    from tests.fhir_exports import write_export

    export = shapes.export()
    duck = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    shapes.check_reading(export, duck)


def test_the_reading_names_a_crl_inside_an_unfinished_report() -> None:
    export = shapes.export()
    shapes.check_reading(export, service_reading(export))
