"""A crown-rump length on an earlier scan of this pregnancy (stop 44, issue 12): the reading
gives that scan day and its CRL alike in the Python reading and the compiled one on DuckDB (Spark:
the `earlier-crl` scenarios of `tests/audit/test_spark_reading_agreement.py` and
`tests/audit/test_spark_agreement.py`), and the audit's flat row carries it as the card's episode
dates her (`earlier_crl_mm`, `earlier_crl_date`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis

from earlypath.audit.flat import episode_to_flat
from earlypath.fhir.mapping import map_resources
from tests.fhir_exports import Export, export_merges, shape_of, write_export
from tests.integration.fhir_data import TODAY
from tests.records import earlier_crl_shapes as shapes
from tests.records.test_engines_agree import assert_same, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched

THREE_DAYS_AGO = TODAY - dt.timedelta(days=3)
# the reading gives days as ISO text (`_plain`)
THREE_DAYS_AGO_TEXT, TODAY_TEXT = THREE_DAYS_AGO.isoformat(), TODAY.isoformat()


def _dating_day(scans: list[dict[str, Any]] | None) -> tuple[Any, Any] | None:
    """The earliest scan day with a CRL above 0 and its CRL (as `episode_facts` dates her)."""
    measured = [(s["day"], s["crl_mm"]) for s in scans or [] if (s["crl_mm"] or 0) > 0]
    return min(measured, default=None)


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each shape's scans (readings in the export's encounter order): the CRL three days ago is
    a scan day of this pregnancy; a previous pregnancy's is none."""
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], shapes.SHAPES)
        dating = _dating_day(got["steps"]["scans"])
        if shape in shapes.EARLIER_DATES:
            assert dating == (THREE_DAYS_AGO_TEXT, 9.5), (shape, dating)
        elif shape in shapes.TODAY_DATES:
            assert dating == (TODAY_TEXT, 9.5), (shape, dating)
        else:
            assert dating is None, (shape, dating)


def test_duckdb_reads_an_earlier_crl_as_the_service_does(tmp_path: Path) -> None:
    export = shapes.export()
    merges = export_merges(export)
    folder = write_export(export, tmp_path)
    duck = readings_of(
        fetched(compiled_reading(ibis.duckdb.connect(), folder, "duck", merges)), export, merges
    )
    assert_same(export, duck)  # every step and problem as the Python reading gives them
    check_reading(export, duck)


def test_the_flat_row_carries_the_earlier_crl() -> None:
    """`episode_to_flat` of the card's episode: the earlier dating CRL, or none."""
    for shape, resources in shapes.SHAPES.items():
        episode = map_resources(resources, TODAY).episode
        row = episode_to_flat(episode)
        got = (row["earlier_crl_date"], row["earlier_crl_mm"])
        if shape in shapes.EARLIER_DATES:
            assert got == (THREE_DAYS_AGO, 9.5), shape
        else:
            assert got == (None, None), shape
