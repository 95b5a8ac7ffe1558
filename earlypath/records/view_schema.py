"""A DuckDB temp view the compiled reading just created, as an ibis table, its columns read
from the catalog rather than by ``DESCRIBE``.

Compiling a reading (`ibis_compile._record_plan`) stores each row spec's stages as views, each
read by the next, and asks for each new view's columns to build the next stage on. ibis's
``con.table`` asks DuckDB to ``DESCRIBE`` it, which binds the view's query again, and through it
every view under it: the views of one spec are a chain, so the chain is bound once per link.
That was 3.4 of the 34 CPU seconds of a cold plan of the reading (45 views; the tables it
stores took 0.1 s: docs/speed.md, stop 46). DuckDB keeps a view's column names and types in
its catalog when the view is created (``duckdb_columns()``), the same as ``DESCRIBE`` gives for
a view whose inputs have not changed since, which holds here: the view was made a moment ago
from tables the compile does not replace. Only the way the columns are found differs; the
table, and so every statement compiled from it, is the one ``con.table`` gives.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.operations as ops
import ibis.expr.schema as sch
import ibis.expr.types as ir_t

__all__ = ["new_view"]

_COLUMNS = (
    "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
    "WHERE database_name = 'temp' AND schema_name = 'main' AND table_name = ? "
    "ORDER BY column_index"
)


def new_view(con: Any, name: str) -> ir_t.Table:
    """The temp view ``name`` of the ibis DuckDB backend ``con``, as ``con.table(name)`` gives
    it (``con.table`` when the catalog has no temp view so named)."""
    columns = con.con.execute(_COLUMNS, [name]).fetchall()
    if not columns:
        return con.table(name)
    from_string = con.compiler.type_mapper.from_string
    schema = sch.Schema(
        {column: from_string(kind, nullable=bool(null)) for column, kind, null in columns}
    )
    namespace = ops.Namespace(catalog=None, database=None)
    return ops.DatabaseTable(name, schema=schema, source=con, namespace=namespace).to_expr()
