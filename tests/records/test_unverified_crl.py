"""A crown-rump length on a result not known to be verified (stop 44's vignettes, fixed at stop
45; issue 12, HAZ-20 C20.30): the compiled reading on DuckDB reads it as the Python reading does,
and the reading names every such CRL (it never dates her, yet counts for viability: named beside
a final LMP too, so the clinician knows which finding was set aside)."""

from __future__ import annotations

from pathlib import Path

from tests.fhir_exports import shape_of, write_export
from tests.records import unverified_dating_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading, service_reading

# every shape with a CRL on a preliminary/unknown result: the open ones and two controls
UNVERIFIED = {
    **shapes.UNVERIFIED_CRL_ALONE,
    **shapes.UNVERIFIED_CRL_OVER_FINAL_LMP,
    "crl-preliminary-with-final-lmp": None,
    "crl-preliminary-no-heartbeat": None,
}


def test_duckdb_reads_a_crl_of_any_status_as_the_service_does(tmp_path: Path) -> None:
    import ibis

    export = shapes.crl_export()
    duck = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, duck)  # every step and problem as the Python reading gives them


def test_the_reading_names_an_unverified_crl() -> None:
    export = shapes.crl_export()
    for encounter, got in zip(export["Encounter"], service_reading(export), strict=True):
        shape = shape_of(encounter["id"])
        named = [ref for ref, _ in got["problems"] if ref.endswith("-crl")]
        assert bool(named) is (shape in UNVERIFIED), (shape, got["problems"])
        # it is set aside from dating only: where another source dates her, the day's scan still
        # holds its millimetres (viability); alone nothing dates her, so no scan is placed
        days = [(day["crl_mm"], day["crl_unverified"]) for day in got["steps"]["scans"]]
        if shape in shapes.UNVERIFIED_CRL_ALONE:
            assert (days, got["steps"]["start"]) == ([], None), shape
        else:
            assert days == [(9.5, True if shape in UNVERIFIED else None)], (shape, days)
