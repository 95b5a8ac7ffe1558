"""The generated reading answers a version's "is its (patient, id) on more than one row?" by
`_State.once` of the versions' table where every id is sent once (stop 38,
`python_reading._RowSource.code`, `_repeated`): an Observation's malformed check then tests
whether its versions are held back without looking up the versions' index twice. Where an id
repeats, the look-ups are made as before, and the records read as the closures read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import python as engine
from earlypath.records.definition import OBSERVATION_VERSIONS_HELD_MESSAGE, READING
from tests.integration import fhir_data as f
from tests.records.test_generated_reading import _generated, _same

TODAY = dt.date(2026, 12, 1)


class _Counted(dict):  # type: ignore[type-arg]
    """An index that counts the look-ups made in it."""

    gets = 0

    def get(self, key: Any, default: Any = None) -> Any:
        _Counted.gets += 1
        return super().get(key, default)


def _versions_lookups(monkeypatch: pytest.MonkeyPatch, resources: list[Any]) -> int:
    """The look-ups in the versions' index of one generated reading of ``resources``."""
    index = engine._State.index

    def counted(self: Any, table: str, *rest: Any) -> Any:
        found = index(self, table, *rest)
        return _Counted(found) if table == "observation_versions" else found

    monkeypatch.setattr(engine._State, "index", counted)
    _Counted.gets = 0
    assert _generated()(resources, TODAY, None, None) is not None
    return _Counted.gets


def test_observations_sent_once_are_not_looked_up_for_their_held_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resources = f.eligible_resources()
    _same(resources, TODAY, None, None)
    observations = sum(r["resourceType"] == "Observation" for r in resources)
    # the clinical row's "is it the version read?" asks its two look-ups; the malformed
    # check's "are its versions held back?" asks none (two more each before)
    assert _versions_lookups(monkeypatch, resources) <= 2 * observations


def _two_versions(first: float, second: float) -> list[dict[str, Any]]:
    return [f.previous_miscarriage(), f.bleeding(), f.lmp(), f.iup(), f.crl(first), f.crl(second)]


@pytest.mark.parametrize(("first", "second"), [(7.2, 6.8), (7.2, 7.2)])
def test_an_id_sent_twice_is_read_as_the_closures_read_it(
    monkeypatch: pytest.MonkeyPatch, first: float, second: float
) -> None:
    resources = _two_versions(first, second)
    _same(resources, TODAY, None, None)
    values, problems, _ = _generated()(resources, TODAY, None, None)
    held = [p for p in problems if OBSERVATION_VERSIONS_HELD_MESSAGE in str(p)]
    assert bool(held) == (first != second), problems
    # its versions looked up, as before: more than for the record without a second version
    assert _versions_lookups(monkeypatch, resources) > 2 * 4
    assert READING.problems  # the definition's problems, read by both
