"""The fused loop over an aggregate's rows (`python_source.fuse` with ``collect``): the same
items as the closures, and the closures' answer when the eager fused code raises on a row."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.records.aggregates import Scope
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
