"""DuckDB reads a resource file by its top-level keys (`read_json` with JSON columns) when every
line is an object, and by one json_transform of each line otherwise: both give the same table,
row for row, so the faster reading never changes what the definition reads."""

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


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, list[str]]:
    """The tables read as `load_resources` reads them, then with the by-key reading off; and
    which reading made each table the first time."""
    con = duckdb_connect()
    sent = sql_sent(con)
    first = _typed(con, path, "first")
    loads = [s for s in sent if s.startswith("CREATE OR REPLACE TABLE") and str(path) in s]
    monkeypatch.setattr(ibis_compile, "_objects_by_key", lambda files, tree: None)
    second = _typed(con, path, "second")
    return first, second, loads


def test_objects_are_read_by_key_and_give_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(_lines(AWKWARD), encoding="utf-8")
    by_key, transformed, loads = _both(path, monkeypatch)
    assert len(loads) == 2 and all("read_json(" in s for s in loads)  # none refused: by key
    assert by_key == transformed
    assert len(by_key["Observation"]) == len(AWKWARD) + 1  # every line, blank ones not
    assert by_key["Observation"][-1][0] == len(AWKWARD) + 1  # n: the line's place


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
    assert ["read_json(" in s for s in loads] == [True, False, True, False]
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
