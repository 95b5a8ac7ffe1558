"""The CDS call's faster parts (issue 16) give exactly what the plain versions gave."""

from __future__ import annotations

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from earlypath.fhir.cards import _new_uuid, md

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
