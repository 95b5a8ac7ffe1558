"""`_may_differ` (the check that sends a text to json.dumps) gives the answer it gave before
it was made cheaper (issue 12 item 5): the earlier scan is kept here as the reference and both
are run on generated texts, UUIDs holding `5e-` and numbers with negative exponents among them.
"""

from __future__ import annotations

import uuid

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.json_text import _may_differ, _number_before

SETTINGS = settings(max_examples=2000, deadline=None)


def reference(text: bytes) -> bool:
    """The scan as it was: every `e-`, each checked for a number before it; since stop 24 an
    exponent of two digits or more (`2.7e-20`) is not one json.dumps writes otherwise."""
    if b".0000" in text:
        return True
    at = text.find(b"e-")
    while at != -1:
        two = text[at + 2 : at + 4]
        if _number_before(text, at) and not (len(two) == 2 and two.isdigit()):
            return True
        at = text.find(b"e-", at + 2)
    return False


# pieces a compact JSON text is made of, the awkward ones repeated so they meet
PIECES = st.sampled_from(
    [b"e-", b"E-", b"5e-", b"1.5e-7", b"-1e-05", b".0000", b"0.00001", b"1e+5", b"e", b"-"]
    + [b"2.7e-20", b"1e-100", b"e-1", b"1e-7"]
    + [b":", b",", b"[", b"{", b"}", b"]", b'"', b".", b"0", b"9", b"a", b"d", b" "]
)
texts = st.lists(PIECES, max_size=30).map(b"".join)


@SETTINGS
@given(texts)
def test_the_same_answer_on_generated_texts(text: bytes) -> None:
    assert _may_differ(text) == reference(text)


@SETTINGS
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text()
        | st.uuids().map(str),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_the_same_answer_on_generated_json(value: object) -> None:
    text = orjson.dumps(value)
    assert _may_differ(text) == reference(text)


def test_uuids_holding_5e_are_not_numbers_and_a_real_exponent_is_found() -> None:
    ids = [str(u) for u in (uuid.UUID(int=i * 0x5E000000000000000000000000 + i) for i in range(50))]
    ids += ["4d5e-49c0", "00000000-0000-4000-85e-0000", "5e-"]
    for text in (orjson.dumps({"ids": ids}), orjson.dumps(ids), orjson.dumps({"id": "5e-1"})):
        assert _may_differ(text) is reference(text) is False
    for tail in ([1.5e-7], {"x": -1e-7}, [0.00001]):
        text = orjson.dumps({"ids": ids, "v": tail})
        assert _may_differ(text) is reference(text) is True
    assert any(b"5e-" in orjson.dumps(i) for i in ids)


def test_an_exponent_of_two_digits_is_not_sent_to_json_dumps() -> None:
    """An audit's exact lower limit at a rate of 0 (2.7e-20) made summary.json and
    measure-report.json go through json.dumps's pure-Python encoder (stop 24)."""
    for value in (2.710505431213761e-20, -1.5e-10, 1e-100, 5e-324, [0.0, 3.3e-11]):
        text = orjson.dumps({"ci95_low": value})
        assert not _may_differ(text), text
        assert not _may_differ(orjson.dumps({"x": value}, option=orjson.OPT_INDENT_2), b" ")
    for value in (1e-9, 2.5e-7, -1e-5):  # one digit: orjson writes 1e-9, json.dumps 1e-09
        assert _may_differ(orjson.dumps({"x": value})), value
        assert _may_differ(orjson.dumps(value)), value  # at the very end of the text
