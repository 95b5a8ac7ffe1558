"""DuckDB's load of a list the definition reads into (Observation.component, a concept's
codings, extensions): the list transform runs only where the list is there, and a missing,
null, empty or wrong-typed list reads as it did (None, None, [], None)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records.ibis_compile import load_resources
from tests.records.sql_sent import sql_sent

COMPONENTS: list[tuple[Any, int | None]] = [  # (the line's component, its items read)
    ("missing", None),
    (None, None),
    ([], 0),
    ("text", None),
    ([{"valueString": "a"}, {"valueQuantity": {"value": 3}}], 2),
]


def _load(tmp_path: Path) -> tuple[list[Any], list[str]]:
    path = tmp_path / "Observation.ndjson"
    lines = []
    for n, (component, _) in enumerate(COMPONENTS):
        r: dict[str, Any] = {"resourceType": "Observation", "id": f"o{n}"}
        if component != "missing":
            r["component"] = component
        lines.append(json.dumps(r))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = duckdb_connect()
    sent = sql_sent(con)
    table = load_resources(con, {"Observation": [path]}, _LOADED, "lists")["Observation"]
    rows = con.con.sql(f'SELECT component__list FROM "{table.get_name()}" ORDER BY n').fetchall()
    return [r[0] for r in rows], [s for s in sent if "list_transform(" in s]


def test_a_list_reads_as_before_where_it_is_missing_null_empty_or_not_a_list(
    tmp_path: Path,
) -> None:
    read, _ = _load(tmp_path)
    assert [None if v is None else len(v) for v in read] == [n for _, n in COMPONENTS]
    assert read[4][0]["valueString__str"] == "a"


def test_every_list_transform_of_the_load_runs_only_on_a_list_that_is_there(
    tmp_path: Path,
) -> None:
    _, loads = _load(tmp_path)
    assert loads
    for sql in loads:
        transforms = sql.count("list_transform(")
        guarded = sql.count(" IS NOT NULL THEN list_transform(")
        assert transforms == guarded > 0
