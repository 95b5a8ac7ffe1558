"""A concept's value sets, once at hand, answer what they can (fourteenth CDS pass,
`python_source._Source.code`): the "at least n" count of a history set (`rir.AtLeast`) is read
from the codings only for a concept in that set (its sets say so), and the sets are found by
`json_values.sets_of` itself, with no function of ours around it.

The same values as the closures on generated concepts, and the shorter source."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.fhir.codes import load_codes
from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.records.python_source import _count_uses, _Source

CODE = rir.Concept("code")
HISTORY = rir.AtLeast(CODE, "miscarriage_history")
# the concept read as sets too (so its sets are a statement of their own), and alone
ROOTS = [rir.InSet(CODE, "bleeding"), rir.InSet(CODE, "miscarriage_history"), HISTORY]

_codes = load_codes()
_listed = sorted(_codes["miscarriage_history"].codes)[:12] + sorted(_codes["bleeding"].codes)[:4]
_keys = st.one_of(
    st.sampled_from(_listed),
    st.tuples(st.sampled_from(["http://snomed.info/sct", "x", ""]), st.sampled_from(["1", "O03"])),
)
_codings = st.one_of(
    _keys.map(lambda k: {"system": k[0], "code": k[1]}),
    st.sampled_from([{}, {"code": "N96"}, {"system": 1, "code": "N96"}, "text", None, 3]),
)
concepts = st.one_of(
    st.lists(_codings, max_size=4).map(lambda listed: {"coding": listed}),
    st.sampled_from([None, "text", [], {}, {"coding": "x"}, {"coding": None}, {"text": "a"}]),
)


_SHAPES = (ROOTS, [HISTORY], [rir.InSet(CODE, "bleeding"), HISTORY])
_state = records._State()
# each shape's fused function and its closures, compiled once
_functions = [
    tuple(records._Compiler(_codes, _state, fused).fused(roots, "json") for fused in (True, False))
    for roots in _SHAPES
]


@settings(max_examples=150, deadline=None)
@given(concepts)
def test_history_counts_equal_the_closures(concept: Any) -> None:
    resource = {"code": concept}
    for ours_fn, theirs_fn in _functions:
        _state.begin({})  # the closures keep a concept's sets per reading
        ours, theirs = ours_fn(resource), theirs_fn(resource)
        assert ours == theirs
        assert [type(v) for v in ours] == [type(v) for v in theirs]


def _source(roots: list[Any]) -> str:
    helpers = records._Compiler(_codes, records._State(), True).helpers()
    source = _Source("json", helpers, lambda e: None, _count_uses(roots))
    outs = [source.ref(root)[0] for root in roots]
    return "\n".join([*source.lines, *outs])


def test_a_concept_in_no_history_set_is_not_counted() -> None:
    text = _source(ROOTS)
    # the count is asked only under the test of the sets already computed
    assert "if 'miscarriage_history' in " in text, text
    assert "None if" not in text.split("\n")[-1], text


def test_the_sets_are_found_without_a_function_of_ours() -> None:
    helpers = records._Compiler(_codes, records._State(), True).helpers()
    assert helpers["SETS_OF"].__module__ == "earlypath.records.json_values"
    assert "SETS_OF(" in _source(ROOTS) and ", BY_KEY)" in _source(ROOTS)
