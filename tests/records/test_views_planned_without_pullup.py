"""A table the compiled reading makes from its views (a row spec's stages inlined: the clinical
rows) is planned by DuckDB without its projection pull-up pass, the largest optimizer pass on
that statement, which changes only how a plan is laid out (docs/speed.md, FHIR round 14).
Checked on a real flatten: which statements ran with the pass disabled, that the connection's
own setting is kept around them and restored, and that the flat table is the same with the
pass on for every statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.audit.reading_passes import READING_PASSES_OFF
from earlypath.records import ibis_compile
from tests.fhir_exports import write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.real_shapes import export_of


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pullup")
    return write_export(export_of(eligible_resources()), folder / "export")


def _setting(con: Any) -> frozenset[str]:
    """The passes disabled (a set: DuckDB gives them in an order of its own)."""
    got = con.con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    return frozenset(n.strip() for n in str(got or "").split(",") if n.strip())


def _flatten(export: Path, own: str) -> tuple[Any, list[tuple[str, frozenset[str]]]]:
    """A flatten of ``export`` on a connection whose own disabled optimizers are ``own``; each
    statement that makes a table or appends to one (`union_parts`), with the setting DuckDB
    planned it under."""
    con = duckdb_connect()
    con.raw_sql(f"SET disabled_optimizers = '{own}'")
    seen: list[tuple[str, frozenset[str]]] = []
    send = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.lstrip().upper().startswith(("CREATE", "INSERT")):
            seen.append((sql, _setting(con)))
        return send(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    flatten_fhir_duckdb(con, export, "flat")
    return con, seen


def _rows(con: Any) -> list[tuple[Any, ...]]:
    return sorted(con.con.execute("SELECT * FROM flat").fetchall(), key=repr)


@pytest.mark.parametrize("own", ["", "join_order"])
def test_tables_made_from_views_are_planned_without_pullup(export: Path, own: str) -> None:
    con, seen = _flatten(export, own)
    made = [(sql, s) for sql, s in seen if "TEMP TABLE" in sql[:40] or sql.startswith("INSERT")]
    from_views = [s for sql, s in made if "_view_" in sql]
    others = [s for sql, s in seen if (sql, s) not in made or "_view_" not in sql]
    clinical = [sql for sql, _ in made if "_clinical_" in sql[:80]]
    assert from_views and others
    # the clinical rows: made by their first part, each other part appended (`union_parts`)
    assert [sql[:6] for sql in clinical] == ["CREATE"] + ["INSERT"] * (len(clinical) - 1)
    assert len(clinical) > 1
    # the reading's own passes off (`reading_passes`) around its statements, beside the
    # connection's; the flat view over its table is made after
    first = frozenset({own} if own else ())
    reading = first | frozenset(READING_PASSES_OFF)
    assert set(from_views) == {reading | {"projection_pullup"}}
    assert set(others) == {reading, first}
    assert _setting(con) == first  # restored after the reading


def test_the_flat_table_is_the_same_with_pullup_everywhere(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con, _ = _flatten(export, "")
    ours = _rows(con)
    assert ours
    monkeypatch.setattr(ibis_compile, "_VIEW_READ", "\0never in SQL\0")
    con_on, seen = _flatten(export, "")
    assert {s for _, s in seen} <= {frozenset(READING_PASSES_OFF), frozenset()}
    assert _rows(con_on) == ours


def test_the_setting_is_restored_when_the_statement_fails() -> None:
    con = duckdb_connect()
    con.raw_sql("SET disabled_optimizers = 'join_order'")
    with pytest.raises(Exception, match="no_such_table"):
        ibis_compile._store(con, "t_from_view", 'SELECT * FROM "x_view_no_such_table"')
    assert _setting(con) == {"join_order"}
