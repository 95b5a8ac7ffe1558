"""The fused loop over an aggregate's rows (`python_source.fuse` with ``collect``): the same
items as the closures, and the closures' answer when the eager fused code raises on a row."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.codes import CodeSet
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


class _Watched(dict[str, Any]):
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


# A condition that is True only when the code is in a value set: a resource whose codes are in
# none of the sets it needs is SKIP after a look at its codes (`python_source._needs`).
_CODES = {
    "scan": CodeSet("scan", frozenset({("http://loinc.org", "11636-8")})),
    "finding": CodeSet("finding", frozenset({("http://snomed.info/sct", "1")})),
    "worded": CodeSet("worded", frozenset({("http://snomed.info/sct", "2")}), ("bleeding",)),
}
_CODE = rir.Concept("code")
_VALUE = rir.Concept("valueCodeableConcept")
_FINAL = ir.IsTrue(ir.Cmp("==", rir.Field("status", "str"), ir.Const("final")))


def _row(fuse: bool, when: ir.Expr, resource: dict[str, Any]) -> Any:
    state = records._State()
    state.begin({})  # as a reading begins (the closures note each concept's sets there)
    compiler = records._Compiler(_CODES, state, fuse)
    size = rir.Field("valueQuantity.value", "num")
    row = compiler.fused(
        [when, size, ir.Arith("*", size, ir.Const(2))], "json", names=("mm", "twice"), guarded=True
    )
    return row(resource)


_NEEDS_A_SET = ir.And((_FINAL, ir.Or((rir.InSet(_CODE, "scan"), rir.InSet(_VALUE, "finding")))))
_WORDED = ir.And((_FINAL, rir.InSet(_CODE, "worded")))
_NO_SET = ir.Or((_FINAL, rir.InSet(_CODE, "scan")))  # True without any set: no early answer


def _observation(system: str, code: str, **more: Any) -> dict[str, Any]:
    return {
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}], "text": more.pop("text", "")},
        "valueQuantity": {"value": 3},
        **more,
    }


_OBSERVATIONS = [
    _observation("http://loinc.org", "11636-8"),
    _observation("http://loinc.org", "29463-7"),  # a weight: in no set
    _observation(
        "http://loinc.org",
        "29463-7",
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
    ),
    _observation("http://loinc.org", "29463-7", text="vaginal bleeding"),
    {**_observation("http://loinc.org", "11636-8"), "status": "draft"},
    {"status": "final", "code": "not a concept", "valueQuantity": {"value": "text"}},
]


@pytest.mark.parametrize("when", [_NEEDS_A_SET, _WORDED, _NO_SET], ids=["sets", "words", "none"])
@pytest.mark.parametrize("resource", _OBSERVATIONS, ids=repr)
def test_a_look_at_the_codes_gives_the_closures_answer(when: ir.Expr, resource: dict) -> None:
    assert _row(True, when, resource) == _row(False, when, resource)


def test_a_resource_in_none_of_the_sets_needed_is_skipped_after_its_codes() -> None:
    weight = _Watched(_observation("http://loinc.org", "29463-7"))
    assert _row(True, _NEEDS_A_SET, weight) is SKIP
    assert sorted(set(weight.read)) == ["code", "valueCodeableConcept"]  # not even its status
    scan = _Watched(_observation("http://loinc.org", "11636-8"))
    assert _row(True, _NEEDS_A_SET, scan) == {"mm": 3, "twice": 6}
    # a set with words can match the text whatever the codes: the condition decides
    worded = _Watched(_observation("http://loinc.org", "29463-7", text="vaginal bleeding"))
    assert _row(True, _WORDED, worded) == {"mm": 3, "twice": 6}
    assert "status" in worded.read
