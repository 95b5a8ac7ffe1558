"""Every IR node compiles to ibis and gives the reference evaluator's value, Unknowns included."""

from __future__ import annotations

import datetime as dt
import inspect

import ibis
import pyarrow as pa
import pytest

from earlypath.engines.evaluate import compile_expr as reference
from earlypath.engines.ibis_compile import IR_TYPES, compile_expr, type_of, types_by_node
from earlypath.rules import ir

A = ir.Fact("a", "int")
X = ir.Fact("x", "float")
B = ir.Fact("b", "bool")
C = ir.Fact("c", "bool")
S = ir.Fact("s", "str")
D = ir.Fact("d", "date")
E = ir.Fact("e", "date")

ROWS = [
    {"a": a, "x": x, "b": b, "c": c, "s": s, "d": d, "e": e}
    for a, x, b, c, s, d, e in [
        (0, 0.0, True, True, "intrauterine", dt.date(2024, 1, 1), dt.date(2024, 3, 1)),
        (1, 7.0, False, None, "ectopic", dt.date(2024, 2, 29), dt.date(2024, 2, 1)),
        (None, None, None, False, "unknown", None, dt.date(2021, 11, 24)),
        (16, 84.0, None, None, None, dt.date(2019, 4, 17), None),
        (-3, 42.25, True, False, "other", dt.date(2023, 8, 23), dt.date(2023, 8, 23)),
    ]
]

EXPRS = {
    "fact": A,
    "const": ir.Const(3),
    "const_none_in_if": ir.If(B, X, ir.Const(None)),
    "cmp": [A.lt(1), A.le(1), A.gt(0), A.ge(16), A.eq(1), A.ne(1), S.eq("ectopic"), D.lt(E)],
    "and": B & C,
    "or": B | C,
    "and3": ir.all_of(B, C, A.ge(1)),
    "or3": ir.any_of(B, C, A.ge(1)),
    "not": ~B,
    "match": ir.Match(S, ("intrauterine",), ("ectopic",)),
    "match_empty_false": ir.Match(S, ("intrauterine", "other"), ()),
    "isnull": ir.IsNull(X),
    "istrue": ir.IsTrue(C),
    "arith": [A + 1, A - 2, 3 * X, X / 2.0, A * A, X + A],
    "sqrt": ir.Sqrt(X),
    "floor": ir.Floor(8.052 * ir.Sqrt(X) + 23.73 + 0.5),
    "days_between": ir.DaysBetween(D, E),
    "add_days": ir.AddDays(D, A),
    "coalesce": ir.Coalesce((ir.Const(None), X, ir.Const(1.5))),
    "if": ir.If(B & C, A, A + 100),
}


def _flat():
    for name, value in EXPRS.items():
        for i, e in enumerate(value if isinstance(value, list) else [value]):
            yield f"{name}-{i}", e


CASES = list(_flat())
FACTS = (A, X, B, C, S, D, E)
SCHEMA = pa.schema([(f.name, ibis.dtype(IR_TYPES[f.type]).to_pyarrow()) for f in FACTS])


@pytest.mark.parametrize(("name", "expr"), CASES, ids=[n for n, _ in CASES])
def test_node_matches_reference_on_duckdb(name: str, expr: ir.Expr) -> None:
    t = ibis.memtable(pa.Table.from_pylist(ROWS, schema=SCHEMA))
    value = compile_expr(expr, t, type_of(expr) or "float")
    got = ibis.duckdb.connect().to_pyarrow(t.select(v=value)).column("v").to_pylist()
    want = [reference(expr)(row) for row in ROWS]
    assert got == want


def test_every_ir_node_has_a_rule() -> None:
    nodes = [
        c
        for _, c in inspect.getmembers(ir, inspect.isclass)
        if issubclass(c, ir.Expr) and c is not ir.Expr
    ]
    covered = {type(e) for _, e in CASES}
    assert set(nodes) <= covered, set(nodes) - covered


def test_a_node_of_a_fixed_type_is_listed_under_one_type() -> None:
    """The nodes whose type is fixed are a table (`types_by_node`, used by the rule IR and the
    records IR alike): a node listed under two types is refused, not typed by the last."""
    assert types_by_node({"bool": (ir.Not,), "int": (ir.Floor,)}) == {
        ir.Not: "bool",
        ir.Floor: "int",
    }
    with pytest.raises(ValueError, match="Floor is listed as int and float"):
        types_by_node({"int": (ir.Floor,), "float": (ir.Sqrt, ir.Floor)})
    assert [type_of(e) for e in (ir.Not(B), ir.Floor(X), ir.AddDays(D, A))] == [
        "bool",
        "int",
        "date",
    ]


def test_const_none_without_context_is_refused() -> None:
    with pytest.raises(TypeError):
        compile_expr(ir.Const(None), lambda name: ibis.literal(1))


def test_gestation_on_crl_rounding_edges_matches_reference() -> None:
    # CRLs a hair either side of whole-day edges of floor(8.052 * sqrt(crl) + 23.73 + 0.5).
    import math

    from earlypath.dating import CRL_GESTATION_DAYS

    crls = []
    for day in range(30, 99):
        edge = ((day - 0.5 - 23.73) / 8.052) ** 2
        crls += [edge, math.nextafter(edge, 0.0), math.nextafter(edge, 200.0)]
    rows = [
        {
            "dating_crl_mm": c,
            "dating_scan_date": dt.date(2024, 1, 1),
            "assessed_on": dt.date(2024, 1, 15),
        }
        for c in crls
    ]
    t = ibis.memtable(pa.Table.from_pylist(rows))
    got = ibis.duckdb.connect().to_pyarrow(t.select(v=compile_expr(CRL_GESTATION_DAYS, t)))
    assert got.column("v").to_pylist() == [reference(CRL_GESTATION_DAYS)(r) for r in rows]
