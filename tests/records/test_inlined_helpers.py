"""The helpers written into the generated reading's text (`earlypath.records.inlined_helpers`):
the text defines each under the name it calls, and that definition (exec'd, or run by the
compiled build) answers as the `json_values` function it was written from."""

from __future__ import annotations

from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.fhir import mapping
from earlypath.records import inlined_helpers, native
from earlypath.records import python as engine
from earlypath.records.json_values import sets_of

LOINC = "http://loinc.org"
BY_KEY = {
    (LOINC, "1"): frozenset({"a"}),
    (LOINC, "2"): frozenset({"b", "c"}),
    ("", "3"): frozenset({"d"}),
    (LOINC, ""): frozenset(),
}
CONCEPTS: list[dict[str, Any]] = [
    {},
    {"coding": None},
    {"coding": "1"},
    {"coding": {"system": LOINC, "code": "1"}},
    {"coding": []},
    {"coding": [None, 1, "x", []]},
    {"coding": [{"system": LOINC, "code": "1"}]},
    {"coding": [{"system": LOINC, "code": "1"}, {"system": LOINC, "code": "2"}]},
    {"coding": [{"system": LOINC, "code": "2"}, {"system": LOINC, "code": "9"}]},
    {"coding": [{"code": "3"}, {"system": 7, "code": "3"}, {"system": LOINC, "code": 1}]},
    {"coding": [{"system": LOINC}, {"system": LOINC, "code": "1"}]},
]


def _execd() -> Any:
    names: dict[str, Any] = dict(inlined_helpers.GLOBALS)
    (text,) = inlined_helpers.helpers_for("SETS_OF(concept, BY_KEY)")
    exec(compile(text, "<inlined helper>", "exec"), names)  # noqa: S102 - our own source
    return names["SETS_OF"]


@pytest.mark.parametrize("concept", CONCEPTS, ids=range(len(CONCEPTS)))
def test_the_exec_d_helper_answers_as_sets_of(concept: dict[str, Any]) -> None:
    assert _execd()(concept, BY_KEY) == sets_of(concept, BY_KEY)


def test_the_reading_text_defines_the_helpers_it_calls() -> None:
    text = engine._compile_spec(mapping.READING).generated.source
    # defined first, then called by the row functions
    assert text.startswith("def SETS_OF(concept, by_key):")
    assert text.count("SETS_OF(") > 1


def test_the_compiled_helper_answers_as_sets_of() -> None:
    reading = engine._compile_spec(mapping.READING).generated
    if not reading.compiled:
        pytest.skip("no build of the CDS reading (make install builds it)")
    module, _ = native._bound[native.source_hash(reading.source)]
    compiled = module.__dict__["SETS_OF"]
    assert compiled is not sets_of
    for concept in CONCEPTS:
        assert compiled(concept, BY_KEY) == sets_of(concept, BY_KEY)
