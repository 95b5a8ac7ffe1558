"""A row spec with item rows (`rec.ItemRows`) that also joins another table (`rec.Joined`):
the resources and their item rows are each joined and masked, then unioned (`_compile_row`),
so each part gets the joined column of its own (the item rows' from the resource's key)."""

from __future__ import annotations

import json
from pathlib import Path

import ibis

from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.ir import EpisodeSpec, Field, ItemRows, Joined, RowSpec
from earlypath.rules.ir import Const

SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            "meds",
            "Medication",
            Const(True),
            None,
            (("id", Field("id", "str")), ("name", Field("code.text", "str"))),
        ),
        RowSpec(
            "obs",
            "Observation",
            Const(True),
            Field("subject.reference", "str"),
            (
                ("value", Field("valueString", "str")),
                ("med", Joined("meds", Field("focus.reference", "str"), "name")),
            ),
            items=ItemRows("component", ("valueString",)),
        ),
    ),
    steps=(),
)


def test_item_rows_and_a_join_read_together(tmp_path: Path) -> None:
    lines = [
        {"resourceType": "Medication", "id": "m1", "code": {"text": "pill"}},
        {
            "resourceType": "Observation",
            "id": "o1",
            "subject": {"reference": "Patient/a"},
            "focus": {"reference": "m1"},
            "valueString": "own",
            "component": [{"valueString": "first"}, {"valueString": "second"}],
        },
    ]
    path = tmp_path / "export.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    con = ibis.duckdb.connect()
    files = {"Medication": [path], "Observation": [path]}
    tables, _, _ = compile_rows(SPEC, load_resources(con, files, SPEC, "j"))
    rows = con.con.sql(str(con.compile(tables["obs"])) + " ORDER BY value").fetchall()
    got = sorted((r[3], r[4]) for r in rows)
    assert got == [("first", "pill"), ("own", "pill"), ("second", "pill")]
