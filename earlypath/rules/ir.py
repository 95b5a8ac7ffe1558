"""The rule IR: frozen, engine-neutral expressions with three-valued logic.

``None`` is Unknown. Comparisons, arithmetic and dates propagate Unknown; ``And``/``Or``/``Not``
follow Kleene logic (False AND Unknown is False; True OR Unknown is True), which is also SQL's
NULL logic, so the batch engines can compile these nodes directly. ``If`` takes the ``else``
branch when its condition is Unknown, as SQL's CASE does: use it only for derived values, never
to decide a clinical question.

Nothing in this module evaluates anything: see ``earlypath.engines``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, TypeVar, dataclass_transform

FactType = Literal["bool", "int", "float", "date", "str"]
Scalar = bool | int | float | str | dt.date | None

_Node = TypeVar("_Node")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def node(cls: type[_Node]) -> type[_Node]:
    """Declare a node of an IR (this module's and `earlypath.records.ir`'s), once for both: a
    dataclass, frozen (a node is a value, compared and hashed by its fields, never changed once
    built: every engine reads the same tree) and with slots (a reading has thousands of them)."""
    return dataclass(frozen=True, slots=True)(cls)


class Expr:
    """Base of every IR node. Operators build new nodes, so rules read like arithmetic."""

    __slots__ = ()

    def __and__(self, other: Expr) -> Expr:
        return And((self, other))

    def __or__(self, other: Expr) -> Expr:
        return Or((self, other))

    def __invert__(self) -> Expr:
        return Not(self)

    def __add__(self, other: Expr | float) -> Expr:
        return Arith("+", self, lit(other))

    def __sub__(self, other: Expr | float) -> Expr:
        return Arith("-", self, lit(other))

    def __mul__(self, other: Expr | float) -> Expr:
        return Arith("*", self, lit(other))

    def __rmul__(self, other: float) -> Expr:
        return Arith("*", lit(other), self)

    def __truediv__(self, other: Expr | float) -> Expr:
        return Arith("/", self, lit(other))

    def lt(self, other: Expr | Scalar) -> Expr:
        return Cmp("<", self, lit(other))

    def le(self, other: Expr | Scalar) -> Expr:
        return Cmp("<=", self, lit(other))

    def gt(self, other: Expr | Scalar) -> Expr:
        return Cmp(">", self, lit(other))

    def ge(self, other: Expr | Scalar) -> Expr:
        return Cmp(">=", self, lit(other))

    def eq(self, other: Expr | Scalar) -> Expr:
        return Cmp("==", self, lit(other))

    def ne(self, other: Expr | Scalar) -> Expr:
        return Cmp("!=", self, lit(other))


def lit(value: Expr | Scalar) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


@node
class Fact(Expr):
    """A named fact about the episode (see ``earlypath.facts``); ``None`` when unknown."""

    name: str
    type: FactType


@dataclass(frozen=True, slots=True, eq=False)
class Const(Expr):
    value: Scalar

    # Type-aware equality: Const(True) must not equal Const(1) (Python says True == 1), or a
    # cache keyed by expressions would hand one the other's compiled code.
    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Const)
            and type(other.value) is type(self.value)
            and other.value == self.value
        )

    def __hash__(self) -> int:
        return hash((Const, type(self.value), self.value))


@node
class Cmp(Expr):
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    left: Expr
    right: Expr


@node
class And(Expr):
    items: tuple[Expr, ...]


@node
class Or(Expr):
    items: tuple[Expr, ...]


@node
class Not(Expr):
    item: Expr


@node
class Match(Expr):
    """True if the value is one of ``true_values``, False if one of ``false_values``, else Unknown.

    Lets a coded value carry its own "don't know" (a scan whose location is "unknown").
    """

    item: Expr
    true_values: tuple[str, ...]
    false_values: tuple[str, ...]


@node
class IsNull(Expr):
    """True when the value is Unknown; never itself Unknown."""

    item: Expr


@node
class IsTrue(Expr):
    """True only when the value is True (False or Unknown give False); never itself Unknown."""

    item: Expr


@node
class Arith(Expr):
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr


@node
class Sqrt(Expr):
    item: Expr


@node
class Floor(Expr):
    """Round down to a whole number (an int)."""

    item: Expr


@node
class DaysBetween(Expr):
    """Whole days from ``start`` to ``end`` (end - start)."""

    start: Expr
    end: Expr


@node
class AddDays(Expr):
    date: Expr
    days: Expr


@node
class Coalesce(Expr):
    """The first known value."""

    items: tuple[Expr, ...]


@node
class If(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr


def all_of(*items: Expr) -> Expr:
    return And(tuple(items))


def any_of(*items: Expr) -> Expr:
    return Or(tuple(items))


def children(node: Expr) -> list[Expr]:
    """The expressions directly inside a node (its slots, and the items of tuple slots)."""
    out: list[Expr] = []
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name, None)
        if isinstance(value, Expr):
            out.append(value)
        elif isinstance(value, tuple):
            out += [v for v in value if isinstance(v, Expr)]
    return out


def facts_in(expr: Expr) -> tuple[Fact, ...]:
    """Every distinct fact an expression reads, in first-seen order."""
    seen: dict[str, Fact] = {}

    def walk(node: Expr) -> None:
        if isinstance(node, Fact):
            seen.setdefault(node.name, node)
            return
        for child in children(node):
            walk(child)

    walk(expr)
    return tuple(seen.values())
