"""A resource type without a line (no file, or empty files: an exporter writes a file for
every type) is loaded as an empty table made by its columns' types (`ibis_compile.
duckdb_columns`), not by the typed SELECT of a load, which DuckDB binds and optimizes for no
row (stop 36). The reading's statements read that table by the very columns and types a load
of lines gives, so the types must be the same, column by column, for every type the audit
reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records.ibis_compile import load_resources, read_schema
from tests.records.sql_sent import sql_sent


def _described(con: Any, tables: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        kind: con.con.sql(f'DESCRIBE "{t.get_name()}"').fetchall() for kind, t in tables.items()
    }


def test_a_type_without_lines_has_the_columns_and_types_of_a_load(tmp_path: Path) -> None:
    kinds = sorted(read_schema(_LOADED))
    with_lines, empty = tmp_path / "lines", tmp_path / "empty"
    with_lines.mkdir()
    empty.mkdir()
    for kind in kinds:
        (with_lines / f"{kind}.ndjson").write_text(json.dumps({"resourceType": kind}) + "\n")
        (empty / f"{kind}.ndjson").write_text("")
    con = duckdb_connect()
    sent = sql_sent(con)
    loaded = load_resources(con, {k: [with_lines / f"{k}.ndjson"] for k in kinds}, _LOADED, "a")
    assert not loaded.absent
    typed_loads = len(sent)
    files = {k: [empty / f"{k}.ndjson"] for k in kinds[::2]}  # half empty files, half none
    made = load_resources(con, files, _LOADED, "b")
    assert made.absent == frozenset(kinds)
    assert _described(con, made) == _described(con, loaded)
    for table in made.values():
        assert con.con.sql(f'SELECT count(*) FROM "{table.get_name()}"').fetchall() == [(0,)]
    # made without reading JSON: no file named, no json_transform bound
    assert not any("json" in s.lower() for s in sent[typed_loads:])
