"""The records engine runs the rule IR's nodes with the rules engine's own compiler
(`earlypath.engines.evaluate.compile_node`): each rule-IR node is compiled to Python in one place.
What a node means is tested once, by tests/records/node_cases.py on both paths; this test keeps a
second copy from coming back."""

from __future__ import annotations

import pytest

from earlypath.engines import evaluate
from earlypath.fhir.codes import load_codes
from earlypath.records import python as engine
from earlypath.records.ir import Col
from earlypath.rules import ir

A, B = Col("a"), Col("b")
NODES: tuple[ir.Expr, ...] = (
    ir.Const(1),
    ir.Cmp("<", A, B),
    ir.And((A, B)),
    ir.Or((A, B)),
    ir.Not(A),
    ir.Match(A, ("y",), ("n",)),
    ir.IsNull(A),
    ir.IsTrue(A),
    ir.Arith("+", A, B),
    ir.Sqrt(A),
    ir.Floor(A),
    ir.DaysBetween(A, B),
    ir.AddDays(A, B),
    ir.Coalesce((A, B)),
    ir.If(A, A, B),
)


def _compiler() -> engine._Compiler:
    return engine._Compiler(load_codes(), engine._State(), fuse=False)


def test_every_rule_node_kind_is_listed() -> None:
    """A new rule-IR node is added to NODES (and so is checked below)."""
    # by name: a slots dataclass leaves its first class behind among the subclasses
    kinds = {cls.__name__ for cls in ir.Expr.__subclasses__() if cls.__module__ == ir.__name__}
    assert kinds - {"Fact"} == {type(node).__name__ for node in NODES}


@pytest.mark.parametrize("node", NODES, ids=[type(n).__name__ for n in NODES])
def test_rule_node_compiles_to_the_rules_engine_closure(node: ir.Expr) -> None:
    compiled = _compiler().expr(node)
    reference = evaluate.compile_node(node, lambda sub: lambda env: None)
    assert compiled.__code__ is reference.__code__


def test_a_fact_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="gestation_days"):
        _compiler().expr(ir.Fact("gestation_days", "int"))
