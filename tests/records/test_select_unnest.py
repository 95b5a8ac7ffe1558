"""`earlypath.records.select_unnest`: inside `unnests_in_select`, DuckDB's unnest of a list is a
select-list ``UNNEST`` (no lateral join for DuckDB to decorrelate and rewrite), with the same
columns and rows as the ``CROSS JOIN UNNEST`` ibis writes: a row an item, none for an empty or
NULL list; an unnest keeping empty lists or numbering its items is as ibis writes it. The
reading's DuckDB plan is compiled so (`test_plan_cache.py`)."""

from __future__ import annotations

import re
from typing import Any

import ibis
import pytest

from earlypath.records.select_unnest import unnests_in_select
from earlypath.records.sql_star import columns_as_star


@pytest.fixture(scope="module")
def con() -> Any:
    con = ibis.duckdb.connect()
    rows = {
        "k": [1, 2, 3, 4, 5],
        "xs": [[1, 2, 2], [], None, [None, 5], [7]],
        "cs": [
            [{"system": "s", "code": "a"}, {"system": None, "code": "b"}],
            None,
            [],
            [{"system": "s", "code": None}],
            [None],
        ],
    }
    con.create_table("t", ibis.memtable(rows))
    return con


def _named(sql: str) -> str:
    """``sql`` without the names ibis draws afresh for each compile."""
    return re.sub(r"ibis_table_unnest_\w+", "u", sql)


def _run(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.raw_sql(sql)
    names = [d[0] for d in cursor.description]
    return names, sorted(cursor.fetchall(), key=repr)


def _unnests(con: Any) -> dict[str, Any]:
    t = con.table("t")
    renamed = t.select("k", ys=t.xs)
    return {
        "ints": t.unnest("xs"),
        "structs": t.filter(t.cs.length() > 0).unnest("cs"),
        "renamed": renamed.unnest("ys"),
        "read after": t.unnest("cs").mutate(code=ibis._.cs.code).filter(ibis._.k > 1),
        "counted": t.unnest("xs").group_by("k").agg(n=ibis._.xs.count()),
    }


@pytest.mark.parametrize("star", [False, True])
def test_a_select_list_unnest_gives_the_same_columns_and_rows(con: Any, star: bool) -> None:
    for name, table in _unnests(con).items():
        with columns_as_star(star):
            lateral = str(con.compile(table))
            with unnests_in_select():
                selected = str(con.compile(table))
        assert "CROSS JOIN UNNEST" in lateral, name
        assert "CROSS JOIN" not in selected and "UNNEST(" in selected, name
        assert _run(con, selected) == _run(con, lateral), name


def test_an_unnest_keeping_empty_lists_or_numbering_items_is_as_ibis_writes_it(con: Any) -> None:
    t = con.table("t")
    for table in (t.unnest("xs", keep_empty=True), t.unnest("xs", offset="i")):
        with unnests_in_select():
            inside = str(con.compile(table))
        assert _named(inside) == _named(str(con.compile(table)))
        assert " JOIN UNNEST(" in inside


def test_outside_the_context_the_unnest_is_as_ibis_writes_it(con: Any) -> None:
    table = con.table("t").unnest("xs")
    with unnests_in_select(False):
        off = str(con.compile(table))
    assert "CROSS JOIN UNNEST" in off
    assert _named(off) == _named(str(con.compile(table)))


def test_each_rewrite_hands_ibis_the_arguments_it_gave_even_ones_it_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Written as ibis writes it, a visit gets ibis's keyword arguments whole: an argument a
    newer ibis adds reaches ibis's own method, and the list is not written out again here
    (`earlypath.records.compile_switch`)."""
    from earlypath.records import select_unnest, sql_star

    handed: dict[str, dict[str, Any]] = {}

    def recorder(name: str) -> Any:
        def visit(self: Any, op: Any, **kw: Any) -> str:
            handed[name] = kw
            return name

        return visit

    for module, attribute in (
        (select_unnest, "_table_unnest"),
        (sql_star, "_select"),
        (sql_star, "_join_chain"),
    ):
        monkeypatch.setattr(module, attribute, recorder(attribute))
    unnest = dict(parent=1, column=2, column_name="c", offset=None, keep_empty=False, new=3)
    select = dict(parent=1, selections={}, predicates=(), qualified=None, sort_keys=(), new=3)
    select["distinct"] = False
    chain = dict(first=1, rest=(), values={}, new=3)
    with unnests_in_select(False), columns_as_star(False):
        assert select_unnest._visit_table_unnest(None, None, **unnest) == "_table_unnest"
        assert sql_star._visit_select(None, None, **select) == "_select"
        assert sql_star._visit_join_chain(None, None, **chain) == "_join_chain"
    assert handed == {"_table_unnest": unnest, "_select": select, "_join_chain": chain}
