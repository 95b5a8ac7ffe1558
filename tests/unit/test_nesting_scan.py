"""The C nesting scan (`digit_runs.nests_deeper`, built from digit_runs.c) answers exactly as the
walk over orjson's value (`limits._values_too_deep`) for every body orjson parses, and
`RequestLimits` answers alike with either."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.web import digit_runs, limits

LIMIT = 64


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes, int], bool]:
    """The C scan, built from the C text here (gcc, as `make install` does)."""
    found = digit_runs.load_nesting(digit_runs.build(tmp_path_factory.mktemp("nesting")))
    assert found is not None
    return found


def walked(raw: bytes, limit: int) -> bool:
    return limits._values_too_deep(orjson.loads(raw), limit)


def nested(depth: int, inner: str = "1", keys: str = "k") -> bytes:
    """``depth`` containers, arrays and objects in turn, around ``inner``."""
    text = inner
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"{keys}": {text}}}'
    return text.encode()


SHAPES = {
    "plain": "1",
    "brackets-in-string": '"[[[{{{"',
    "closing-in-string": '"]]]}}}"',
    "escaped-quote": '"a\\"[[[[\\"b"',
    "escaped-backslash": '"a\\\\"',
    "backslash-then-quote-then-brackets": '["\\\\", "[["]',
    "unicode": '"é€😀 \\u005b\\u007b [ {"',
    "empty-containers": "[[], {}, [[]], {}]",
}


def depth(value: Any) -> int:
    if type(value) is list:
        return 1 + max((depth(v) for v in value), default=0)
    if type(value) is dict:
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_scan_and_walk_agree_at_the_limit(
    scan: Callable[[bytes, int], bool], shape: str, offset: int
) -> None:
    # keys with brackets, a quote and a backslash escaped
    raw = nested(LIMIT + offset, SHAPES[shape], keys='[{\\"\\\\k')
    real = depth(orjson.loads(raw))
    for limit in (real - 1, real, real + 1, LIMIT):
        assert scan(raw, limit) is walked(raw, limit) is (real > limit)


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"{}",
        b"1",
        b'"[[[["',
        b" \n[ [ ] ]\t",
        b'{"[": {"{": ["\\"", "\\\\", "\\\\\\"["]}}',
        '{"键[": ["値{", {"😀": []}]}'.encode(),
        b'["\\ud83d\\ude00", "\\/", "\\b\\f\\n\\r\\t"]',
    ],
)
@pytest.mark.parametrize("limit", [0, 1, 2, 3])
def test_scan_and_walk_agree_on_small_bodies(
    scan: Callable[[bytes, int], bool], raw: bytes, limit: int
) -> None:
    assert scan(raw, limit) is walked(raw, limit)


@pytest.mark.parametrize("backslashes", range(6))
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_a_run_of_backslashes_before_a_quote_ends_the_string_by_its_parity(
    scan: Callable[[bytes, int], bool], backslashes: int, limit: int
) -> None:
    # the scan finds a string's end by its next quote and counts the backslashes before it:
    # an even run ends the string there, an odd one escapes the quote (brackets then in the
    # string); escaped quotes at the start, in turn and at the end of strings and keys
    run = "\\\\" * (backslashes // 2) + ('\\"' if backslashes % 2 else "")
    for text in (f"{run}[[", f"[{run}{run}]{{", f"x{run}", f"{run}"):
        raw = f'[{{"{text}": ["{text}", [["{text}"]]]}}, "{run}"]'.encode()
        assert orjson.loads(raw)  # valid JSON, as the scan is asked only of such
        assert scan(raw, limit) is walked(raw, limit)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('[]{}"\\ab:,\n\u2028é😀\x00'), max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='[]{}"\\k😀', max_size=5), children, max_size=4)
    ),
    max_leaves=60,
)


@settings(max_examples=500, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=8), st.booleans())
def test_scan_and_walk_agree_on_any_json(
    scan: Callable[[bytes, int], bool], value: Any, limit: int, ascii_only: bool
) -> None:
    for raw in (json.dumps(value, ensure_ascii=ascii_only).encode(), orjson.dumps(value)):
        assert scan(raw, limit) is walked(raw, limit)


@pytest.mark.parametrize("which", ["compiled", "walk"])
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_json_too_deep_alike_with_either(
    monkeypatch: pytest.MonkeyPatch,
    scan: Callable[[bytes, int], bool],
    which: str,
    offset: int,
) -> None:
    monkeypatch.setattr(limits, "nests_deeper", scan if which == "compiled" else None)
    raw = nested(LIMIT + offset, '"[{"')
    too_deep, value = limits._nesting(raw, LIMIT)
    assert too_deep is (offset > 0)
    assert value == orjson.loads(raw)  # still parsed once, kept for the app


def test_the_service_scans_by_the_build_make_install_wrote() -> None:
    assert digit_runs.describe().startswith("compiled"), "no build: run `make install`"
    assert limits.nests_deeper is digit_runs.nests_deeper is not None
