"""What the load keeps of a concept (`ReadSchema.concept_schema`): its codings' system and
code always; its text and its codings' displays only where a value set with words tests it
(the only reading of them). The audit's DiagnosticReport codes are tested by sets without
words, so their displays (the longest strings of a coding) are neither typed nor stored; a
medicine's concept is tested by words ("progesterone") and keeps both, as an Observation's code
does since stop 45 (a loss coded locally is read by its words, HAZ-20 C20.32), and a
DiagnosticReport's since stop 48 (its contained findings and its conclusionCode are read
through the report's `code` column: a finding coded locally by its words, C20.32)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records import ir as rec
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import (
    ReadSchema,
    duckdb_columns,
    list_name,
    load_resources,
    read_schema,
)
from earlypath.rules.ir import Const

_CODING = {"system": "http://snomed.info/sct", "code": "1", "display": "Utrogestan 200mg"}


def _fields(con: Any, table: str, column: str) -> tuple[list[str], list[str]]:
    """The concept column's own fields and its codings' fields."""
    concept = con.con.sql(f'SELECT "{column}" FROM "{table}"').types[0]
    children = dict(concept.children)
    coding = dict(children["coding__list"].child.children)
    return sorted(children), sorted(coding)


def test_a_concept_keeps_its_text_and_displays_only_where_words_are_tested(
    tmp_path: Path,
) -> None:
    lines = {
        "DiagnosticReport": {
            "resourceType": "DiagnosticReport",
            "id": "r",
            "code": {"coding": [_CODING]},
        },
        "Observation": {
            "resourceType": "Observation",
            "id": "o",
            "code": {"coding": [_CODING]},
            "method": {"coding": [_CODING]},
        },
        "MedicationRequest": {
            "resourceType": "MedicationRequest",
            "id": "m",
            "medicationCodeableConcept": {"text": "Utrogestan", "coding": [_CODING]},
        },
    }
    files = {}
    for kind, line in lines.items():
        files[kind] = [tmp_path / f"{kind}.ndjson"]
        files[kind][0].write_text(json.dumps(line) + "\n", encoding="utf-8")
    con = duckdb_connect()
    tables = load_resources(con, files, _LOADED, "concepts")

    report = tables["DiagnosticReport"].get_name()
    # the report's `code` column holds its contained findings' and its conclusion's codes, whose
    # words are read (stop 48; the report's own code is tested by sets without words)
    assert _fields(con, report, "code__concept") == (
        ["coding__list", "text__str"],
        ["code__str", "display__str", "system__str"],
    )
    observation = tables["Observation"].get_name()
    assert _fields(con, observation, "code__concept") == (
        ["coding__list", "text__str"],
        ["code__str", "display__str", "system__str"],
    )
    # a concept no set with words tests keeps its codes only
    assert _fields(con, observation, "method__concept") == (
        ["coding__list"],
        ["code__str", "system__str"],
    )
    request = tables["MedicationRequest"].get_name()
    assert _fields(con, request, "medicationCodeableConcept__concept") == (
        ["coding__list", "text__str"],
        ["code__str", "display__str", "system__str"],
    )
    [(got,)] = con.con.sql(
        f'SELECT "medicationCodeableConcept__concept" FROM "{request}"'
    ).fetchall()
    assert got["coding__list"][0]["display__str"] == "Utrogestan 200mg"


def test_words_tested_inside_a_list_item_mark_that_item_s_concept() -> None:
    """A set with words tested on a list item's concept (a Medication's ingredient), and one
    reached through `Outer` from inside an item, mark the concept at its own level."""
    item_test = rec.AnyItem(
        "ingredient", rec.InSet(rec.Concept("itemCodeableConcept"), "progesterone")
    )
    outer_test = rec.AnyItem(
        "ingredient", rec.InSet(rec.Outer(rec.Concept("code")), "progesterone")
    )
    coded = rec.InSet(rec.Concept("form"), "hcg")  # a set without words
    columns = (("a", item_test), ("b", outer_test), ("c", coded))
    spec = rec.EpisodeSpec((rec.RowSpec("m", "Medication", Const(True), None, columns),), ())
    schema = read_schema(spec)["Medication"]
    assert schema.worded == {"code"}
    assert schema.lists["ingredient"].worded == {"itemCodeableConcept"}
    assert "form" in schema.concepts and "form" not in schema.worded


def _item_types(resource: ReadSchema, item: ReadSchema) -> list[tuple[str, str, str]]:
    """(column, the resource's type, the item's type) of every column both read: an item row
    is cast to its resource's row (`_item_rows`), which Spark does only for equal structs."""
    own = dict(duckdb_columns(resource))
    return [(name, own[name], t) for name, t in duckdb_columns(item) if name in own]


@pytest.mark.parametrize("spec", [READING, _LOADED], ids=["reading", "audit"])
def test_an_item_read_as_a_row_has_its_resource_s_column_types(spec: rec.EpisodeSpec) -> None:
    """A list item read as a resource of its own (`rec.ItemRows`: a report's contained finding,
    a panel's component, a contained panel's component) has the types of the resource's
    columns it stands in for, its concepts' words included. Stop 48: a contained panel's
    components were read by their codes alone (`_merged` dropped `ReadSchema.worded`) while
    the contained finding's row kept its words: Spark refused the cast
    (`CAST_WITHOUT_SUGGESTION` on `code__concept`); DuckDB cast it, the words read as None."""
    schemas = read_schema(spec)
    checked = 0
    for row in spec.rows:
        items = row.items
        if items is None or items.whole is not None:
            continue
        schema = schemas[row.resource]
        item = schema.lists[items.path]
        pairs = _item_types(schema, item)
        if items.then is not None:
            pairs += _item_types(schema, item.lists[items.then.path])
        differ = [(name, a, b) for name, a, b in pairs if a != b]
        assert not differ, (row.table, row.resource, differ)
        checked += len(pairs)
    assert checked


def test_a_list_read_from_two_places_keeps_the_words_of_both() -> None:
    """The schema of a list read both as a list of the resource and by its container's item
    (`_lift_container`, `ItemRows.then`) is the union of the two, its worded concepts too."""
    schema = read_schema(_LOADED)["DiagnosticReport"]
    assert {"code", "valueCodeableConcept"} <= schema.worded
    contained = schema.lists["contained"]
    for component in (schema.lists["component"], contained.lists["component"]):
        assert {"code", "valueCodeableConcept"} <= component.worded
    assert list_name("component") in {name for name, _ in duckdb_columns(contained)}
