"""A previous ectopic pregnancy read from her record (`tests.records.previous_ectopic_shapes`), by
the one definition on the card's Python engine and on DuckDB over one export of every case
(Spark: the read scenario ``previous-ectopic`` of `tests/audit/test_spark_reading_agreement.py`).
Before stop 27 the reading gave no `previous_ectopic` at all (each case read as Unknown)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from tests.fhir_exports import Export
from tests.integration.fhir_data import TODAY
from tests.records.case_exports import duckdb_readings, export_of_cases
from tests.records.previous_ectopic_shapes import CASES
from tests.records.test_engines_agree import assert_same


def export() -> Export:
    """Every case's record as one export, one woman and one encounter today each, in case order."""
    return export_of_cases(CASES)


def check(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each encounter's reading (`readings_of`, in the export's encounter order) gives its case's
    `previous_ectopic`, and every step and problem as the card's Python reading gives them."""
    assert_same(export, readings)
    got = [r["steps"]["previous_ectopic"] for r in readings]
    assert dict(zip(CASES, got, strict=True)) == {name: exp for name, (_, exp) in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_the_card_reads_a_previous_ectopic_pregnancy(name: str) -> None:
    resources, expected = CASES[name]
    reading = map_resources(resources, TODAY)
    assert reading.episode["previous_ectopic"] is expected, name
    # the card names the record it came from ("Data used"); none when it is not read
    named = reading.evidence.get("previous_ectopic")
    assert (named is not None) == (expected is True), name
    if named:
        assert named == [f"{resources[0]['resourceType']}/{resources[0]['id']}"], name
        # read, so never named as a record ignored ("has no usable date ...; ignored")
        assert not [p for p in reading.problems if "ectopic" in p.message], name


def test_duckdb_reads_a_previous_ectopic_pregnancy_as_the_card_does(tmp_path: Path) -> None:
    whole = export()
    check(whole, duckdb_readings(whole, tmp_path / "in", "pe"))
