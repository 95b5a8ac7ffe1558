"""The Python source of one rules-IR node: the single writer both source generators use.

`earlypath.engines.fused` (a pathway section's key function) and `earlypath.records.
python_source` (the records engine's fused row and step functions) each turn IR expressions
into one Python function. What a rules-IR node means (Unknown is ``None``, Kleene logic, each
operand computed once and in the order of the closures of `earlypath.engines.evaluate`) is
written here; each generator keeps only what is its own: how a fact, a column or a JSON field
is read, how constants are held, which nodes are shared as statements.

A generator passes ``sub``, which gives for a sub-expression the pair (the source that computes
it, the source that reads it again after that): the two are the same name when the value is
already at hand (a fact's local, a constant, a shared statement), else ``(v := ...)`` and
``v``. The source written here computes ``first`` before it reads ``again``, and computes an
operand only when the closures would (the right of a comparison once the left is known, the
items of an And/Or until one decides, one branch of a Coalesce at a time).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from earlypath.rules import ir

__all__ = ["SourceNames", "Sub", "node_source"]

Sub = Callable[[ir.Expr], tuple[str, str]]  # a sub-expression -> (first, again)

_OPS = frozenset(["<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/"])


class SourceNames:
    """The names a generated function reads: constants (``k0``, ``k1``... in ``names``, with
    whatever the generator put there first) and new temporaries (``prefix`` and a number)."""

    def __init__(self, names: dict[str, Any], prefix: str) -> None:
        self.names = names
        self.prefix = prefix
        self.count = 0

    def const(self, value: Any) -> str:
        """The name holding ``value``; None, True and False are written as they are."""
        if value is None or value is True or value is False:
            return repr(value)
        name = f"k{len(self.names)}"
        self.names[name] = value
        return name

    def fresh(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count}"


def _known(e: ir.Expr) -> bool:
    """A constant other than None: no test for Unknown needed."""
    return isinstance(e, ir.Const) and e.value is not None


def _both_known(sub: Sub, left: ir.Expr, right: ir.Expr, combine: str) -> str:
    """Unknown unless both operands are known, else ``combine`` (``{a}``, ``{b}``) of them; the
    right operand is computed only when the left is known."""
    (fa, a), (fb, b) = sub(left), sub(right)
    tests = [f"{f} is None" for f, x in ((fa, left), (fb, right)) if not _known(x)]
    value = combine.format(a=a, b=b)
    if not tests:
        return f"({value})"
    return f"(None if {' or '.join(tests)} else {value})"


def _kleene(sub: Sub, e: ir.And | ir.Or) -> str:
    """The first item that is False (And) or True (Or) decides; else Unknown if any item was,
    else the other value. Items after the deciding one are not computed. ``is`` tests, as the
    closures make them: a value that is neither a bool nor None decides nothing."""
    stop, other = ("False", "True") if isinstance(e, ir.And) else ("True", "False")
    refs = [sub(item) for item in e.items]
    text = f"(None if {' or '.join(f'{again} is None' for _, again in refs)} else {other})"
    for first, _ in reversed(refs):
        text = f"({stop} if {first} is {stop} else {text})"
    return text


def node_source(  # noqa: C901, PLR0911 - one case per IR node
    e: ir.Expr, sub: Sub, const: Callable[[Any], str]
) -> str | None:
    """A Python expression (in parentheses) computing ``e`` with the closures' semantics, its
    sub-expressions by ``sub`` and constants by ``const`` (a value -> the name that holds it).
    None for a node with no rule here: facts, constants and the generator's own nodes are the
    generator's to read."""
    if isinstance(e, ir.Cmp | ir.Arith) and e.op in _OPS:
        return _both_known(sub, e.left, e.right, "{a} " + e.op + " {b}")
    if isinstance(e, ir.And | ir.Or):
        return _kleene(sub, e)
    if isinstance(e, ir.Not):
        first, again = sub(e.item)
        return f"(None if {first} is None else not {again})"
    if isinstance(e, ir.Match):
        (first, again), yes = sub(e.item), const(frozenset(e.true_values))
        no = const(frozenset(e.false_values))
        return f"(True if {first} in {yes} else False if {again} in {no} else None)"
    if isinstance(e, ir.IsNull):
        return f"({sub(e.item)[0]} is None)"
    if isinstance(e, ir.IsTrue):
        return f"({sub(e.item)[0]} is True)"
    if isinstance(e, ir.Sqrt | ir.Floor):
        (first, again), fn = sub(e.item), const(math.sqrt if isinstance(e, ir.Sqrt) else math.floor)
        return f"(None if {first} is None else {fn}({again}))"
    if isinstance(e, ir.DaysBetween):
        return _both_known(sub, e.start, e.end, "({b} - {a}).days")
    if isinstance(e, ir.AddDays):
        return _both_known(sub, e.date, e.days, "{a} + " + const(dt.timedelta) + "(days={b})")
    if isinstance(e, ir.Coalesce):
        # the first item not None; the last item's value whatever it is
        refs = [sub(item) for item in e.items]
        if not refs:
            return "None"
        text = refs[-1][0]
        for first, again in reversed(refs[:-1]):
            text = f"({again} if {first} is not None else {text})"
        return text if len(refs) > 1 else f"({text})"
    if isinstance(e, ir.If):
        # the condition first, then one branch only
        cond, then, otherwise = sub(e.cond)[0], sub(e.then)[0], sub(e.otherwise)[0]
        return f"({then} if {cond} is True else {otherwise})"
    return None
