"""The reference evaluator's one-closure forms for a fact read against a constant (issue 16
speed) give exactly what the IR semantics say, Unknown (None) included."""

from __future__ import annotations

import datetime as dt
import math
import operator
from typing import Any

import pytest

from earlypath.engines.evaluate import compile_expr
from earlypath.rules import ir

CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
CMP |= {"==": operator.eq, "!=": operator.ne}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
NUMBERS = [None, 0, 1, 2.5, -3.0, 7, 100.25]


def unknown_or(a: Any, b: Any, op: Any) -> Any:
    return None if a is None or b is None else op(a, b)


@pytest.mark.parametrize("symbol", sorted(CMP))
@pytest.mark.parametrize("constant", [0, 2.5, 7])
def test_a_fact_compared_with_a_constant(symbol: str, constant: float) -> None:
    fn = compile_expr(ir.Cmp(symbol, ir.Fact("x", "float"), ir.Const(constant)))  # type: ignore[arg-type]
    assert fn.__name__ == "fact_op_const"  # the one-closure form is the one in use
    for x in NUMBERS:
        assert fn({"x": x}) == unknown_or(x, constant, CMP[symbol])


@pytest.mark.parametrize("symbol", sorted(ARITH))
def test_fact_arithmetic_with_a_constant(symbol: str) -> None:
    fn = compile_expr(ir.Arith(symbol, ir.Fact("x", "float"), ir.Const(4)))  # type: ignore[arg-type]
    assert fn.__name__ == "fact_op_const"
    for x in NUMBERS:
        got, want = fn({"x": x}), unknown_or(x, 4, ARITH[symbol])
        assert got == want and type(got) is type(want)


def test_a_constant_that_is_unknown_makes_the_comparison_unknown() -> None:
    fn = compile_expr(ir.Cmp("<", ir.Fact("x", "float"), ir.Const(None)))
    assert [fn({"x": x}) for x in NUMBERS] == [None] * len(NUMBERS)


def test_dates_compare_and_add_as_before() -> None:
    day = dt.date(2024, 3, 1)
    fn = compile_expr(ir.Cmp("<=", ir.Fact("d", "date"), ir.Const(day)))
    assert [fn({"d": d}) for d in (None, day, day + dt.timedelta(days=1))] == [None, True, False]


def test_a_fact_matched_negated_or_tested() -> None:
    match = compile_expr(ir.Match(ir.Fact("s", "str"), ("a", "b"), ("c",)))
    assert [match({"s": s}) for s in ("a", "b", "c", "d", None)] == [True, True, False, None, None]
    negated = compile_expr(ir.Not(ir.Fact("b", "bool")))
    assert [negated({"b": b}) for b in (True, False, None)] == [False, True, None]
    is_true = compile_expr(ir.IsTrue(ir.Fact("b", "bool")))
    assert [is_true({"b": b}) for b in (True, False, None)] == [True, False, False]
    is_null = compile_expr(ir.IsNull(ir.Fact("b", "bool")))
    assert [is_null({"b": b}) for b in (True, False, None)] == [False, False, True]


def test_a_missing_fact_is_an_error_as_before_never_unknown() -> None:
    for expr in (
        ir.Cmp("<", ir.Fact("x", "float"), ir.Const(1)),
        ir.Match(ir.Fact("s", "str"), ("a",), ("b",)),
        ir.Not(ir.Fact("b", "bool")),
        ir.IsTrue(ir.Fact("b", "bool")),
    ):
        with pytest.raises(KeyError):
            compile_expr(expr)({})


def test_other_shapes_keep_the_general_form() -> None:
    sqrt = compile_expr(ir.Sqrt(ir.Fact("x", "float")))
    assert sqrt({"x": 4.0}) == math.sqrt(4.0) and sqrt({"x": None}) is None
    both_facts = compile_expr(ir.Cmp("<", ir.Fact("x", "float"), ir.Fact("y", "float")))
    assert both_facts.__name__ == "cmp"
    assert both_facts({"x": 1, "y": 2}) is True and both_facts({"x": 1, "y": None}) is None
