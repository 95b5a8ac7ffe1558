"""An object the reading reads both whole (is it there?) and by its keys, each key a leaf
(Observation.valueQuantity, a reference's identifier), is shaped once by DuckDB's load: one
json_transform in a column of its own, not a json_extract of its JSON for each use of each key
(17 of them for valueQuantity). The typed table is the same, whatever JSON the object holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records import ibis_compile
from earlypath.records.ibis_compile import load_resources
from tests.records.sql_sent import sql_sent

# every JSON a quantity or an identifier can hold where an object is expected, written as text
# so that a key given twice and a key in another case reach the reader as they are
_QUANTITIES = [
    '{"value": 12.5, "unit": "mm", "code": "mm", "comparator": "<"}',
    '{"value": "12", "unit": null, "code": 7, "comparator": ["<"]}',
    '{"value": {"v": 1}, "unit": "a\\"b\\u00e9", "code": "", "comparator": true}',
    '{"unit": "first", "unit": "second", "Value": 3}',
    '{"value": null, "code": null}',
    "{}",
    "[]",
    '[{"value": 1}]',
    '"12 mm"',
    "12",
    "false",
    "null",
]
_IDENTIFIERS = [
    '{"system": "urn:oid:1", "value": "p1"}',
    '{"system": 1, "value": {"a": 1}}',
    '{"value": "p2", "value": "p3"}',
    '[{"system": "urn:oid:1", "value": "p1"}]',
    '"p1"',
    "null",
]


def _lines() -> str:
    lines = [
        f'{{"resourceType": "Observation", "id": "q{i}", "valueQuantity": {q}}}'
        for i, q in enumerate(_QUANTITIES)
    ]
    lines += [
        f'{{"resourceType": "Observation", "id": "i{i}", "subject": {{"identifier": {q}}}}}'
        for i, q in enumerate(_IDENTIFIERS)
    ]
    # an id with an escape: a leaf of the resource itself, unescaped from its hoisted text
    lines.append('{"resourceType": "Observation", "id": "n\\"one\\u00e9"}')
    return "\n".join(lines) + "\n"


def _load(path: Path, prefix: str) -> tuple[list[tuple[Any, ...]], list[str]]:
    con = duckdb_connect()
    sent = sql_sent(con)
    tables = load_resources(con, {"Observation": [path]}, _LOADED, prefix)
    name = tables["Observation"].get_name()
    rows = con.con.sql(f'SELECT * FROM "{name}" ORDER BY n').fetchall()
    loads = [s for s in sent if s.startswith("CREATE OR REPLACE TABLE") and str(path) in s]
    # stop 55 (w-fhir55): the first attempt reads the objects as structs; this file's objects
    # that are not objects make it fail, and the load made the table by the JSON read below
    assert len(loads) == 2, len(loads)
    return rows, loads[-1:]


def test_a_quantity_and_an_identifier_are_shaped_once_by_the_load(tmp_path: Path) -> None:
    path = tmp_path / "Observation.ndjson"
    path.write_text(_lines(), encoding="utf-8")
    _, [load] = _load(path, "once")
    for at in (
        "struct_extract(j, 'valueQuantity')",
        "struct_extract(struct_extract(j, 'subject'), 'identifier')",
    ):
        assert f"json_extract({at}" not in load
        assert load.count(f"json_transform({at}") == 1
    # a leaf of the resource itself names its path once (its JSON text a middle-select column),
    # not once for each of the four uses of that text in its CASE
    assert load.count("CAST(struct_extract(j, 'id') AS VARCHAR)") == 1


def test_the_shaped_object_reads_what_each_key_s_json_extract_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Observation.ndjson"
    path.write_text(_lines(), encoding="utf-8")
    shaped, _ = _load(path, "shaped")
    # the same load with no object shaped: each key read by a json_extract of the object
    monkeypatch.setattr(ibis_compile, "_flat_object_read_whole", lambda node: False)
    extracted, [load] = _load(path, "extracted")
    assert "json_extract(struct_extract(j, 'valueQuantity')" in load
    assert len(shaped) == len(_QUANTITIES) + len(_IDENTIFIERS) + 1
    assert shaped == extracted
    # not two empty readings: the first quantity and identifier are read
    first_quantity, first_identifier = shaped[0], shaped[len(_QUANTITIES)]
    assert {12.5, "mm", "<"} <= set(first_quantity)
    assert {"urn:oid:1", "p1"} <= set(first_identifier)
    assert 'n"one\u00e9' in set(shaped[-1])
