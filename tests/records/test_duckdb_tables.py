"""The fixed cost of a small FHIR audit (issue 16, stop 52): a reading's tables and its few
ibis-built statements, on a new connection, cost no type parse and no compile the process has
done already (`earlypath.records.duckdb_tables`), and are the very tables and SQL ibis gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pytest
from ibis.backends.duckdb import Backend
from ibis.backends.sql.datatypes import DuckDBType

from earlypath.audit.fhir_read import _LOADED
from earlypath.audit.load import duckdb_connect
from earlypath.records.ibis_compile import load_resources, materializer


class _Counted:
    parses = 0
    compiles = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Counted]]:
    """Counts the DuckDB type texts ibis parses and the expressions it compiles."""
    parse = DuckDBType.from_string.__func__  # type: ignore[attr-defined]
    compile_ = Backend.compile

    def counted_parse(cls: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        _Counted.parses += 1
        return parse(cls, text, *args, **kwargs)

    def counted_compile(con: Any, expr: Any, *args: Any, **kwargs: Any) -> Any:
        _Counted.compiles += 1
        return compile_(con, expr, *args, **kwargs)

    monkeypatch.setattr(DuckDBType, "from_string", classmethod(counted_parse))
    monkeypatch.setattr(Backend, "compile", counted_compile)
    _Counted.parses = _Counted.compiles = 0
    yield _Counted


def _export(folder: Path) -> dict[str, list[Path]]:
    """A Patient and an Encounter with lines; every other type the audit reads has none."""
    folder.mkdir()
    lines = {
        "Patient": {"resourceType": "Patient", "id": "p1", "gender": "female"},
        "Encounter": {
            "resourceType": "Encounter",
            "id": "e1",
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-05-20"},
        },
    }
    for kind, line in lines.items():
        (folder / f"{kind}.ndjson").write_text(json.dumps(line) + "\n", encoding="utf-8")
    return {kind: [folder / f"{kind}.ndjson"] for kind in lines}


def test_a_second_reading_parses_no_column_type_again(
    tmp_path: Path, counted: type[_Counted]
) -> None:
    files = _export(tmp_path / "export")
    load_resources(duckdb_connect(), files, _LOADED, "first")
    first = counted.parses  # (none if an earlier test of the process parsed them all)
    con = duckdb_connect()
    tables = load_resources(con, files, _LOADED, "second")
    assert counted.parses == first, (first, counted.parses)
    for kind, table in tables.items():  # the very table ibis's own lookup gives
        assert table.equals(con.table(table.get_name())), kind


def test_a_statement_built_again_on_a_new_connection_is_not_compiled_again(
    counted: type[_Counted],
) -> None:
    sent: list[list[str]] = []
    for name in ("a", "b"):
        con = duckdb_connect()
        con.raw_sql("CREATE TABLE t (patient VARCHAR, n BIGINT)")
        statements: list[str] = []
        raw_sql = con.raw_sql
        con.raw_sql = lambda sql, _s=statements, _r=raw_sql: (_s.append(sql), _r(sql))[1]
        keep = materializer(con, name)
        t = con.table("t")
        keep(t.filter(t["n"] > 1).select("patient"), "kept")
        # a literal of its own: another statement, its own SQL
        keep(t.filter(t["n"] > (2 if name == "b" else 3)).select("patient"), "other")
        sent.append(statements)
        # the SQL ibis gives on this connection, for what was kept
        assert str(con.compile(t.filter(t["n"] > 1).select("patient"))) in statements[0]
    assert counted.compiles == 2 + 1 + 2  # a, its two; b, only its new one (+ the check twice)
    assert sent[0][0] == sent[1][0].replace('"b_kept_0"', '"a_kept_0"')
    assert "> 2" in sent[1][1] and "> 3" in sent[0][1]


def test_the_table_of_any_backend_is_ibis_own() -> None:
    from earlypath.records.duckdb_tables import duckdb_table

    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE s (a STRUCT(b VARCHAR[], c DATE) NOT NULL, d DOUBLE)")
    assert duckdb_table(con, "s").equals(con.table("s"))
    with pytest.raises(Exception, match="s_missing"):
        duckdb_table(con, "s_missing")
