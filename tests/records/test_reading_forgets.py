"""A reading leaves no woman's rows behind: the Python engine's per-thread state (its tables,
indexes, the resource being read) is dropped when `records.python.read` returns, so the CDS
service's thread does not hold the last woman's record until the next call replaces it
(w-cds55's finding, stop 55). Both paths: the one generated function and the closures."""

from __future__ import annotations

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.fhir.mapping import map_resources
from earlypath.records import python as engine
from earlypath.records.definition import READING
from tests.integration.fhir_data import TODAY, eligible_resources


def _held(state: engine._State) -> list[str]:
    """What the state still holds of a reading: the names of its non-empty parts."""
    parts = ("tables", "indexes", "concepts", "once_by_hers", "resource")
    return [name for name in parts if getattr(state, name, None)]


@pytest.mark.parametrize("fused", [True, False], ids=["generated", "closures"])
def test_a_reading_leaves_no_rows_in_its_state(fused: bool) -> None:
    resources = eligible_resources()
    reading = engine.read(READING, resources, TODAY, fused=fused)
    assert reading.values["on_progesterone"] is False  # a real reading of her record
    assert _held(engine._compile_spec(READING, fused).state) == []


def test_the_service_reading_leaves_no_rows_in_its_state() -> None:
    result = map_resources(eligible_resources(), TODAY)
    assert result.episode["assessed_on"] == TODAY.isoformat()
    assert _held(engine._compile_spec(READING).state) == []
