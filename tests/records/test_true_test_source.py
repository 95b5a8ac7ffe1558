"""Conditions written as tests in the fused source (`python_source._Source.true_test`,
thirteenth CDS pass): where a value is only asked whether it is True (`IsTrue`, an `If`'s
condition, a row spec's condition, an aggregate's or a problem's `where`), its Unknown is not
computed; a JSON field asked only whether it is absent is not read into its value first.

The same answers as the closures on generated conditions and resources, and the shorter source."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.records.python_source import _count_uses, _Source
from earlypath.rules import ir

NUM, FLAG, TEXT, ANY = (
    rir.Field("a", "num"),
    rir.Field("b", "bool"),
    rir.Field("c", "str"),
    rir.Field("d.e", "any"),
)
CONCEPT = rir.Concept("code")

leaves = st.sampled_from(
    [
        FLAG,
        ir.IsNull(NUM),
        ir.IsNull(TEXT),
        ir.IsNull(ANY),
        ir.IsNull(CONCEPT),
        ir.Const(True),
        ir.Const(False),
        ir.Const(None),
        ir.Cmp("<", NUM, ir.Const(3)),
        ir.Cmp(">=", NUM, NUM),
        ir.Cmp("==", TEXT, ir.Const("x")),
        ir.Cmp("!=", FLAG, ir.Const(None)),
        ir.IsTrue(FLAG),
    ]
)


def _grow(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(ir.And),
        pairs.map(ir.Or),
        st.tuples(children, children, children).map(lambda t: ir.And(t)),
        children.map(ir.Not),
        children.map(ir.IsTrue),
        children.map(ir.IsNull),
        st.tuples(children, children, children).map(lambda t: ir.If(*t)),
    )


conditions = st.recursive(leaves, _grow, max_leaves=8)
json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.sampled_from(["x", "y", ""]),
    st.just({}),
    st.just([]),
)
resources = st.fixed_dictionaries(
    {},
    optional={
        "a": json_values,
        "b": json_values,
        "c": json_values,
        "d": st.one_of(json_values, st.fixed_dictionaries({"e": json_values})),
        "code": json_values,
    },
)


def _values(fused: bool, roots: list[Any], resource: dict[str, Any]) -> Any:
    compiler = records._Compiler({}, records._State(), fused)
    return compiler.fused(roots, "json")(resource)


@settings(max_examples=150, deadline=None)
@given(conditions, st.lists(resources, min_size=1, max_size=4))
def test_conditions_equal_the_closures(condition: Any, listed: list[dict[str, Any]]) -> None:
    # the condition as a value, asked whether it holds, and as an If's condition (shared
    # sub-expressions too: the condition is read twice)
    roots = [condition, ir.IsTrue(condition), ir.If(condition, ir.Const(1), ir.Const(2))]
    for resource in listed:
        ours, theirs = _values(True, roots, resource), _values(False, roots, resource)
        assert ours == theirs
        assert [type(v) for v in ours] == [type(v) for v in theirs]


def _source(root: Any) -> str:
    helpers = records._Compiler({}, records._State(), True).helpers()
    source = _Source("json", helpers, lambda e: None, _count_uses([root]))
    return source.ref(root)[0] + "\n".join(source.lines)


def test_a_condition_asked_whether_it_holds_has_no_unknown() -> None:
    held = ir.IsTrue(ir.And((ir.Cmp("<", NUM, ir.Const(3)), ir.Or((FLAG, ir.Not(FLAG))))))
    text = _source(held)
    assert "None if" not in text and "is None else" not in text, text


def test_a_field_asked_whether_it_is_absent_is_not_read_into_its_value() -> None:
    # (the node, its test, its value as the source first wrote it)
    for field, test, value in (
        (TEXT, "is not str", "is str else None"),
        (NUM, "is not int", "is float) else None"),
        (ANY, "is None", "else True"),
        (CONCEPT, "is not dict", "is dict else None"),
    ):
        text = _source(ir.IsNull(field))
        assert test in text and value not in text, text
