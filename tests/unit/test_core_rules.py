"""The IR, the evaluator, dating and decision-table semantics."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from earlypath.dating import GESTATION_DAYS, display, parse_display, robinson_days
from earlypath.engines.evaluate import compile_expr
from earlypath.engines.tables import verdict_value
from earlypath.rules.decision import Verdict
from earlypath.rules.ir import And, Const, Fact, Match, Not, Or, facts_in

A, B = Fact("a", "bool"), Fact("b", "bool")
TV = (True, False, None)


def kleene_and(x, y):
    if x is False or y is False:
        return False
    if x is None or y is None:
        return None
    return True


def kleene_or(x, y):
    if x is True or y is True:
        return True
    if x is None or y is None:
        return None
    return False


@pytest.mark.parametrize(("x", "y"), list(itertools.product(TV, TV)))
def test_kleene_truth_tables(x, y) -> None:
    facts = {"a": x, "b": y}
    assert compile_expr(And((A, B)))(facts) is kleene_and(x, y)
    assert compile_expr(Or((A, B)))(facts) is kleene_or(x, y)
    assert compile_expr(Not(A))(facts) is (None if x is None else not x)


def test_comparison_with_unknown_is_unknown() -> None:
    n = Fact("n", "int")
    assert compile_expr(n.ge(1))({"n": None}) is None
    assert compile_expr(n.ge(1))({"n": 0}) is False


def test_match_keeps_unknown_codes_unknown() -> None:
    loc = Match(Fact("loc", "str"), ("intrauterine",), ("ectopic",))
    f = compile_expr(loc)
    assert [f({"loc": v}) for v in ("intrauterine", "ectopic", "unknown", None)] == [
        True,
        False,
        None,
        None,
    ]


def test_const_true_is_not_const_one() -> None:
    # True == 1 in Python; a cache keyed by expressions must still keep them apart.
    assert Const(True) != Const(1) and Const(0) != Const(0.0) and Const(1) == Const(1)
    assert compile_expr(Const(1))({}) == 1 and compile_expr(Const(True))({}) is True


def test_facts_in_lists_each_fact_once() -> None:
    assert [f.name for f in facts_in(And((A, Or((B, A)))))] == ["a", "b"]


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("all_true", [True, True], True),
        ("all_true", [True, None], None),
        ("all_true", [False, None], False),
        ("any_true", [False, None], None),
        ("any_true", [True, None], True),
        ("any_false", [True, None], None),
        ("any_false", [False, None], True),
        ("any_false", [True, True], False),
    ],
)
def test_verdict_modes(mode, values, expected) -> None:
    assert verdict_value(Verdict("x", mode, (), ()), values) is expected


def test_robinson_formula_and_rounding() -> None:
    # 8.052 * sqrt(9.5) + 23.73 = 48.55... -> 49 days (7+0)
    assert round(robinson_days(9.5), 2) == 48.55
    g = compile_expr(GESTATION_DAYS)
    day = dt.date(2024, 3, 4)
    base = {"assessed_on": day, "dating_scan_date": day, "lmp": None}
    assert g({**base, "dating_crl_mm": 9.5}) == 49
    assert g({**base, "assessed_on": day + dt.timedelta(days=10), "dating_crl_mm": 9.5}) == 59
    assert g({**base, "dating_crl_mm": None}) is None
    assert g({**base, "dating_crl_mm": None, "lmp": day - dt.timedelta(days=30)}) == 30


def test_display_round_trip() -> None:
    assert display(112) == "16+0" and display(111) == "15+6" and parse_display("16+6") == 118
