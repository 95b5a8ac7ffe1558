"""The one rule for how an identifier names a patient (`earlypath.records.identifiers`): the card's
Python (`identifier_pair`) and the definition's IR (``PATIENT_IDENTIFIERS``, run by the Python
engine and compiled to DuckDB) read every shape alike; `tie` resolves the rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.definition import IDENTIFIER_TIES, SUBJECT_ELEMENTS
from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.identifiers import (
    NOT_CARRIED,
    ON_TWO_PATIENTS,
    WITHOUT_SYSTEM_OR_VALUE,
    identifier_pair,
    tie,
)
from earlypath.records.python import read_rows
from tests.fhir_exports import write_export

NHS = "https://fhir.nhs.uk/Id/nhs-number"

SHAPES: list[Any] = [
    {"system": NHS, "value": "9000000009"},
    {"system": f" {NHS}\t", "value": " 9000000009\n"},  # blanks at the ends: stripped
    {"system": NHS, "value": "900 000 0009"},  # inner spaces kept: another value
    {"system": NHS, "value": "ab12CD"},  # case kept
    {"value": "9000000009"},  # no system: ties nobody
    {"system": NHS},
    {"system": NHS, "value": "   "},
    {"system": "", "value": "1"},
    {"system": NHS, "value": 9000000009},  # a number, not text
    {"system": NHS, "value": "9000000009\u00a0"},  # a non-breaking space is not stripped
    "9000000009",
]


def _patients() -> list[dict[str, Any]]:
    return [
        {"resourceType": "Patient", "id": f"p{i}", "identifier": [shape]}
        for i, shape in enumerate(SHAPES)
    ]


def _expected() -> list[tuple[str, str, str]]:
    out = []
    for i, shape in enumerate(SHAPES):
        pair = identifier_pair(shape)
        if pair is not None:
            out.append((f"p{i}", *pair))
    return out


def _rows(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((r["patient"], r["system"], r["value"]) for r in rows)


def test_the_card_and_the_python_engine_read_identifiers_alike() -> None:
    got = read_rows(IDENTIFIER_TIES, _patients()).tables["patient_identifiers"]
    assert _rows(got) == sorted(_expected())
    assert identifier_pair(SHAPES[1]) == (NHS, "9000000009")
    assert identifier_pair(SHAPES[2]) == (NHS, "900 000 0009")


def test_duckdb_reads_identifiers_as_the_card_does(tmp_path: Path) -> None:
    folder = write_export({"Patient": _patients()}, tmp_path)
    con = ibis.duckdb.connect()
    files = {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}
    resources = load_resources(con, files, IDENTIFIER_TIES, "ids")
    rows, _, _ = compile_rows(IDENTIFIER_TIES, resources)
    got = rows["patient_identifiers"].to_pyarrow().to_pylist()
    assert _rows(got) == sorted(_expected())


def _named(ref: str, n: int, system: str | None, value: str | None) -> dict[str, Any]:
    return {"ref": ref, "n": n, "system": system, "value": value}


def test_tie_needs_one_woman_carrying_it() -> None:
    carried = [
        {"patient": "a", "system": NHS, "value": "1"},
        {"patient": "b", "system": NHS, "value": "2"},
        {"patient": "c", "system": NHS, "value": "2"},  # two women: nobody
        {"patient": "old", "system": NHS, "value": "3"},
        {"patient": "new", "system": NHS, "value": "3"},  # one woman, merged
        {"patient": None, "system": NHS, "value": "4"},  # a Patient without an id only
    ]
    named = [
        _named("Condition/1", 1, NHS, "1"),
        _named("Condition/2", 2, NHS, "2"),
        _named("Condition/3", 3, NHS, "3"),
        _named("Condition/4", 4, NHS, "4"),
        _named("Condition/5", 5, None, "1"),
        _named("Condition/6", 6, NHS, "9"),
    ]
    ties = tie(carried, named, {"old": "new"})
    assert ties.patient == {("Condition/1", 1): "a", ("Condition/3", 3): "new"}
    assert ties.not_tied == {ON_TWO_PATIENTS: 1, NOT_CARRIED: 2, WITHOUT_SYSTEM_OR_VALUE: 1}
    assert ties.shared == 1
    summary = ties.summary()
    assert summary["resources_tied"] == 2


@pytest.mark.parametrize(("resource", "element"), SUBJECT_ELEMENTS)
def test_every_type_read_with_a_patient_is_looked_at(resource: str, element: str) -> None:
    named = {
        "resourceType": resource,
        "id": "x",
        element: {"identifier": {"system": NHS, "value": "1"}},
    }
    literal = {
        **named,
        "id": "y",
        element: {"reference": "Patient/p", "identifier": {"value": "1"}},
    }
    got = read_rows(IDENTIFIER_TIES, [named, literal]).tables["identified_subjects"]
    assert [(r["ref"], r["system"], r["value"]) for r in got] == [(f"{resource}/x", NHS, "1")]


def test_the_ties_cover_every_type_the_reading_reads_with_a_patient() -> None:
    from earlypath.audit.fhir_flat import AUDIT_READING

    scoped = {r.resource for r in AUDIT_READING.rows if r.patient is not None} - {"Patient"}
    assert scoped <= {resource for resource, _ in SUBJECT_ELEMENTS}
