"""The fused loop over an aggregate's rows (`python_source.fuse` with ``collect``): the same
items as the closures, and the closures' answer when the eager fused code raises on a row."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.records.aggregates import Scope
from earlypath.records.python_source import SKIP
from earlypath.rules import ir

A = ir.Arith("-", rir.Col("a"), ir.Const(1))  # raises on a text ``a``
# ``A`` is read twice, so the fused code computes it for every row, whatever the If chooses;
# the closures compute it only when ``ok`` is True.
VALUE = ir.If(ir.IsTrue(rir.Col("ok")), ir.Arith("+", A, A), ir.Const(None))
WHERE = ir.IsTrue(rir.Col("keep"))
ROWS = [
    {"ok": True, "a": 3, "keep": True},
    {"ok": False, "a": "text", "keep": True},
    {"ok": True, "a": 5, "keep": False},
    {"ok": True, "a": 7, "keep": True},
]


def _collect(fuse: bool, rows: list[dict[str, Any]]) -> tuple[list[Any], ...]:
    compiler = records._Compiler({}, records._State(), fuse)
    chosen = compiler.fused(
        [WHERE, VALUE, rir.Col("a"), WHERE, rir.Col("a")],
        "scope",
        groups=[(0, 3), (3, 5)],
        collect=True,
    )
    scope = Scope({})
    scope.row = {"outer": True}
    found = chosen(scope, rows)
    assert scope.row == {"outer": True}  # the row being read before is back
    return found


@pytest.mark.parametrize("rows", [ROWS, [r for r in ROWS if r["a"] != "text"], []])
def test_fused_rows_equal_closures(rows: list[dict[str, Any]]) -> None:
    assert _collect(True, rows) == _collect(False, rows)


def test_fused_rows_fall_back_on_the_closures_when_a_row_raises() -> None:
    first, second = _collect(True, ROWS)
    assert first == [(ROWS[0], 4, (3,)), (ROWS[1], None, ("text",)), (ROWS[3], 12, (7,))]
    assert second == [(ROWS[0], 3, ()), (ROWS[1], "text", ()), (ROWS[3], 7, ())]


# A resource's condition and columns in one function (``guarded``): SKIP unless the condition
# is True. ``NAMED`` is read by both, so the fused code computes it first, for every resource; on
# a text name it raises there (a text is not compared with a number), and the closures (which
# never read it when ``ok`` is not True) answer.
NAMED = ir.Cmp(">", rir.Field("name", "str"), ir.Const(0))
AGE = ir.Arith("-", rir.Field("age", "num"), ir.Const(1))
WHEN = ir.And((ir.IsTrue(rir.Field("ok", "bool")), ir.Not(ir.IsTrue(NAMED))))
RESOURCES = [
    {"ok": True, "age": 3},
    {"ok": False, "age": 1},
    {"ok": False, "age": 2, "name": "text"},
    {"age": 4},
]


def _guarded(fuse: bool, resource: dict[str, Any]) -> Any:
    compiler = records._Compiler({}, records._State(), fuse)
    row = compiler.fused([WHEN, AGE, NAMED], "json", names=("age", "named"), guarded=True)
    return row(resource)


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_guarded_row_equal_closures(resource: dict[str, Any]) -> None:
    assert _guarded(True, resource) == _guarded(False, resource)


def test_guarded_row_skips_unless_the_condition_is_true() -> None:
    assert _guarded(True, RESOURCES[0]) == {"age": 2, "named": None}
    assert [_guarded(True, r) for r in RESOURCES[1:]] == [SKIP, SKIP, SKIP]


def _flagged(fuse: bool, rows: list[dict[str, Any]]) -> Any:
    """The rows with a problem to report, as `records.python` finds them: any root True."""
    compiler = records._Compiler({}, records._State(), fuse)
    flagged = compiler.fused([WHERE, ir.IsNull(VALUE)], "scope", flags=True, collect=True)
    scope = Scope({})
    found = flagged(scope, rows)
    assert scope.row is None
    return found


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], ROWS[2:], []])
def test_flagged_rows_equal_closures(rows: list[dict[str, Any]]) -> None:
    assert _flagged(True, rows) == _flagged(False, rows)


def test_flagged_rows_fall_back_on_the_closures_when_a_row_raises() -> None:
    assert _flagged(True, ROWS) == (
        [
            (ROWS[0], (True, False)),
            (ROWS[1], (True, True)),
            (ROWS[3], (True, False)),
        ],
    )


class _Watched(dict):  # type: ignore[type-arg]
    """A resource that records which fields were read."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: list[str] = []

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.append(key)
        return super().get(key, default)


def test_guarded_row_reads_no_column_when_the_condition_is_not_true() -> None:
    # ``AGE`` is read by two columns, so it is a statement of its own: it is computed after the
    # condition, and only for a resource the condition keeps (most resources of a type are
    # not read at all: a weight, a blood pressure)
    compiler = records._Compiler({}, records._State(), True)
    row = compiler.fused(
        [ir.IsTrue(rir.Field("ok", "bool")), AGE, ir.Arith("*", AGE, ir.Const(2))],
        "json",
        names=("age", "twice"),
        guarded=True,
    )
    left_out, kept = _Watched({"ok": False, "age": 3}), _Watched({"ok": True, "age": 3})
    assert row(left_out) is SKIP
    assert left_out.read == ["ok"]
    assert row(kept) == {"age": 2, "twice": 4}
    assert kept.read == ["ok", "age"]
