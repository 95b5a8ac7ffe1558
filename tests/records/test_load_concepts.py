"""What the load keeps of a concept (`ReadSchema.concept_schema`): its codings' system and
code always; its text and its codings' displays only where a value set with words tests it
(the only reading of them). The audit's DiagnosticReport codes are tested by sets without
words, so their displays (the longest strings of a coding) are neither typed nor stored; a
medicine's concept is tested by words ("progesterone") and keeps both, as an Observation's code
does since stop 45 (a loss coded locally is read by its words, HAZ-20 C20.32)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records import ir as rec
from earlypath.records.ibis_compile import load_resources, read_schema
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
        "Observation": {"resourceType": "Observation", "id": "o", "code": {"coding": [_CODING]}},
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
    assert _fields(con, report, "code__concept") == (
        ["coding__list"],
        ["code__str", "system__str"],
    )
    observation = tables["Observation"].get_name()
    assert _fields(con, observation, "code__concept") == (
        ["coding__list", "text__str"],
        ["code__str", "display__str", "system__str"],
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
