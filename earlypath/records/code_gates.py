"""The value-set tests a column's value rests on: the generated reading's column gates.

An Observation's row holds some sixty columns, and most of them can only be set by a code:
the LMP day by an LMP code, the bleeding columns by a bleeding code, the hCG category by an
hCG code. With none of those codes, each such column is a constant (mostly None, sometimes
False), yet the generated source computed every column of every row. Here a column's
expression is folded with each value-set test it holds taken as False: when what is left is a
constant, the column has a gate, the tests that must all be False for it to be that constant,
and `python_reading` writes the column's source under one look at the concept's value sets
(``not sets.isdisjoint(names)``), the constant otherwise. The definition is not changed: the
same nodes, the same source when the gate is open.

A value-set test is False when none of its set's codes is among the concept's (`rir.InSet` of
a set without words: a word can match a text whatever the codes), and `rir.AtLeast` is None
then (its count reads the same codings: `python_source` already relies on it). The folding
follows the closures' semantics (`engines.node_source`): an And with a False item is False,
an Or with a True item True, an If on a known condition its branch, a Coalesce its first
known item; any other node of constants is computed by its own closure. A node that reads the
resource (a field, a join, an item's test) is never folded: a column reading one has no gate.
tests/records/test_code_gates.py holds the rows equal with and without gates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from earlypath.records import ir as rir
from earlypath.rules import ir

Fn = Callable[[Any], Any]

# A test of a concept's value sets: (the concept, the set's name).
Test = tuple[ir.Expr, str]

# Nodes computed from their children alone (no resource, row or step read): folded when their
# children are constants, by their closure.
_PURE = (
    ir.Cmp,
    ir.And,
    ir.Or,
    ir.Not,
    ir.Match,
    ir.IsNull,
    ir.IsTrue,
    ir.Arith,
    ir.Sqrt,
    ir.Floor,
    ir.DaysBetween,
    ir.AddDays,
    ir.Coalesce,
    ir.If,
    rir.InSet,
    rir.TextInSet,
    rir.AtLeast,
    rir.FirstCode,
    rir.Day,
    rir.SpanDay,
    rir.NormText,
    rir.NhsNumber,
    rir.OneOf,
    rir.Lookup,
    rir.Round2,
    rir.RefId,
    rir.LocalId,
    rir.Left,
)


@dataclasses.dataclass(frozen=True)
class Gate:
    """A column's gate: when every test is False, the column's value is ``value``."""

    tests: frozenset[Test]
    value: Any


def gate_of(e: ir.Expr, has_words: Callable[[str], bool], closure: Fn) -> Gate | None:
    """The gate of the column ``e``, or None when no set of its value-set tests taken as False
    makes it a constant. ``has_words``: does the named value set match words too;
    ``closure``: a node's closure (the reference), to compute a node of constants."""
    tests: set[Test] = set()
    folded = _Folder(has_words, closure, tests).fold(e)
    if not isinstance(folded, ir.Const) or not tests:
        return None
    return Gate(frozenset(tests), folded.value)


class _Folder:
    def __init__(self, has_words: Callable[[str], bool], closure: Fn, tests: set[Test]):
        self.has_words = has_words
        self.closure = closure
        self.tests = tests  # the value-set tests taken as False so far

    def fold(self, e: ir.Expr) -> ir.Expr:  # noqa: PLR0911 - one case per node kind
        if isinstance(e, ir.Const) or not isinstance(e, _PURE):
            return e
        if isinstance(e, rir.InSet) and not isinstance(e.concept, ir.Const):
            if self.has_words(e.value_set):
                return e
            self.tests.add((e.concept, e.value_set))
            return ir.Const(False)
        if isinstance(e, rir.AtLeast) and not isinstance(e.concept, ir.Const):
            # a count only of a coding in the set: None when none of its codes is there
            self.tests.add((e.concept, e.value_set))
            return ir.Const(None)
        if isinstance(e, ir.If):
            (cond,), if_tests = self.apart([e.cond])
            if isinstance(cond, ir.Const):  # the closures: the then branch only when True
                self.tests |= if_tests
                return self.fold(e.then if cond.value is True else e.otherwise)
            (then, otherwise), tests = self.apart([e.then, e.otherwise])
            self.tests |= tests
            if isinstance(then, ir.Const) and then == otherwise:
                return then  # whatever the condition: its tests are not needed
            self.tests |= if_tests
            return ir.If(cond, then, otherwise)
        if isinstance(e, ir.And | ir.Or):
            # the first False (And) or True (Or) decides, whatever the items around it: the
            # tests of the deciding item with the fewest are enough
            stop = isinstance(e, ir.Or)
            folded = [self.apart([c]) for c in e.items]
            deciding = [t for (i,), t in folded if isinstance(i, ir.Const) and i.value is stop]
            if deciding:
                self.tests |= min(deciding, key=len)
                return ir.Const(stop)
            for _, t in folded:
                self.tests |= t
            items = [i for (i,), _ in folded]
        else:
            items = [self.fold(c) for c in ir.children(e)]
        if isinstance(e, ir.Coalesce):
            # the first item not None; the last whatever it is
            while len(items) > 1 and isinstance(items[0], ir.Const) and items[0].value is None:
                items.pop(0)
            if len(items) == 1 or (isinstance(items[0], ir.Const) and items[0].value is not None):
                return items[0]
            return ir.Coalesce(tuple(items))
        if all(isinstance(i, ir.Const) for i in items):
            return self.computed(_rebuilt(e, items))
        return e

    def apart(self, nodes: list[ir.Expr]) -> tuple[list[ir.Expr], set[Test]]:
        """The nodes folded, and the tests taken as False for them (not yet this folder's)."""
        part = _Folder(self.has_words, self.closure, set())
        return [part.fold(x) for x in nodes], part.tests

    def computed(self, e: ir.Expr) -> ir.Expr:
        """A node of constants as its value, by its closure; the node itself should it raise
        (the column then has no gate)."""
        try:
            value = self.closure(e)(None)
        except Exception:  # noqa: BLE001 - a node that raises on these constants: not folded
            return e
        return ir.Const(value)


def _rebuilt(e: ir.Expr, items: list[ir.Expr]) -> ir.Expr:
    """``e`` with its children (`ir.children`'s order) replaced by ``items``."""
    given = iter(items)
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(e):  # type: ignore[arg-type]
        value = getattr(e, field.name)
        if isinstance(value, ir.Expr):
            changes[field.name] = next(given)
        elif isinstance(value, tuple):
            changes[field.name] = tuple(next(given) if isinstance(v, ir.Expr) else v for v in value)
    return dataclasses.replace(e, **changes)  # type: ignore[type-var]
