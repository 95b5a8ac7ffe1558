"""An ibis table of a DuckDB table or view by its name, its column types parsed once a process
(issue 16: the fixed cost of a small FHIR audit).

ibis's ``Backend.table`` asks DuckDB for the columns (``DESCRIBE``) and parses every column's
type text with sqlglot into an ibis type, each time. A reading asks for its thirteen resource
tables, its stored steps and its results on every audit: about 480 type texts an audit, the
same few dozen texts each time, 0.17 CPU s of a 3-woman audit's 2.9 (stop 52,
``benchmarks/fhir_audit_fixed_cost.py``). `duckdb_table` asks DuckDB for the columns as ibis
does and parses each distinct (type, nullable) once a process: the table it returns is the very
expression ``Backend.table`` gives (the same name, schema, backend and namespace: equal, so
plan keys and compiled SQL are unchanged).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["compiled_sql", "duckdb_table"]


def duckdb_table(con: Any, name: str) -> Any:
    """``con.table(name)`` for ``con`` an ibis DuckDB backend or a `PlainDuckDB` (on any other
    backend, ``con.table`` itself)."""
    if getattr(con, "name", None) != "duckdb":
        return con.table(name)
    backend = con.ibis if hasattr(type(con), "ibis") else con  # (`PlainDuckDB` or ibis's)
    import ibis.expr.operations as ops
    import ibis.expr.schema as sch

    quoted = '"' + name.replace('"', '""') + '"'
    try:
        described = backend.con.execute(f"DESCRIBE {quoted}").fetchall()
    except Exception:  # (no such table: ibis's own error, as before)
        return con.table(name)
    # DESCRIBE's rows: column_name, column_type, null ('YES'/'NO'), ...
    schema = sch.Schema({row[0]: _ibis_type(backend, row[1], row[2] == "YES") for row in described})
    if schema.geospatial:  # ibis loads the spatial extension for these: its own path
        return con.table(name)
    return ops.DatabaseTable(
        name, schema=schema, source=backend, namespace=ops.Namespace(catalog=None, database=None)
    ).to_expr()


def _ibis_type(backend: Any, text: str, nullable: bool) -> Any:
    return _parsed(backend.compiler.type_mapper, text, nullable)


@functools.cache
def _parsed(mapper: Any, text: str, nullable: bool) -> Any:
    # ibis types are immutable values: one parse serves every table of the process
    return mapper.from_string(text, nullable=nullable)


# The SQL of the expressions compiled lately, by the expression with its tables unbound (the
# same names, schemas and namespaces, no backend): an audit builds the same few expressions on
# each new connection (its stored encounters, keys, patients, flat table and counts, stop 52),
# and ibis's compile of each (sqlglot's rewrites and rendering) was 0.02-0.09 CPU s.
_SQL_KEPT = 64
_sql_by_expr: dict[tuple[Any, Any], str] = {}


def compiled_sql(con: Any, expr: Any) -> str:
    """``str(con.compile(expr))``, kept by the unbound expression: the SQL of an expression
    depends only on it and the backend's dialect, not on which connection it was built on."""
    key = (type(getattr(con, "compiler", None)), expr.unbind().op())
    sql = _sql_by_expr.pop(key, None)
    if sql is None:
        sql = str(con.compile(expr))
        if len(_sql_by_expr) >= _SQL_KEPT:  # the oldest goes (a dict keeps insertion order)
            del _sql_by_expr[next(iter(_sql_by_expr))]
    _sql_by_expr[key] = sql  # (most recently used last)
    return sql
