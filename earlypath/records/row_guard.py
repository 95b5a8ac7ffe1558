"""A cheap test that must hold for a row before any of a set of conditions can: the guard of
the generated reading's problems' loop (`python_reading._Generator.problems`).

Most rows of a table raise none of its problems, yet each problem's condition reads its own
columns and tests them. The guard is an Or of small tests of one column or step each (a
column that is True, that is not None, ...), found in the conditions themselves by Kleene
logic: a row for which every one of them fails makes every condition other than True, so the
loop skips it without reading anything else. A condition with no such test (it could be True
whatever the row's columns say) leaves the loop without a guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from earlypath.records import ir as rir
from earlypath.rules import ir

__all__ = ["guard_tests"]


def _plain(e: Any) -> bool:
    """A column of the row or a step: read with one subscript or one local."""
    return isinstance(e, rir.Col | rir.Ctx)


def _atom(e: Any) -> bool:
    """A test small enough to be a guard's item: a column or step, its `IsNull`, its `Not`, or
    the `Not` of its `IsNull`."""
    if isinstance(e, ir.Not):
        e = e.item
    if isinstance(e, ir.IsNull):
        e = e.item
    return _plain(e)


def _known(e: Any) -> Any:
    """The test "``e`` is not Unknown" as an atom, or None when ``e`` is no column or step."""
    return ir.Not(ir.IsNull(e)) if _plain(e) else None


def necessary(e: Any) -> tuple[Any, ...] | None:
    """Atoms (`_atom`) one of which is True whenever ``e`` is True, in the order they are met;
    () when ``e`` is never True; None when no such atoms are known."""
    found = _necessary(e)
    return None if found is None else found[0]


# (the atoms, how many of them only say a compared value is known: an And prefers an item
# tested as it is, as "x == y" makes x known on every row whose x is never None, a ref)
_Found = tuple[tuple[Any, ...], int]


def _necessary(e: Any) -> _Found | None:  # noqa: PLR0911 - one case per node
    if isinstance(e, ir.Const):
        return None if e.value is True else ((), 0)
    if isinstance(e, ir.IsTrue):
        return _necessary(e.item)
    if isinstance(e, ir.And):  # True only when every item is: any item's atoms will do
        found = [n for n in map(_necessary, e.items) if n is not None]
        return min(found, key=lambda n: (n[1], len(n[0]))) if found else None
    if isinstance(e, ir.Or):  # True only when an item is: every item needs its atoms
        return _union([_necessary(i) for i in e.items])
    if isinstance(e, ir.If):  # its value is one of its branches'
        return _union([_necessary(e.then), _necessary(e.otherwise)])
    if _atom(e):
        return (e,), 0
    if isinstance(e, ir.Cmp):
        if e.op == "==" and isinstance(e.right, ir.Const) and e.right.value is True:
            return _necessary(e.left)  # "is it True" (`definition._is`)
        # a comparison is True only when both its sides are known
        side = _known(e.left) or _known(e.right)
        return None if side is None else ((side,), 1)
    return None


def _union(each: Sequence[_Found | None]) -> _Found | None:
    out: list[Any] = []
    weak = 0
    for found in each:
        if found is None:
            return None
        out += [a for a in found[0] if a not in out]
        weak += found[1]
    return tuple(out), weak


def guard_tests(conditions: Sequence[Any]) -> tuple[Any, ...] | None:
    """The atoms of a guard for these conditions (one of them True whenever any condition is),
    or None when a condition has none or the guard would test no fewer than the conditions."""
    found = _union([_necessary(c) for c in conditions])
    if found is None or len(found[0]) >= len(conditions):
        return None
    return found[0]
