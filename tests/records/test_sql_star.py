"""`earlypath.records.sql_star`: a projection keeping its parent's columns is written ``*``
(``* EXCLUDE (...)`` where it leaves some out), with the same columns, in the same order, and
the same rows as the column list ibis writes; only inside `columns_as_star`. The reading's
DuckDB plan is compiled so: `test_code_table.py` bounds its SQL's length."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from earlypath.records.sql_star import columns_as_star


@pytest.fixture(scope="module")
def con() -> Any:
    con = ibis.duckdb.connect()
    rows = {"a": [1, 2, None, 2], "b": ["x", None, "z", "x"], "c": [True, False, None, True]}
    con.create_table("t", ibis.memtable(rows))
    con.create_table("r", ibis.memtable({"k2": [1, 2, 5], "v": ["one", "two", "five"]}))
    return con


def _tables(con: Any) -> dict[str, Any]:
    t, r = con.table("t"), con.table("r")
    left = t.mutate(k=t.a + 0)
    joined = left.left_join(r, left.k == r.k2).select(left.a, left.b, left.c, v=r.v)
    return {
        "added": t.mutate(d=t.a + 1),
        "dropped": t.mutate(d=t.a + 1).drop("b"),
        "replaced": t.mutate(d=t.a * 2).mutate(c=~t.c),
        "joined": joined,
        "filtered": t.mutate(d=t.b.upper()).filter(t.a > 1),
    }


def _run(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.raw_sql(sql)
    names = [d[0] for d in cursor.description]
    return names, sorted(cursor.fetchall(), key=repr)


def test_a_kept_column_list_is_a_star_with_the_same_columns_and_rows(con: Any) -> None:
    written = {}
    for name, table in _tables(con).items():
        plain = str(con.compile(table))
        with columns_as_star():
            star = str(con.compile(table))
        written[name] = star
        assert len(star) < len(plain), name
        assert _run(con, star) == _run(con, plain), name
    assert written["added"].startswith('SELECT *, "t0"."a" + 1 AS "d"')
    assert 'SELECT * EXCLUDE ("b"), ' in written["dropped"]
    assert '.* EXCLUDE ("k"), "t2"."v"' in written["joined"]


def test_outside_the_context_the_list_is_as_ibis_writes_it(con: Any) -> None:
    added = _tables(con)["added"]
    with columns_as_star(False):
        off = str(con.compile(added))
    assert off == str(con.compile(added))
    assert '"t0"."b"' in off and "*" not in off
