"""The records engine runs the rule IR's nodes with the rules engine's own compiler
(`earlypath.engines.evaluate.compile_node`): each rule-IR node is compiled to Python in one place.
What a node means is tested once, by tests/records/node_cases.py on both paths; this test keeps a
second copy from coming back."""

from __future__ import annotations

import dataclasses

import pytest

from earlypath.engines import evaluate
from earlypath.fhir.codes import load_codes
from earlypath.records import ir as records_ir
from earlypath.records import python as engine
from earlypath.records.ir import Col, RowSpec
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


def test_every_node_of_both_irs_is_declared_one_way() -> None:
    """Each IR node (`ir.node`): a frozen dataclass with slots, read-only and compared by
    value; `Const` alone compares its value's type too (its own eq)."""
    for module in (ir, records_ir):
        for name in getattr(module, "__all__", None) or dir(module):
            cls = getattr(module, name)
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
                continue
            if cls.__module__ != module.__name__:
                continue
            params = getattr(cls, "__dataclass_params__")  # noqa: B009 - set by dataclass
            assert params.frozen and "__slots__" in vars(cls), name
            assert params.eq == (cls is not ir.Const), name


def test_a_spec_of_every_resource_is_one_whose_when_is_true() -> None:
    spec = RowSpec.every("t", "Patient", Col("id"), (("a", Col("a")),))
    assert spec == RowSpec("t", "Patient", ir.Const(True), Col("id"), (("a", Col("a")),))
