"""The generated reading keeps the rows of the tables it alone reads as lists (seventeenth CDS
pass, `python_reading._Generator.list_layouts`): each column, the row's ``ref`` and ``n`` and
each value a later loop keeps at a position fixed when the function is written, so its loops
read ``row[3]`` where they hashed ``row['day']`` into a dict of some 40 keys. A table a row
spec joins (`rir.Joined`, read as dicts by `_State.index`) stays dicts, and so does a table
whose specs do not share one column order. The same answers as the closures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records.aggregates import note_rows, note_rows_at
from earlypath.records.definition import READING
from earlypath.records.python_reading import _joined_tables, row_roots
from tests.integration import fhir_data as f


def _generated(spec: rir.EpisodeSpec = READING) -> Any:
    fn = engine._compile_spec(spec).generated
    assert fn is not None, "the definition is read by the reference path"
    return fn


def _same(spec: rir.EpisodeSpec, resources: list[Any], patient: str | None = None) -> None:
    for assessed_on in (f.TODAY, f.TODAY + dt.timedelta(days=60)):
        got = _generated(spec)(resources, assessed_on, None, patient)
        assert got is not None  # answered by the generated function itself
        reference = engine.read(spec, resources, assessed_on, None, patient, fused=False)
        values, problems, evidence = got
        assert values == reference.values
        assert problems == reference.problems
        assert list(evidence.items()) == list(reference.evidence.items())


def _other_patients(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same resources, of another woman (another id and subject)."""
    out = []
    for r in resources:
        copy = {**r, "id": f"other-{r.get('id')}"}
        if "subject" in copy:
            copy["subject"] = {"reference": "Patient/someone-else"}
        out.append(copy)
    return out


# Conditions and Observations interleaved in input order (the clinical table is filled by
# several types, then sorted back to input order by its ``n``), two scan days (the scans by
# day note their rows as evidence), an undated finding, a heart rate and a miscarriage history
RECORDS = {
    "eligible": f.eligible_resources(),
    "interleaved": [
        f.bleeding(on=f.day(-2)),
        f.crl(7.5, on=f.day(-3)),
        f.previous_miscarriage(),
        f.iup(on=f.day(-3)),
        f.lmp(),
        f.crl(8.0),
        f.bleeding(),
        f.iup(),
    ],
    "undated": [{**f.crl(8.0), "effectiveDateTime": "2026"}, f.bleeding(), f.iup()],
    "none": [],
}


def test_the_reading_s_own_tables_are_lists_and_a_joined_table_stays_dicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the rows are read from the generated function's frame: its source exec'd, not the build
    # `make install` compiled (a C function has no Python frame; earlypath.records.native)
    monkeypatch.setenv("EARLYPATH_NATIVE", "off")
    monkeypatch.setattr(engine, "_compiled", {})
    assert not _generated().compiled
    layouts = _generated().layouts
    joined: set[str] = set()
    for r in READING.rows:
        joined |= _joined_tables(row_roots(r)[0])
    assert joined, "a table some spec joins"
    assert "clinical" in layouts and not joined & set(layouts)
    clinical = layouts["clinical"]
    names = row_roots(next(r for r in READING.rows if r.table == "clinical"))[1]
    assert [clinical[name] for name in (*names, "ref", "n")] == list(range(len(names) + 2))
    assert sorted(clinical.values()) == list(range(len(clinical)))  # no gap, no position twice
    # the rows read: lists, their ref and number at their positions, in input order
    resources = RECORDS["interleaved"]
    # the rows as the generated function holds them (its local `t_clinical`: the reading
    # hands `_State` only the tables a `Joined` reads, stop 28)
    held: list[Any] = []

    def keep_rows(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and "t_clinical" in frame.f_locals and not held:
            held.append(frame.f_locals["t_clinical"])

    sys.setprofile(keep_rows)
    try:
        assert _generated()(resources, f.TODAY, None, None) is not None
    finally:
        sys.setprofile(None)
    (rows,) = held
    assert rows and all(type(row) is list and len(row) == len(clinical) for row in rows)
    numbers = [row[clinical["n"]] for row in rows]
    assert numbers == sorted(numbers)
    refs = {engine._ref(r) for r in resources}
    assert {row[clinical["ref"]] for row in rows} <= refs


def test_the_loops_read_the_rows_by_position() -> None:
    source = _generated().source
    body = source[source.index("\ndef reading(") :]
    # by name only in the scans by day (a day's record, a dict: the step's value itself)
    named = set(re.findall(r"row\['(\w+)'\]", body))
    scans = dict(READING.steps)["scans"]
    assert isinstance(scans, rir.Days)
    days_columns = {c for c, _ in scans.columns} | {c for c, _ in scans.derived} | {"day"}
    assert named and named <= days_columns, named - days_columns
    assert "NOTE_AT(" in source and "row['ref']" not in body


@pytest.mark.parametrize("name", RECORDS)
def test_rows_as_lists_read_as_the_closures(name: str) -> None:
    _same(READING, RECORDS[name])


@pytest.mark.parametrize("name", ["eligible", "interleaved"])
def test_her_rows_among_another_woman_s_read_as_the_closures(name: str) -> None:
    """The rows of the patient asked for, chosen by her ``patient`` column's position."""
    resources = RECORDS[name] + _other_patients(RECORDS[name])
    _same(READING, resources, patient=f.PATIENT_ID)
    _same(READING, resources, patient="someone-else")


def _reordered(spec: rir.EpisodeSpec) -> rir.EpisodeSpec:
    """The definition with the Conditions' clinical row spec listing its columns backwards: the
    clinical table's specs no longer share one column order."""
    rows = []
    for r in spec.rows:
        if r.table == "clinical" and r.resource == "Condition" and r.items is None:
            r = dataclasses.replace(r, columns=tuple(reversed(r.columns)))
        rows.append(r)
    return dataclasses.replace(spec, rows=tuple(rows))


REORDERED = _reordered(READING)


def test_a_table_whose_specs_differ_in_column_order_stays_dicts() -> None:
    assert REORDERED.rows != READING.rows
    layouts = _generated(REORDERED).layouts
    assert "clinical" not in layouts and "malformed" in layouts
    for name in ("eligible", "interleaved"):
        _same(REORDERED, RECORDS[name])


def test_note_rows_at_notes_what_note_rows_notes() -> None:
    refs = ["Observation/a", None, "Condition/b", "Observation/a", "Condition/c", None]
    dicts = [{"ref": ref, "n": n} for n, ref in enumerate(refs)]
    lists = [[n, ref] for n, ref in enumerate(refs)]
    for fact, chosen in (("scans", slice(None)), ("lmp", slice(1, 2)), ("none", slice(0, 0))):
        want: dict[str, list[str]] = {"earlier": ["Condition/c"]}
        got: dict[str, list[str]] = {"earlier": ["Condition/c"]}
        note_rows(want, fact, dicts[chosen])
        note_rows_at(got, fact, lists[chosen], 1)
        assert list(got.items()) == list(want.items())
