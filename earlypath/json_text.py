"""Compact JSON text for every JSON output (CLI ``assess``, ``assess --many``, ``/api/assess``).

The text is byte for byte what ``json.dumps(data, ensure_ascii=False, separators=(",", ":"))``
gives, written by orjson (several times faster). The two differ only where orjson writes a float
between 1e-9 and 1e-4 in another form (``0.00001`` or ``1e-7`` where Python writes ``1e-05``
and ``1e-07``), where orjson refuses something (an integer beyond 64 bits, a key that is not
text, a lone surrogate, a date or any other non-JSON type), and on NaN or infinity (orjson
writes null): the assessment never holds NaN or infinity (the input contract refuses them),
and for the rest the text is checked and, if it may differ, written by ``json.dumps`` instead.
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
    # The float forms where orjson and json.dumps differ always contain one of these; they are
    # rare in an assessment (and a false alarm from ordinary text only costs the slower path).
    if b".0000" in text or b"e-" in text:
        return None
    return text


def dumps_bytes(data: Any) -> bytes:
    """The compact JSON text of ``data`` as UTF-8 bytes."""
    text = _fast(data)
    return _reference(data).encode("utf-8") if text is None else text


def dumps(data: Any) -> str:
    """The compact JSON text of ``data``."""
    text = _fast(data)
    return _reference(data) if text is None else text.decode("utf-8")
