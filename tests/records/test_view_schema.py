"""`view_schema.new_view`: a temp view the compile just made is the table ``con.table`` gives
(its columns read from DuckDB's catalog, not by binding the view again)."""

from __future__ import annotations

import ibis

from earlypath.records.view_schema import new_view


def test_a_new_view_is_the_table_con_table_gives() -> None:
    con = ibis.duckdb.connect()
    con.raw_sql(
        "CREATE TEMP TABLE t AS SELECT 1 AS a, [{'x': 1, 'y': 'q'}] AS b, 'z' AS c, "
        "2.5::DOUBLE AS d, NULL AS e, DATE '2024-01-01' AS f, 3::BIGINT AS g"
    )
    con.raw_sql("CREATE TEMP VIEW v1 AS SELECT *, a + 1 AS h, b[1] AS i FROM t")
    con.raw_sql("CREATE TEMP VIEW v2 AS SELECT *, h * 2 AS j, i.y AS k FROM v1")
    for view in ("v1", "v2"):
        mine, ibis_s = new_view(con, view), con.table(view)
        assert mine.schema() == ibis_s.schema()
        assert mine.op() == ibis_s.op()
        assert con.compile(mine.mutate(z=mine.a + 1)) == con.compile(ibis_s.mutate(z=ibis_s.a + 1))


def test_a_name_the_catalog_has_no_temp_view_of_is_asked_of_con_table() -> None:
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE kept AS SELECT 1 AS a")
    assert new_view(con, "kept").op() == con.table("kept").op()
