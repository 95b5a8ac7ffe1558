"""DuckDB's load shapes a concept of a list item (a panel component's code and value) by one
json_transform per item, a field the item is extended with before it is read, not once per
part read of it (a lambda's body has no common subexpressions: six transforms of each
component's concept; docs/speed.md, FHIR round 10). What is read is the same:
tests/records/test_duckdb_load.py, test_load_lists.py and the panel tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records.ibis_compile import load_resources


def test_a_component_concept_is_transformed_once_per_item(tmp_path: Path) -> None:
    path = tmp_path / "Observation.ndjson"
    code = {"coding": [{"system": "http://loinc.org", "code": "11957-8"}], "text": "CRL"}
    line = {"resourceType": "Observation", "id": "o", "component": [{"code": code}]}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    con = duckdb_connect()
    sent: list[str] = []
    real = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(sql)
        return real(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    table = load_resources(con, {"Observation": [path]}, _LOADED, "c")["Observation"]
    (load,) = [s for s in sent if "_typed" in s and "component" in s]
    for concept in ("code", "valueCodeableConcept"):
        assert load.count(f"json_transform(struct_extract(x1, '{concept}')") == 1, concept
    (read,) = con.con.sql(f'SELECT component__list FROM "{table.get_name()}"').fetchall()[0]
    assert read[0]["code__concept"]["text__str"] == "CRL"
    assert read[0]["code__concept"]["coding__list"][0]["code__str"] == "11957-8"
