"""`Matcher.count` (`rir.AtLeast`), written out for speed, gives what its definition says: the
count of the first coding in the set (`first_key`), 1 when the set names none, None when no
coding is in the set."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.codes import CodeSet
from earlypath.records.json_values import Matcher

S = "http://snomed.info/sct"
CODES = CodeSet("history", frozenset({(S, "1"), (S, "2"), ("", "3")}), (), {(S, "2"): 3})
CONCEPTS: list[Any] = [
    None,
    "text",
    {},
    {"coding": "x"},
    {"coding": []},
    {"coding": [None, 5, {"system": S, "code": "9"}]},
    {"coding": [{"system": S, "code": "1"}]},
    {"coding": [{"system": S, "code": "2"}, {"system": S, "code": "1"}]},
    {"coding": ["x", {"system": S, "code": "9"}, {"system": S, "code": "2"}]},
    {"coding": [{"code": "3"}]},  # no system: read as the empty text
    {"coding": [{"system": 7, "code": "3"}]},
    {"coding": [{"system": S, "code": 1}]},
]


def _by_definition(matcher: Matcher, concept: Any) -> int | None:
    key = matcher.first_key(concept)
    return None if key is None else matcher.at_least.get(key, 1)


@pytest.mark.parametrize("concept", CONCEPTS, ids=repr)
def test_count_as_defined(concept: Any) -> None:
    matcher = Matcher(CODES)
    assert matcher.count(concept) == _by_definition(matcher, concept)


def test_count_values() -> None:
    matcher = Matcher(CODES)
    assert [matcher.count(c) for c in CONCEPTS[6:10]] == [1, 3, 3, 1]
