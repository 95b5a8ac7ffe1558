"""The audit's checks built two ways, for the tests that compare a DuckDB form with the portable
one: on a DuckDB table (the form the audit runs: its SQL and rows) and on an unbound table (the
form every engine can run). Same rows is the claim those tests make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import pyarrow as pa

from earlypath.audit.validate import check_and_type, repeated_ids
from tests.audit.helpers import FLAT_SCHEMA


def bound(table: pa.Table, out: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """The checks built on a DuckDB table, as the audit builds them: their SQL (one line) and
    the columns ``out`` of their rows."""
    con = ibis.duckdb.connect()
    raw = con.create_table("cohort", ibis.memtable(table))
    checked = check_and_type(raw, repeated_ids(raw))
    sql = " ".join(str(con.compile(checked)).split())
    return sql, con.to_pyarrow(checked.select(*out)).to_pylist()


def portable(table: pa.Table, out: Sequence[str]) -> list[dict[str, Any]]:
    """The same checks built on an unbound table (no DuckDB-only form), the columns ``out``."""
    raw = ibis.memtable(table)
    checked = check_and_type(raw, repeated_ids(raw)).select(*out)
    return ibis.duckdb.connect().to_pyarrow(checked).to_pylist()


def checked_on_duckdb(rows: Sequence[dict[str, Any]]) -> tuple[Any, Any]:
    """A DuckDB connection and the checks built on ``rows`` (the flat schema, numbered as the
    audit numbers its input), as the DuckDB pass builds them before it judges."""
    con = ibis.duckdb.connect()
    table = pa.Table.from_pylist(list(rows), schema=FLAT_SCHEMA)
    table = table.append_column("row_number", pa.array(range(1, len(rows) + 1), pa.int64()))
    raw = con.create_table("cohort", ibis.memtable(table))
    return con, check_and_type(raw, repeated_ids(raw))
