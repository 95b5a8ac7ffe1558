"""DuckDB reads a resource file by its top-level keys (`read_json`), each key the definition
reads as an object or a list typed by its shape (a struct, a list: parsed once), its concepts
too (stop 55), when every value has the shape read; then with the concepts as JSON (a concept
that is not an object); by its keys as JSON columns when some value has another shape; and
by one json_transform of each line when a line is no object: all give the same table, row for
row, so the faster reading never changes what the definition reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records import ibis_compile
from earlypath.records.ibis_compile import load_resources, read_schema
from tests.records.sql_sent import sql_sent

SNOMED = "http://snomed.info/sct"
# every JSON shape where the definition reads each kind of value, and then some
AWKWARD: list[Any] = [
    {"resourceType": "Observation", "id": "o1", "status": "final", "valueInteger": 1.50},
    {"resourceType": "Observation", "id": 'q"é\\n\u0000', "valueQuantity": {"value": 1e5}},
    {"resourceType": "Observation", "ID": "upper", "Id": "mixed", "id": "lower"},
    {"resourceType": "Observation", "id": ["a"], "status": {"x": 1}, "code": "text"},
    {"resourceType": "Observation", "code": {"coding": "x", "text": 12}, "subject": "Patient/1"},
    {"resourceType": "Observation", "code": {"coding": [{"system": SNOMED, "code": 2667000}]}},
    {"resourceType": "Observation", "code": [], "valueCodeableConcept": {}, "subject": []},
    {"resourceType": "Observation", "valueQuantity": {"value": "12", "unit": None}},
    {"resourceType": "Observation", "valueQuantity": {"value": -0.0, "comparator": "<"}},
    {"resourceType": "Observation", "valueQuantity": {"value": 12345678901234567890}},
    {"resourceType": "Observation", "effectivePeriod": {"start": True}, "issued": 1e-7},
    {"resourceType": "Condition", "id": "c1", "onsetPeriod": [], "code": None},
    {"resourceType": "Condition", "clinicalStatus": {"coding": [{"code": "active"}, 3, None]}},
    {},
    None,
]


def _lines(resources: list[Any]) -> str:
    # a blank line and one of spaces are no resource (and no line number) for either reading
    text = "".join(json.dumps(r) + "\n" for r in resources)
    return text + "\n   \n" + json.dumps({"resourceType": "Condition", "id": "last"}) + "\n"


def _typed(con: Any, path: Path, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    tables = load_resources(con, {"Observation": [path], "Condition": [path]}, _LOADED, prefix)
    return {
        kind: con.con.sql(f'SELECT * FROM "{t.get_name()}" ORDER BY n').fetchall()
        for kind, t in tables.items()
    }


# a line of each kind with every value of the shape the definition reads (objects and lists
# where it reads their keys and items), the leaves anything
WELL_SHAPED: list[Any] = [
    AWKWARD[0],
    AWKWARD[1],
    AWKWARD[2],
    AWKWARD[5],
    *AWKWARD[7:11],
    {"resourceType": "Observation", "subject": {"Reference": "x", "reference": ["y"]}},
    {"resourceType": "Observation", "subject": None, "meta": {}, "component": [None, {}]},
    {"resourceType": "Observation", "component": [{"code": {"coding": [{"code": 1}]}}]},
    {"resourceType": "Condition", "clinicalStatus": {"coding": [{"code": "active"}, {}]}},
    # concepts (read whole: is it an object?) that are an empty object, JSON null, or hold
    # nothing the definition reads: typed as structs by the reader, read as line by line
    {"resourceType": "Observation", "code": {}, "valueCodeableConcept": None, "method": {"x": 1}},
    {"resourceType": "Observation", "component": [{"code": None}, {"code": {"text": None}}]},
    {"resourceType": "Condition", "code": {"coding": []}, "clinicalStatus": None},
    {},
]


def _reading(statement: str) -> str:
    """Which reading a load's statement is: by key typed with its concepts (`code` a struct),
    by key typed with them as JSON, by key as JSON, or line by line."""
    if "read_json(" not in statement:
        return "lines"
    if "'code': 'STRUCT(" in statement:
        return "concepts typed"
    return "typed" if "STRUCT(" in statement else "by key"


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, list[str]]:
    """The tables read as `load_resources` reads them, then with the by-key reading off; and
    which reading made each table the first time."""
    con = duckdb_connect()
    sent = sql_sent(con)
    first = _typed(con, path, "first")
    loads = [s for s in sent if s.startswith("CREATE OR REPLACE TABLE") and str(path) in s]
    monkeypatch.setattr(ibis_compile, "_objects_by_key", lambda *_: None)
    second = _typed(con, path, "second")
    return first, second, loads


def test_objects_are_read_by_key_and_give_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(_lines(AWKWARD), encoding="utf-8")
    by_key, transformed, loads = _both(path, monkeypatch)
    # a value of another shape (a string where an object is read): the typed readings refused,
    # the file read by key as JSON columns
    assert [_reading(s) for s in loads] == ["concepts typed", "typed", "by key"] * 2
    assert by_key == transformed
    assert len(by_key["Observation"]) == len(AWKWARD) + 1  # every line, blank ones not
    assert by_key["Observation"][-1][0] == len(AWKWARD) + 1  # n: the line's place


def test_values_of_the_shapes_read_are_typed_by_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every value of the shape the definition reads: one statement a type, its objects and lists
    typed by ``read_json`` (no json_transform of them), the same rows as line by line."""
    path = tmp_path / "export.ndjson"
    path.write_text(_lines(WELL_SHAPED), encoding="utf-8")
    typed, transformed, loads = _both(path, monkeypatch)
    assert [_reading(s) for s in loads] == ["concepts typed", "concepts typed"]
    assert not any('json_transform("' in s for s in loads)
    # a concept is parsed once, by the reader: no json_transform of its JSON text
    assert not any("json_transform(" in s for s in loads)
    assert typed == transformed
    assert len(typed["Observation"]) == len(WELL_SHAPED) + 1


def test_a_shape_with_keys_differing_by_case_is_not_typed() -> None:
    """A struct's field names ignore case, json_transform's keys do not: such a shape stays JSON
    (shaped by json_transform)."""
    assert ibis_compile._shape_type({"a": "JSON", "b": ["JSON"]}) == 'STRUCT("a" JSON, "b" JSON[])'
    assert ibis_compile._shape_type({"a": {"x": "JSON", "X": "JSON"}}) is None
    tree = ibis_compile._Tree()
    tree.at("subject.x").leaf = True
    tree.at("subject.X").leaf = True
    sql = ibis_compile._objects_by_key([Path("x.ndjson")], tree)
    assert sql is not None and 'json_transform("subject"' in sql and "STRUCT(" not in sql


@pytest.mark.parametrize("odd", ['"a string"', "[1, 2]", "12", '{"id": "a", "id": "b"}'])
def test_a_line_that_read_json_refuses_is_read_as_before(
    odd: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line that is JSON but not an object, or an object with a key twice: DuckDB's
    ``read_json`` refuses the whole file, so it is read by json_transform, as it always was
    (the other lines are read; that line is no resource, or gives the first of the key)."""
    path = tmp_path / "export.ndjson"
    path.write_text(_lines(AWKWARD[:3]) + odd + "\n" + _lines(AWKWARD[3:]), encoding="utf-8")
    first, forgiving, loads = _both(path, monkeypatch)
    assert first == forgiving
    # each table: read_json refused, then read by json_transform
    assert [_reading(s) for s in loads] == ["concepts typed", "typed", "by key", "lines"] * 2
    assert len(first["Observation"]) == len(AWKWARD) + 3


def test_a_line_that_is_not_json_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(_lines(AWKWARD[:2]) + '{"id": "a"} trailing\n', encoding="utf-8")
    con = duckdb_connect()
    with pytest.raises(duckdb.InvalidInputException, match="line"):
        load_resources(con, {"Observation": [path]}, _LOADED, "bad")


def test_keys_that_differ_only_by_case_are_read_by_json_transform() -> None:
    """DuckDB's column names ignore case: two such keys are never two read_json columns."""
    tree = ibis_compile._tree_of(read_schema(_LOADED)["Observation"])
    assert ibis_compile._objects_by_key([Path("x.ndjson")], tree) is not None
    tree.at("ID").leaf = True
    assert ibis_compile._objects_by_key([Path("x.ndjson")], tree) is None
    assert ibis_compile._objects_by_key([], tree) is None
