"""The JSON nesting scan agrees with the real nesting of any JSON value (strings with brackets,
quotes and escapes included)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.web.limits import json_too_deep

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.sampled_from('[]{}"\\ab:,\n\u2028é'), max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=5), children, max_size=4)
    ),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=6), st.booleans())
def test_scan_matches_the_real_depth(value, limit, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_too_deep(raw, limit) == (depth(value) > limit)


@settings(max_examples=200, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=6))
def test_text_that_is_not_json_is_scanned_to_the_same_depth(value, limit):
    # trailing text makes it invalid JSON: the bracket scan answers, not the parsed values
    raw = json.dumps(value).encode() + b" not json"
    assert json_too_deep(raw, limit) == (depth(value) > limit)
