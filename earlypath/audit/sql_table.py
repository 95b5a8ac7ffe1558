"""A DuckDB connection and tables used by SQL text, without importing ibis (issue 16: start-up).

`PlainDuckDB` is a DuckDB connection set up as ibis sets up its own (UTC, no Python variables
read as tables, no DuckDB progress bar); an ibis backend over the same connection is made only
when something asks for one (building an expression), so an audit whose SQL is all kept never
imports ibis (about half its start-up). `SqlTable` is a table of such a connection by its SQL;
the outputs (`write_tables`, `summary`, `case_list`) read it with the few queries below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = [
    "PlainDuckDB",
    "SqlTable",
    "column_types",
    "count_rows",
    "cursor_of",
    "duckdb_engine",
    "query_rows",
    "sql_name",
    "sql_of",
]


def duckdb_engine() -> Any:
    """DuckDB's compiled module (``_duckdb``: `connect`, its exceptions, ``__version__``) without
    the Python package around it (issue 16: start-up). ``import duckdb`` also loads the
    package's relation and expression layers and reads its version from the installed
    metadata (``importlib.metadata``): 0.11 s of the 0.20 s CPU that importing it and
    connecting took (median of 15, load 8-10; the module alone 0.08 s), none of it used by an
    audit run as SQL text. The package re-exports these very objects (``duckdb.connect is
    _duckdb.connect``, the same connection and exception classes), so a connection made here
    is the one ibis (which imports the package) is given later, and an ``except`` of either
    name catches the same error. Where the compiled module is not ``_duckdb`` (another DuckDB
    release's layout), the package."""
    try:
        import _duckdb as engine
    except ImportError:
        import duckdb as engine  # type: ignore[no-redef]
    return engine


class PlainDuckDB:
    """A plain ``duckdb`` connection that looks like ibis's DuckDB backend where the audit uses
    one (``name``, ``con``, ``raw_sql``); anything else (``table``, ``compile``...) goes to an
    ibis backend over the same connection, made (and ibis imported) on first use."""

    name = "duckdb"

    def __init__(self) -> None:
        self.con = _set_up(duckdb_engine().connect())

    def raw_sql(self, sql: str) -> Any:
        return self.con.execute(sql)

    @cached_property
    def ibis(self) -> Any:
        import ibis

        return ibis.duckdb.from_connection(self.con)

    def to_pyarrow(self, expr: Any, **kwargs: Any) -> Any:
        if isinstance(expr, SqlTable):
            expr = expr.as_ibis()
        return self.ibis.to_pyarrow(expr, **kwargs)

    def __getattr__(self, attr: str) -> Any:  # (only for names not set above)
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.ibis, attr)


def _set_up(con: Any) -> Any:
    # What ibis's backend sets on connecting (its results must not depend on who built it); a
    # cursor has the session settings of a new connection, so it is set up the same way.
    for setting in (
        "SET timezone = 'UTC'",
        "SET python_enable_replacements = false",
        "SET enable_progress_bar = false",  # the CLI shows Rich's
    ):
        con.execute(setting)
    return con


def cursor_of(con: Any) -> Any:
    """Another connection to the database of ``con`` (a `PlainDuckDB` or ibis's DuckDB
    backend): its views and tables, not its TEMP ones, set up as `PlainDuckDB` is, for a
    statement run by another thread while ``con`` runs its own."""
    return _set_up(con.con.cursor())


def sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SqlTable:
    """A table or view of a DuckDB connection by its name, with its column names. The audit's
    outputs read it with SQL; anything else (``filter``, ``schema``...: tests, callers of
    `earlypath.audit.run.evaluate`) gets ibis's table of the same name."""

    name: str
    columns: tuple[str, ...]
    con: Any = field(compare=False, repr=False)  # a `PlainDuckDB` or ibis's DuckDB backend
    # A view not created yet: its SELECT, run as a subquery by the SQL that reads the table and
    # made a view of ``name`` only when ibis asks for it (`defined_by`).
    definition: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def named(cls, con: Any, name: str, columns: tuple[str, ...] | None = None) -> SqlTable:
        """The table or view ``name``; its columns are asked of DuckDB unless given (binding a
        view of the judging SQL to describe it costs a few milliseconds)."""
        return cls(name, columns or tuple(column_types(con.con, name)), con)

    @classmethod
    def defined_by(cls, con: Any, name: str, columns: tuple[str, ...], sql: str) -> SqlTable:
        """The view ``name`` of the query ``sql``, not created: DuckDB binds a view's query when
        it is created, and again in each statement that reads it, so a view read once (the
        judged episodes, by the COPY: their SQL is long) costs a bind less as a subquery
        (about 0.02 s of a small audit)."""
        return cls(name, columns, con, sql)

    @property
    def sql(self) -> str:
        if self.definition is not None:
            return self.definition
        return f"SELECT * FROM {sql_name(self.name)}"

    def as_ibis(self) -> Any:
        if self.definition is not None:  # ibis reads a table by name: the view is made now
            self.con.con.execute(f"CREATE OR REPLACE VIEW {sql_name(self.name)} AS {self.sql}")
        return self.con.table(self.name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.as_ibis(), attr)

    def __getitem__(self, key: Any) -> Any:
        return self.as_ibis()[key]


def sql_of(con: Any, table: Any) -> str:
    """The SQL of a `SqlTable`, of SQL text, or of an ibis table of ``con``."""
    if isinstance(table, SqlTable):
        return table.sql
    if isinstance(table, str):
        return table
    return str(con.compile(table))


def column_types(con: Any, name: str) -> dict[str, str]:
    """The columns of a table or view of ``con`` (a DuckDB connection) and their DuckDB types."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {sql_name(name)}").fetchall()}


def query_rows(con: Any, sql: str) -> list[dict[str, Any]]:
    """The rows of a query as dicts, by DuckDB's own Python values (no pyarrow import: for
    the text, integers and dates the audit reads, the same values as through Arrow)."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count_rows(con: Any, table: SqlTable) -> int:
    return int(con.execute(f"SELECT count(*) FROM ({table.sql})").fetchall()[0][0])
