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
    NHS_NUMBER_NOT_VALID,
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
    {"system": NHS, "value": "900 000 0009"},  # an NHS number as displayed: its ten digits
    {"system": NHS, "value": "900-000-0009"},  # as keyed with hyphens: its ten digits
    {"system": NHS, "value": "999 000 0018"},  # another valid synthetic number
    {"system": NHS, "value": "999 000 0019"},  # a check digit that fails: kept as written
    {"system": NHS, "value": "900 000 000"},  # nine digits: kept as written
    {"system": NHS, "value": "900\t000\t0009"},  # a tab is not a separator: as written
    {"system": NHS, "value": "９００００００００９"},  # full-width digits: as written
    {"system": NHS, "value": "999 000 001 0"},  # check digit 10 is no NHS number: as written
    {"system": "https://trust.example.org/Id/mrn", "value": "900 000 0009"},  # another system
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
    assert identifier_pair(SHAPES[2]) == (NHS, "9000000009")
    assert identifier_pair(SHAPES[3]) == (NHS, "9000000009")
    assert identifier_pair(SHAPES[5]) == (NHS, "999 000 0019")
    assert identifier_pair(SHAPES[10])[1] == "900 000 0009"  # type: ignore[index]


def _named_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((r["ref"], r["system"], r["value"], r["nhs_number_not_valid"]) for r in rows)


def _by_identifier() -> list[dict[str, Any]]:
    return [
        {"resourceType": "Condition", "id": f"c{i}", "subject": {"identifier": shape}}
        for i, shape in enumerate(SHAPES)
    ]


def test_an_nhs_number_is_read_as_its_digits_only_when_it_is_one() -> None:
    got = read_rows(IDENTIFIER_TIES, _by_identifier()).tables["identified_subjects"]
    by_ref = {r["ref"]: (r["value"], r["nhs_number_not_valid"]) for r in got}
    assert by_ref["Condition/c2"] == ("9000000009", False)
    assert by_ref["Condition/c3"] == ("9000000009", False)
    assert by_ref["Condition/c4"] == ("9990000018", False)
    assert by_ref["Condition/c5"] == ("999 000 0019", True)
    assert by_ref["Condition/c6"] == ("900 000 000", True)
    assert by_ref["Condition/c7"] == ("900\t000\t0009", True)
    assert by_ref["Condition/c9"] == ("999 000 001 0", True)
    assert by_ref["Condition/c10"] == ("900 000 0009", False)  # an MRN: compared as written
    # the card's own reading of her Patient's identifiers gives the same values
    for i, shape in enumerate(SHAPES):
        pair = identifier_pair(shape)
        if pair is not None and f"Condition/c{i}" in by_ref:
            assert by_ref[f"Condition/c{i}"][0] == pair[1]


def test_duckdb_reads_nhs_numbers_as_the_python_engine(tmp_path: Path) -> None:
    resources_in = _by_identifier()
    folder = write_export({"Condition": resources_in}, tmp_path)
    con = ibis.duckdb.connect()
    files = {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}
    resources = load_resources(con, files, IDENTIFIER_TIES, "ids")
    rows, _, _ = compile_rows(IDENTIFIER_TIES, resources)
    got = rows["identified_subjects"].to_pyarrow().to_pylist()
    want = read_rows(IDENTIFIER_TIES, resources_in).tables["identified_subjects"]
    assert _named_rows(got) == _named_rows(want)


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
        {**_named("Condition/7", 7, NHS, "999 000 0019"), "nhs_number_not_valid": True},
    ]
    ties = tie(carried, named, {"old": "new"})
    assert ties.patient == {("Condition/1", 1): "a", ("Condition/3", 3): "new"}
    assert ties.not_tied == {
        ON_TWO_PATIENTS: 1,
        NOT_CARRIED: 2,
        WITHOUT_SYSTEM_OR_VALUE: 1,
        NHS_NUMBER_NOT_VALID: 1,
    }
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
