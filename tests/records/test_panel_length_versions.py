"""Tied versions of a panel whose crown-rump length or mean sac diameter differ are held back
(stop 31, HAZ-20 C20.22; the shapes in `tests.records.length_version_shapes`): on the card's
reading (the Python engine, `map_resources`) and on DuckDB (the compiled definition over one
export of every woman), which must agree step for step. Spark: the scenario "length-versions" of
tests/audit/test_spark_agreement.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath import assess
from earlypath.fhir.mapping import map_resources
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import day
from tests.records.length_version_shapes import HELD, HELD_MESSAGE, LENGTH_VERSIONS, PANEL_ID
from tests.records.real_shapes import export_of
from tests.records.test_engines_agree import assert_same, audit_reading

_REF = f"Observation/{PANEL_ID}"


def _todays_lengths(scans: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """The lengths of today's scan (an episode's scans, or the reading's step, by "day")."""
    (today,) = [s for s in scans if str(s.get("date", s.get("day"))) == day()]
    return today.get("crl_mm"), today.get("msd_mm")


@pytest.mark.parametrize("shape", sorted(LENGTH_VERSIONS))
def test_the_card_reads_a_length_only_when_the_tied_versions_give_one(shape: str) -> None:
    resources, lengths = LENGTH_VERSIONS[shape]
    mapped = map_resources(resources, dt.date.fromisoformat(day()))
    assert _todays_lengths(mapped.episode["scans"]) == lengths, shape
    held = [p for p in mapped.problems if str(p).startswith(f"{_REF}: {HELD_MESSAGE}")]
    assert bool(held) == (shape in HELD), mapped.problems
    scan = assess(mapped.episode, sections=["scan_assessment"])["scan_assessment"]
    if shape.startswith("tied-panels-crl-6.8-or-7.2"):
        # the 7.2 mm version no longer gives the second opinion (1.4.7) on a length the record
        # does not establish: what the heartbeat and the length are is asked for
        assert scan["decision"] == "needs_information", scan
    elif lengths[0] is not None:
        assert scan["decision"] == "second_opinion_or_rescan", scan  # CRL >= 7.0, no heartbeat
        assert "1.4.7" in scan["recommendations"], scan


def _export() -> dict[str, list[dict[str, Any]]]:
    """One export of every woman, each her own patient and encounter."""
    return one_export({name: export_of(res) for name, (res, _) in LENGTH_VERSIONS.items()})


def test_duckdb_holds_the_same_versions_as_the_card(tmp_path: Path) -> None:
    export = _export()
    reading = audit_reading(
        ibis.duckdb.connect(), write_export(export, tmp_path / "in"), "len", export
    )
    assert_same(export, reading)
    at = [e["id"].removeprefix("enc-") for e in export["Encounter"]]
    for shape, (_, lengths) in LENGTH_VERSIONS.items():
        got = reading[at.index(shape)]
        assert _todays_lengths(got["steps"]["scans"]) == lengths, shape
        held = [m for ref, m in got["problems"] if ref.endswith(PANEL_ID) and m == HELD_MESSAGE]
        assert bool(held) == (shape in HELD), (shape, got["problems"])
