"""The problems' loop of the generated reading tests each run of problems under its guard (stop
38, `row_guard`, `python_reading._Generator.guarded_runs`): small tests of one column or step,
one of which holds whenever a problem of the run does, so a row that raises none skips the
run's reads and tests. What the loop reports is unchanged (the agreement tests of
`test_generated_reading.py`); here: the guards are sound for every problem of the definition,
and a row without problems costs fewer lines than the table has problems."""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.fhir.codes import load_codes
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records.aggregates import Scope
from earlypath.records.definition import READING
from earlypath.records.row_guard import guard_tests, necessary
from earlypath.rules import ir
from tests.integration import fhir_data as f
from tests.records.test_generated_reading import _generated, _same

A, B = rir.Col("a"), rir.Col("b")
S = rir.Ctx("step")


def test_an_and_is_guarded_by_an_item_tested_as_it_is() -> None:
    # "a == step" makes a known, a weak guard where a is never None (a row's ref)
    e = ir.And((ir.Cmp("==", A, S), ir.Not(ir.IsNull(B))))
    assert necessary(e) == (ir.Not(ir.IsNull(B)),)
    # only a comparison: its column known
    assert necessary(ir.Cmp("==", A, ir.Const("x"))) == (ir.Not(ir.IsNull(A)),)


def test_an_or_needs_a_guard_for_every_item() -> None:
    assert necessary(ir.Or((A, ir.IsTrue(B)))) == (A, B)
    assert necessary(ir.Or((A, ir.Cmp("<", ir.Arith("+", A, B), ir.Const(1))))) is None
    # a branch that is never True adds nothing; one always True leaves no guard
    assert necessary(ir.If(S, A, ir.Const(False))) == (A,)
    assert necessary(ir.If(S, A, ir.Const(True))) is None


def test_no_guard_when_it_would_test_as_much_as_the_conditions() -> None:
    assert guard_tests([A, B]) is None
    assert guard_tests([ir.And((A, B)), ir.And((A, S))]) == (A,)
    assert guard_tests([A, ir.Or((A, ir.Cmp(">", ir.Arith("+", A, B), ir.Const(1))))]) is None


def _reads(e: Any) -> tuple[list[str], list[str], list[Any]]:
    """The columns, steps and constants an expression reads."""
    cols: list[str] = []
    steps: list[str] = []
    consts: list[Any] = []
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, rir.Col) and node.name not in cols:
            cols.append(node.name)
        elif isinstance(node, rir.Ctx) and node.name not in steps:
            steps.append(node.name)
        elif isinstance(node, ir.Const) and node.value not in consts:
            consts.append(node.value)
        stack += ir.children(node)
    return cols, steps, consts


_GUARDED = [p for p in READING.problems if necessary(p.where)]
_CLOSURES = engine._Compiler(load_codes(), engine._State(), fuse=False)
_DAYS = [dt.date(2026, 11, 20), dt.date(2026, 12, 1), dt.date(2026, 12, 2)]


def _forced_false(atom: Any, values: list[Any], rnd: random.Random) -> tuple[Any, Any]:
    """(the column or step an atom tests, a value drawn that makes the atom other than True)."""
    negated = isinstance(atom, ir.Not)
    inner = atom.item if negated else atom
    if isinstance(inner, ir.IsNull):
        known = [v for v in values if v is not None]
        return inner.item, None if negated else rnd.choice(known)
    return inner, rnd.choice([None, True] if negated else [None, False])


def test_no_problem_of_the_reading_holds_where_its_guard_fails() -> None:
    """For each guarded problem, rows and steps drawn (a seeded draw, the same each run) from
    unknown, the booleans, a few days and the problem's own constants, then each of its
    guard's tests made to fail: the reference (the closures) must say the problem does not
    hold. The draws make each problem hold on some rows (counted)."""
    assert len(_GUARDED) > 25  # the clinical rows' problems, most of them guarded
    rnd = random.Random(38)
    held = 0
    for p in _GUARDED:
        cols, steps, consts = _reads(p.where)
        kinds = [[None, True, False], _DAYS, [0, 3, 12.5, "x", *consts]]
        atoms = necessary(p.where)
        for _ in range(300):
            row = {name: rnd.choice(rnd.choice(kinds)) for name in cols}
            ctx = {"assessed_on": dt.date(2026, 12, 1), "encounter": rnd.choice([None, "e1"])}
            ctx |= {name: rnd.choice(rnd.choice(kinds)) for name in steps if name not in ctx}
            scope = Scope(ctx, row=row)
            try:
                held += _CLOSURES.expr(p.where)(scope) is True
                for atom in atoms:
                    target, value = _forced_false(atom, [v for k in kinds for v in k], rnd)
                    (row if isinstance(target, rir.Col) else ctx)[target.name] = value
                if any(_CLOSURES.expr(a)(scope) is True for a in atoms):
                    continue  # a column tested twice, made True by another atom's value
                holds = _CLOSURES.expr(p.where)(scope) is True
            except (TypeError, AttributeError):  # values of types no row has together
                continue
            assert not holds, (p.message, row, ctx)
    assert held > 10 * len(_GUARDED), held  # the draws reach the problems


def _problem_loop_lines() -> tuple[int, int]:
    """The first and last line (1-based, in the generated source) of the problems' loop over the
    clinical rows."""
    lines = _generated().source.split("\n")
    start = max(i for i, line in enumerate(lines) if line == "    for row in rows_clinical:")
    end = start + 1
    while lines[end].startswith("        "):
        end += 1
    return start + 1, end


def test_a_row_without_problems_runs_fewer_lines_than_there_are_problems() -> None:
    resources = f.eligible_resources()
    today = dt.date(2026, 12, 1)
    _same(resources, today, None, None)  # as the closures read it
    values, problems, _ = _generated()(resources, today, None, None)
    assert problems == []
    first, last = _problem_loop_lines()
    counted = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal counted
        if frame.f_code.co_name != "reading":
            return None
        if event == "line" and first < frame.f_lineno <= last:
            counted += 1
        return tracer

    previous = sys.gettrace()  # a debugger's or coverage's, given back after
    sys.settrace(tracer)
    try:
        _generated()(resources, today, None, None)
    finally:
        sys.settrace(previous)
    clinical = sum(1 for p in READING.problems if p.table == "clinical")
    rows = len(resources)
    assert counted < rows * clinical, (counted, rows, clinical)
