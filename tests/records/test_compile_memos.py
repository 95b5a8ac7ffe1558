"""`compile_memos.memoised_ibis_walks`: ibis's ``complexity`` and ``DerefMap``'s mappings
and ``Relation.fields`` remembered per node give ibis's own answers, the same SQL, and ibis's functions come back."""

from __future__ import annotations

import ibis
import ibis.expr.operations as ops
from ibis.backends.sql import rewrites as sql_rewrites
from ibis.expr.rewrites import DerefMap

from earlypath.records.compile_memos import memoised_ibis_walks


def _stacked() -> ibis.Table:
    """Selects stacked on a join, a column used twice and a random (impure) one."""
    t = ibis.table({"a": "int64", "b": "string", "c": "float64"}, name="t")
    u = ibis.table({"a": "int64", "d": "string"}, name="u")
    x = t.mutate(e=t.a + 1, f=t.b.upper())
    x = x.mutate(g=x.e * x.e, h=x.f.length())
    x = x.filter(x.g > 2).mutate(r=ibis.random())
    j = x.join(u, x.a == u.a).select(x.a, x.g, x.h, u.d, x.r)
    return j.mutate(k=j.g + j.h).filter(j.d.notnull()).select("a", "k", "d")


def test_the_remembered_complexity_is_ibis_s_for_every_node() -> None:
    expr = _stacked()
    nodes = list(expr.op().find(lambda _: True))
    assert len(nodes) > 20
    ibis_s = [sql_rewrites.complexity(n) for n in nodes]
    with memoised_ibis_walks():
        mine = [sql_rewrites.complexity(n) for n in reversed(nodes)][::-1]
        again = [sql_rewrites.complexity(n) for n in nodes]
    assert mine == ibis_s == again


def test_the_sql_is_the_same_and_ibis_s_functions_come_back() -> None:
    complexity, fill = sql_rewrites.complexity, DerefMap._fill_substitution_mappings
    fields = ops.Relation.__dict__["fields"]
    con = ibis.duckdb.connect()
    plain = con.compile(_stacked())
    with memoised_ibis_walks():
        with memoised_ibis_walks():  # (nested: the outer memos kept)
            inner = sql_rewrites.complexity
            remembered = [con.compile(_stacked()) for _ in range(2)]
        assert sql_rewrites.complexity is inner
    assert remembered == [plain, plain]
    assert sql_rewrites.complexity is complexity
    assert DerefMap._fill_substitution_mappings is fill
    assert ops.Relation.__dict__["fields"] is fields


def test_a_relation_s_remembered_fields_are_ibis_s() -> None:
    rels = list(_stacked().op().find(ops.Relation))
    ibis_s = [dict(r.fields) for r in rels]
    with memoised_ibis_walks():
        mine = [r.fields for r in rels]
        assert all(r.fields is m for r, m in zip(rels, mine, strict=True))
    assert [dict(m) for m in mine] == ibis_s
