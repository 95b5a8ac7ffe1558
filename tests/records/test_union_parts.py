"""A stored union made on DuckDB by its first part and the others appended (`union_parts`):
the parts in the order the union's SQL writes them, and the table holds the union's rows with
its column types, a part of another column order too."""

from __future__ import annotations

from typing import Any

import ibis

from earlypath.records import ibis_compile
from earlypath.records.union_parts import union_parts


def _tables(con: Any) -> list[Any]:
    """Three tables of the same columns, the second in another order, NULLs of each type."""
    con.con.execute("CREATE TABLE p1 AS SELECT 1 AS n, 'a' AS word, NULL::DOUBLE AS x")
    con.con.execute("CREATE TABLE p2 AS SELECT 'b' AS word, 2 AS n, 2.5::DOUBLE AS x")
    con.con.execute(
        "CREATE TABLE p3 AS SELECT * FROM (VALUES (3, NULL, 3.0::DOUBLE), (4, 'd', NULL)) t(n, word, x)"
    )
    return [con.table(name) for name in ("p1", "p2", "p3")]


def test_the_parts_of_a_union_all_in_the_order_its_sql_writes_them() -> None:
    con = ibis.duckdb.connect()
    union = ibis.union(*_tables(con), distinct=False)
    parts = union_parts(union)
    assert len(parts) == 3
    # ibis balances a union of many as a tree: the parts are its leaves, left to right
    sql = con.compile(union)
    written = sorted(("p1", "p2", "p3"), key=lambda name: sql.index(f'"{name}"'))
    read = [next(n for n in ("p1", "p2", "p3") if f'"{n}"' in con.compile(p)) for p in parts]
    assert read == written


def test_a_distinct_union_or_a_table_is_one_part() -> None:
    con = ibis.duckdb.connect()
    p1, p2, _ = _tables(con)
    distinct = ibis.union(p1, p2, distinct=True)
    assert [p.op() for p in union_parts(distinct)] == [distinct.op()]
    assert [p.op() for p in union_parts(p1)] == [p1.op()]


def test_an_appended_table_holds_the_unions_rows_and_types() -> None:
    con = ibis.duckdb.connect()
    union = ibis.union(*_tables(con), distinct=False)
    con.con.execute(f"CREATE TABLE whole AS {con.compile(union)}")
    first, *others = [str(con.compile(p)) for p in union_parts(union)]
    ibis_compile._store(con, "split", first)
    for sql in others:
        ibis_compile._append(con, "split", sql)
    raw = con.con
    assert raw.sql("DESCRIBE split").fetchall() == raw.sql("DESCRIBE whole").fetchall()
    split = raw.sql("SELECT * FROM split ORDER BY n").fetchall()
    assert split == raw.sql("SELECT * FROM whole ORDER BY n").fetchall()
    assert split == [(1, "a", None), (2, "b", 2.5), (3, None, 3.0), (4, "d", None)]
