"""The audit's indented JSON (summary.json, measure-report.json) is written by orjson where it
gives json.dumps(..., indent=2)'s bytes, and by json.dumps wherever the two may differ
(`earlypath.json_text.dumps_indented`, issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.json_text import dumps_indented


class Colour(enum.Enum):
    RED = "red"


class Word(enum.StrEnum):
    OFFER = "offer"


@dataclasses.dataclass
class Pair:
    a: int
    b: str


def same(data: Any, default: Any = None) -> None:
    assert dumps_indented(data, default=default) == json.dumps(data, indent=2, default=default)


@pytest.mark.parametrize(
    "value",
    [
        # The floats orjson writes otherwise (1e-05 as 0.00001, 1e-07 as 1e-7), and others.
        1e-05,
        1e-07,
        -8.881655491687359e-05,
        0.0001,
        0.00012,
        1e16,
        1e22,
        -0.0,
        0.1 + 0.2,
        # Exponents of two or three digits (written alike: orjson writes them).
        2.710505431213761e-20,
        -1.5e-10,
        1e-100,
        5e-324,
        1.7976931348623157e308,
        # NaN and infinity: json.dumps writes NaN / Infinity, orjson null.
        math.nan,
        math.inf,
        -math.inf,
        [1.0, {"rate": math.nan}],
        # Integers beyond 64 bits (orjson refuses them), keys that are not text.
        2**64,
        -(2**64),
        {1: "one", 2.5: "x", False: "no", None: "none"},
        # Text beyond ASCII (json.dumps escapes it), escapes, numbers in text.
        "é — “quotes” 😀 中文",
        '\x00\x1f\x7f\n\t"\\/',
        "1e-05 and 0.00001 and 2e-7 in text",
        # Containers: empty ones, tuples, subclasses (a str enum).
        {"a": [], "b": {}, "c": (1, (2, [3]))},
        {"decision": Word.OFFER},
        [],
        {},
        "",
    ],
)
def test_edge_values_are_json_dumps_text(value: Any) -> None:
    same(value)
    same({"value": value, "list": [value, value]})


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2024, 1, 1),
        {"when": dt.datetime(2024, 1, 1, 8, 30)},
        {"path": Path("/tmp/x")},
        {"pair": Pair(1, "b")},
        {"colour": Colour.RED},
    ],
)
def test_what_json_dumps_passes_to_default_is_passed(value: Any) -> None:
    same(value, default=str)
    with pytest.raises(TypeError):
        dumps_indented(value)  # no default: refused, as json.dumps refuses it


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_value_is_json_dumps_text(value: Any) -> None:
    same(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e-9, max_value=1e-9, allow_nan=False) | st.floats(1e-320, 1e-3))
def test_small_floats_are_json_dumps_text(value: float) -> None:
    same({"ci95_low": value, "list": [value]})


def test_an_audit_summary_with_a_limit_of_2_7e_20_is_written_by_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """summary.json holds the exact lower limit of a rate of 0 (2.710505431213761e-20): written
    by orjson (before stop 24 it went through json.dumps's pure-Python encoder)."""
    import earlypath.json_text as json_text

    data = {"rate": 0.0, "ci95_low": 2.710505431213761e-20, "ci95_high": 0.036}
    expected = json.dumps(data, indent=2)

    def refused(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("written by json.dumps")

    monkeypatch.setattr(json_text.json, "dumps", refused)
    assert dumps_indented(data) == expected
