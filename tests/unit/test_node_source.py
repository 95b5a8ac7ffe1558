"""One writer of a rules-IR node's Python source (`earlypath.engines.node_source`): both
generators, the records engine's fused functions and the pathway's section keys, give the
closures' answers on the nodes where they used to be written apart (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.engines.evaluate import compile_expr
from earlypath.engines.fused import expr_function
from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.rules import ir

A, B = rir.Field("a", "num"), rir.Field("b", "num")
# items that are numbers, not bools: the closures' And/Or decide on ``is False``/``is True``
# only, so a 0 decides nothing (the records engine's fused And once read it as False)
LOGIC = [ir.And((A, B)), ir.Or((A, B)), ir.Not(ir.And((A, B)))]
RESOURCES = [{"a": 0, "b": 1}, {"a": 0, "b": 0}, {"a": 1}, {"b": 0}, {}, {"a": 2.5, "b": 0.0}]


def _records(fuse: bool, expr: ir.Expr, resource: dict[str, Any]) -> Any:
    compiler = records._Compiler({}, records._State(), fuse)
    return compiler.fused([expr], "json", single=True)(resource)


@pytest.mark.parametrize("expr", LOGIC, ids=repr)
@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_records_fused_logic_on_numbers_equals_the_closures(
    expr: ir.Expr, resource: dict[str, Any]
) -> None:
    assert _records(True, expr, resource) == _records(False, expr, resource)


X, Y = ir.Fact("x", "int"), ir.Fact("y", "int")
SHAPES = [
    ir.And((X, Y)),
    ir.Or((X, Y)),
    ir.Cmp("<", X, ir.Const(3)),
    ir.Cmp("<", ir.Const(None), X),
    ir.Arith("-", ir.Const(3), X),
    ir.Coalesce((X,)),
    ir.Coalesce((X, Y, ir.Const(7))),
    ir.If(ir.Cmp(">", X, Y), X, Y),
]
FACTS = [{"x": x, "y": y} for x in (None, 0, 1, 5) for y in (None, 0, 2)]


@pytest.mark.parametrize("expr", SHAPES, ids=repr)
def test_section_key_source_equals_the_closures(expr: ir.Expr) -> None:
    fn, closure = expr_function(expr), compile_expr(expr)
    for facts in FACTS:
        assert fn(facts) == closure(facts), facts
