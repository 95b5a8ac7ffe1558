"""The fast JSON encoder writes exactly what json.dumps wrote before it (issue 16).

Every JSON output (CLI `assess`, `assess --many`, `/api/assess`) goes through
`earlypath.json_text`; these tests hold it byte for byte to
``json.dumps(data, ensure_ascii=False, separators=(",", ":"))``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import assess, parse_episode_json
from earlypath.guideline.pathway import PathwayPolicy
from earlypath.json_text import dumps, dumps_bytes
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def same(data: Any) -> None:
    want = reference(data)
    assert dumps(data) == want
    assert dumps_bytes(data) == want.encode("utf-8")


@SETTINGS
@given(episodes(), st.booleans())
def test_assessments_of_generated_episodes_are_byte_identical(episode: dict, other: bool) -> None:
    policies = (
        (Policy(stop_at="16+6", preferred_product="cyclogest"), PathwayPolicy("rewrite-unverified"))
        if other
        else (Policy(), PathwayPolicy())
    )
    same(assess(episode, *policies))


def test_assessments_of_the_benchmark_episodes_are_byte_identical() -> None:
    for text in generate(1500, seed=3):
        assessment = assess(parse_episode_json(text))
        same(assessment)
        same({"example": "x.json", "assessment": assessment})


def test_an_assessment_with_tiny_measurements_is_byte_identical() -> None:
    # A crown-rump length of 0.00001 mm: orjson alone would write 0.00001, json.dumps 1e-05.
    for crl in (0.00001, 0.0000012, 0.000099, 0.0001, 1e-9, 2.5e-10):
        episode = {
            "assessed_on": "2024-03-01",
            "lmp": "2024-01-10",
            "scans": [
                {"date": "2024-02-28", "location": "intrauterine", "crl_mm": crl, "msd_mm": crl}
            ],
            "hcg": [
                {"taken_at": "2024-02-20T08:00:00", "iu_per_l": crl},
                {"taken_at": "2024-02-22T08:00:00.036", "iu_per_l": 12000},
            ],
        }
        assessment = assess(episode)
        same(assessment)
        assert str(crl) in reference(assessment)


@pytest.mark.parametrize(
    "value",
    [
        # Floats at every decade, both signs, and the forms orjson writes differently.
        *[m * 10.0**e for e in range(-325, 308, 3) for m in (1.0, -2.5, 7.123456789012345)],
        1e-05,
        1e-07,
        -8.881655491687359e-05,
        4.102715977440973e-06,
        0.0001,
        1e16,
        -0.0,
        0.1 + 0.2,
        5e-324,
        1.7976931348623157e308,
        # Integers at and beyond 64 bits (orjson refuses the latter: json.dumps writes them).
        2**63 - 1,
        -(2**63),
        2**64 - 1,
        2**64,
        -(2**64),
        10**30,
        # Text: escapes, control characters, DEL, line separators, non-ASCII, emoji.
        '\x00\x01\x1f\x7f\b\f\n\r\t"\\/',
        "\u2028\u2029",
        "é ñ ü — “quotes” 16⁺⁶ 😀 中文",
        "1e-05 and 0.00001 in text",
        # Containers: tuples as lists, key order kept, keys that are not text.
        (1, (2, [3, {"b": 1, "a": 2}])),
        {"z": 1, "a": {"y": [None, True, False]}},
        {1: "one", 2.5: "two and a half", False: "no", None: "none"},
        {},
        [],
        "",
    ],
)
def test_edge_values_are_byte_identical(value: Any) -> None:
    same(value)
    same({"value": value, "list": [value, value]})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_any_json_value_is_byte_identical(value: Any) -> None:
    same(value)


def test_what_json_dumps_refuses_is_refused() -> None:
    for value in (dt.date(2024, 1, 1), {"when": dt.datetime(2024, 1, 1)}, {1, 2}, object()):
        with pytest.raises(TypeError):
            reference(value)
        with pytest.raises(TypeError):
            dumps(value)
