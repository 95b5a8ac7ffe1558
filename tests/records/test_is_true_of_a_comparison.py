"""Whether a comparison is True, in the fused and generated source (`python_source._Source.
true_test`, eighteenth CDS pass): `definition._is(x, True)` is `IsTrue(Cmp("==", x, True))`;
where ``x`` can only be True, False or None (a comparison, a test never Unknown, a JSON
boolean) it is written as ``x``'s own test, not as ``x``'s value (None when a side is unknown)
compared with True; `_is(x, False)` as ``x is False``. A number is left as it was: Python's
``1 == True`` holds, and the closures say so.

The same answers as the closures on generated conditions and resources, and the shorter source."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.fhir import mapping
from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.rules import ir
from tests.records.test_true_test_source import _source  # one expression's generated source

NUM, FLAG, TEXT = rir.Field("a", "num"), rir.Field("b", "bool"), rir.Field("c", "str")

# what is compared with True or False: true/false/None-only nodes, and a number and a text
# (which are not: their comparison must stay Python's ==)
compared = st.sampled_from(
    [
        ir.Cmp("<", NUM, ir.Const(3)),
        ir.Cmp("==", TEXT, ir.Const("x")),
        ir.Cmp(">=", NUM, NUM),
        FLAG,
        ir.IsNull(TEXT),
        ir.IsTrue(FLAG),
        ir.And((FLAG, ir.Cmp("<", NUM, ir.Const(1)))),
        ir.Or((ir.IsNull(NUM), FLAG)),
        ir.Not(ir.Cmp("!=", TEXT, ir.Const("y"))),
        NUM,
        TEXT,
        ir.Const(None),
    ]
)
asked = st.tuples(compared, st.sampled_from([True, False])).map(
    lambda t: ir.Cmp("==", t[0], ir.Const(t[1]))
)
json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 4),
    st.floats(-2, 4, allow_nan=False),
    st.sampled_from(["x", "y", ""]),
    st.just({}),
)
resources = st.fixed_dictionaries(
    {}, optional={"a": json_values, "b": json_values, "c": json_values}
)


def _values(fused: bool, roots: list[Any], resource: dict[str, Any]) -> Any:
    compiler = records._Compiler({}, records._State(), fused)
    return compiler.fused(roots, "json")(resource)


@settings(max_examples=200, deadline=None)
@given(asked, st.lists(resources, min_size=1, max_size=4))
def test_is_it_true_equals_the_closures(condition: Any, listed: list[dict[str, Any]]) -> None:
    # asked as a test (IsTrue, an If's condition, a Not of its test) and as a value
    roots = [
        ir.IsTrue(condition),
        ir.If(condition, ir.Const(1), ir.Const(2)),
        ir.Not(ir.IsTrue(condition)),
        condition,
    ]
    for resource in listed:
        ours, theirs = _values(True, roots, resource), _values(False, roots, resource)
        assert ours == theirs
        assert [type(v) for v in ours] == [type(v) for v in theirs]


def test_a_comparison_asked_whether_it_is_true_is_its_own_test() -> None:
    text = _source(ir.IsTrue(ir.Cmp("==", ir.Cmp("<", NUM, ir.Const(3)), ir.Const(True))))
    assert "== True" not in text and "None if" not in text, text


def test_a_boolean_asked_whether_it_is_false_is_tested_with_is() -> None:
    text = _source(ir.IsTrue(ir.Cmp("==", FLAG, ir.Const(False))))
    assert "is False" in text and "== False" not in text, text


def test_a_number_compared_with_true_keeps_pythons_equality() -> None:
    # 1 == True in Python (and in the closures): not narrowed to `is True`
    text = _source(ir.IsTrue(ir.Cmp("==", NUM, ir.Const(True))))
    assert "== True" in text, text


def test_the_readings_own_body_compares_no_value_with_true() -> None:
    # the steps and problems of the definition ask `_is(comparison, True)` a dozen times a
    # clinical row (a date before another, a ref that is the first evidence)
    source = records._compile_spec(mapping.READING).generated.source  # type: ignore[union-attr]
    body = source[source.index("\ndef reading(") :]
    assert "== True" not in body
