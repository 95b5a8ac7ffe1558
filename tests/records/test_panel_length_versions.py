"""Tied versions of a panel whose crown-rump length or mean sac diameter differ are held back
(stop 31, HAZ-20 C20.22; the shapes in `tests.records.length_version_shapes`): on the card's
reading (the Python engine, `map_resources`) and on DuckDB (the compiled definition over one
export of every woman), which must agree step for step. Spark: the scenario "length-versions" of
tests/audit/test_spark_reading_agreement.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pytest

from earlypath import assess
from earlypath.fhir.mapping import map_resources
from tests.fhir_exports import write_export
from tests.integration.fhir_data import day
from tests.records.length_version_shapes import (
    HELD,
    HELD_MESSAGE,
    LENGTH_VERSIONS,
    PANEL_ID,
    check_reading,
    export,
    todays_lengths,
)
from tests.records.test_engines_agree import assert_same, audit_reading

_REF = f"Observation/{PANEL_ID}"


@pytest.mark.parametrize("shape", sorted(LENGTH_VERSIONS))
def test_the_card_reads_a_length_only_when_the_tied_versions_give_one(shape: str) -> None:
    resources, lengths = LENGTH_VERSIONS[shape]
    mapped = map_resources(resources, dt.date.fromisoformat(day()))
    assert todays_lengths(mapped.episode["scans"]) == lengths, shape
    held = [p for p in mapped.problems if str(p).startswith(f"{_REF}: {HELD_MESSAGE}")]
    assert bool(held) == (shape in HELD), mapped.problems
    # The panels name no route, so the reading gives it Unknown (stop 42, w-route42) and the scan
    # section asks for it; this test is about the length, so the scan is taken as transvaginal.
    assert all(s["route"] is None for s in mapped.episode["scans"]), mapped.episode["scans"]
    scans = [{**s, "route": "transvaginal"} for s in mapped.episode["scans"]]
    episode = {**mapped.episode, "scans": scans}
    scan = assess(episode, sections=["scan_assessment"])["scan_assessment"]
    if shape.startswith("tied-panels-crl-6.8-or-7.2"):
        # the 7.2 mm version no longer gives the second opinion (1.4.7) on a length the record
        # does not establish: what the heartbeat and the length are is asked for
        assert scan["decision"] == "needs_information", scan
    elif lengths[0] is not None:
        assert scan["decision"] == "second_opinion_or_rescan", scan  # CRL >= 7.0, no heartbeat
        assert "1.4.7" in scan["recommendations"], scan


def test_duckdb_holds_the_same_versions_as_the_card(tmp_path: Path) -> None:
    whole = export()
    folder = write_export(whole, tmp_path / "in")
    reading = audit_reading(ibis.duckdb.connect(), folder, "len", whole)
    assert_same(whole, reading)
    check_reading(whole, reading)
