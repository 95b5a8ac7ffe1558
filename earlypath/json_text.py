"""Compact JSON text for every JSON output (CLI ``assess``, ``assess --many``, ``/api/assess``).

The text is byte for byte what ``json.dumps(data, ensure_ascii=False, separators=(",", ":"))``
gives, written by orjson (several times faster). The two differ only where orjson writes a float
between 1e-9 and 1e-4 in another form (``0.00001`` or ``1e-7`` where Python writes ``1e-05``
and ``1e-07``), where orjson refuses something (an integer beyond 64 bits, a key that is not
text, a lone surrogate, a date or any other non-JSON type), and on NaN or infinity (orjson
writes null): the assessment never holds NaN or infinity (the input contract refuses them),
and for the rest the text is checked and, if it may differ, written by ``json.dumps`` instead.

For JSON data: dicts, lists, tuples, text, numbers, booleans and None (what assessments are).
A UUID or an enum that is not also text or a number is written by orjson where json.dumps would
refuse it; do not pass them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson writes dates, datetimes and dataclasses itself; json.dumps refuses them. Passing them
# through to a `default` that refuses makes orjson refuse them too, and json.dumps decides.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _reference(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fast(data: Any) -> bytes | None:
    """orjson's text, or None where it may differ from json.dumps."""
    try:
        text = orjson.dumps(data, default=_refuse, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    return None if _may_differ(text) else text


def _may_differ(text: bytes) -> bool:
    """True if the text may hold a float orjson writes otherwise than json.dumps.

    Those floats (magnitude 1e-9 to 1e-4) come out as ``0.0000...`` or as a digit followed by
    ``e-``; ordinary text rarely has either (``progesterone-sensitive`` has an ``e-`` after a
    letter, not a digit), and a false alarm only costs the slower path.
    """
    if b".0000" in text:
        return True
    at = text.find(b"e-")
    while at != -1:
        if at and 48 <= text[at - 1] <= 57:  # an ASCII digit before the e
            return True
        at = text.find(b"e-", at + 2)
    return False


def dumps_bytes(data: Any) -> bytes:
    """The compact JSON text of ``data`` as UTF-8 bytes."""
    text = _fast(data)
    return _reference(data).encode("utf-8") if text is None else text


def dumps(data: Any) -> str:
    """The compact JSON text of ``data``."""
    text = _fast(data)
    return _reference(data) if text is None else text.decode("utf-8")
