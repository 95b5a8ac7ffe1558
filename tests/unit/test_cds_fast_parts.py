"""The CDS call's faster parts (issue 16) give exactly what the plain versions gave."""

from __future__ import annotations

import json
import re
import uuid

import orjson
from fastapi.responses import JSONResponse
from hypothesis import given
from hypothesis import strategies as st

from earlypath.fhir.cards import _new_uuid, md
from earlypath.json_text import _may_differ
from earlypath.web.cds import CdsJSONResponse, parse_json

_SPECIAL = re.compile(r"([\\`*_\[\]()!|~#{}])")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def reference_md(value: object) -> str:
    """md as first written: controls to a space, HTML entities, then Markdown escapes."""
    text = _CONTROLS.sub(" ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


MARKUP = "\\`*_[]()!|~#{}&<>\n\r\t\x00\x1f\x7f\x85\u2028\u2029 aé😀.-"


@given(st.text(alphabet=MARKUP) | st.text())
def test_md_is_the_reference_escaping(text: str) -> None:
    assert md(text) == reference_md(text)


def test_md_of_non_text_values_is_their_text_escaped() -> None:
    for value in (400, 2.5, None, True, -1):
        assert md(value) == reference_md(value)


def test_card_uuids_are_random_version_4() -> None:
    seen = {_new_uuid() for _ in range(1000)}
    assert len(seen) == 1000
    for text in seen:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(json_values, st.booleans())
def test_cds_body_parse_is_json_loads(value: object, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    parsed = parse_json(raw)
    assert parsed == json.loads(raw)
    assert json.dumps(parsed) == json.dumps(value)  # ints stay ints, floats stay floats


ODD_BODIES = [
    b'{"a":1,"a":2}',  # the last wins, as in json.loads
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    "{}".encode("utf-16"),
    b"[NaN, Infinity, 1e400]",
    b"[123456789012345678901234567890, -9223372036854775809, 18446744073709551615]",
    b'["\\ud800"]',  # a lone surrogate
    b"[-0, -0.0, 1E2, 2.5e-5]",
]


def test_cds_body_parse_on_odd_json_is_json_loads() -> None:
    for raw in ODD_BODIES:
        parsed = parse_json(raw)
        assert repr(parsed) == repr(json.loads(raw)), raw
    for raw in (b"", b"{", b"[]\x00", b"\xff", b"[1] x"):
        assert parse_json(raw) is None


@given(json_values)
def test_cds_json_response_bytes_are_starlettes(value: object) -> None:
    assert CdsJSONResponse(value).body == JSONResponse(value).body


def test_card_uuids_do_not_send_the_answer_to_the_slow_encoder() -> None:
    # "...5e-..." in a UUID is text, not a float: orjson's bytes are used as they are.
    card = {"uuid": "0123455e-89ab-4def-8e12-9abcdef01234", "suggestions": [{"uuid": "1e-5"}]}
    assert not _may_differ(orjson.dumps(card))
    assert _may_differ(orjson.dumps({"crl_mm": 1.5e-7})) and _may_differ(orjson.dumps(1e-7))
    assert _may_differ(orjson.dumps([0.00001]))
