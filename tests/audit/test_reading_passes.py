"""The FHIR reading's statements are planned by DuckDB without the optimizer passes
`reading_passes.READING_PASSES_OFF` names (docs/speed.md, FHIR round 32b): on a real flatten,
every statement that makes a table runs with them off, the connection's own setting is kept
beside them and restored after, and the flat table is the same with every pass on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit import fhir_read, reading_passes
from earlypath.audit.load import duckdb_connect
from tests.fhir_exports import write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.real_shapes import export_of


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("passes")
    return write_export(export_of(eligible_resources()), folder / "export")


def _off(con: Any) -> set[str]:
    got = con.con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    return {n.strip() for n in str(got or "").split(",") if n.strip()}


def _flatten(export: Path, own: str) -> tuple[Any, list[set[str]]]:
    """A flatten on a connection whose own disabled passes are ``own``; the passes off as each
    statement that makes a table was sent (the reading's: not the flat view over its table,
    made after it)."""
    con = duckdb_connect()
    con.raw_sql(f"SET disabled_optimizers = '{own}'")
    seen: list[set[str]] = []
    send = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.lstrip().upper().startswith("CREATE") and "VIEW flat AS" not in sql[:40]:
            seen.append(_off(con))
        return send(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    fhir_read.flatten_fhir_duckdb(con, export, "flat")
    return con, seen


def _rows(con: Any) -> list[tuple[Any, ...]]:
    return sorted(con.con.execute("SELECT * FROM flat_t").fetchall(), key=repr)


@pytest.mark.parametrize("own", ["", "join_order"])
def test_every_statement_of_the_reading_plans_without_the_passes(export: Path, own: str) -> None:
    con, seen = _flatten(export, own)
    assert len(seen) > 20
    wanted = set(reading_passes.READING_PASSES_OFF) | ({own} if own else set())
    assert all(wanted <= off for off in seen)
    # kept on: its planning saved is fixed, its rows' cost off grows with the export (round 33)
    assert not any("statistics_propagation" in off for off in seen)
    assert _off(con) == ({own} if own else set())  # the connection's own, after


def test_the_flat_table_is_the_same_with_every_pass_on(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con, _ = _flatten(export, "")
    ours = _rows(con)
    assert ours
    monkeypatch.setattr(reading_passes, "READING_PASSES_OFF", ())
    con_on, seen = _flatten(export, "")
    assert not any(off & {"common_subexpressions", "regex_range"} for off in seen)
    assert _rows(con_on) == ours
