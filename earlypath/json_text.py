"""Compact JSON text for every JSON output (CLI ``assess``, ``assess --many``, ``/api/assess``);
``json.dumps(..., indent=2)``'s text for the audit's JSON files (`dumps_indented`).

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
import math
import re
from collections.abc import Callable
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


_DIGITS = frozenset(b"0123456789")
_VALUE_STARTS = frozenset(b":,[")  # what precedes a value in compact JSON (or the text's start)
_INDENTED = frozenset(b" ")  # in indented JSON: ": " or the indentation
_EXPONENT = re.compile(rb"e-")


def _may_differ(text: bytes, starts: frozenset[int] = _VALUE_STARTS) -> bool:
    """True if the text may hold a float orjson writes otherwise than json.dumps.

    Those floats (magnitude 1e-9 to 1e-4) come out as ``0.0000...`` or as a number with a
    negative exponent of one digit (``1.5e-7``) where a value starts. Each ``e-`` followed by
    one digit only is looked at: preceded by digits (and at most one decimal point) that start
    a value, it may be such a float; in text (``progesterone-sensitive``, a UUID's
    ``...5e-...``) it is not. An exponent of two digits or more (``2.7e-20``, an audit's exact
    lower limit at a rate of 0) is written alike by both. A false alarm only costs the slower
    path.
    """
    if b".0000" in text:
        return True
    # Only an `e-` right after a digit can end such a number: the digit is tested here, the
    # whole number (`_number_before`) only then. The `e-` are found by a compiled pattern,
    # about twice as fast as `bytes.find` for this two-byte needle (measured: 5 kB card text).
    search = _EXPONENT.search
    found = search(text)
    while found is not None:
        at = found.start()
        if (
            text[at - 1] in _DIGITS
            and not _two_digits(text, at + 2)  # e-NN: json.dumps writes it so too
            and _number_before(text, at, starts)
        ):
            return True
        found = search(text, at + 2)
    return False


def _two_digits(text: bytes, at: int) -> bool:
    return text[at : at + 1].isdigit() and text[at + 1 : at + 2].isdigit()


def _number_before(text: bytes, end: int, starts: frozenset[int] = _VALUE_STARTS) -> bool:
    """Does text[:end] end in a number (digits, maybe one decimal point) that starts a value?"""
    i = end - 1
    while i >= 0 and text[i] in _DIGITS:
        i -= 1
    if i == end - 1:
        return False  # no digit before the e
    if i >= 0 and text[i] == ord("."):
        point = i
        i -= 1
        while i >= 0 and text[i] in _DIGITS:
            i -= 1
        if i == point - 1:
            return False  # no digit before the point
    if i >= 0 and text[i] == ord("-"):
        i -= 1
    return i < 0 or text[i] in starts


def dumps_bytes(data: Any) -> bytes:
    """The compact JSON text of ``data`` as UTF-8 bytes."""
    text = _fast(data)
    return _reference(data).encode("utf-8") if text is None else text


def dumps(data: Any) -> str:
    """The compact JSON text of ``data``."""
    text = _fast(data)
    return _reference(data) if text is None else text.decode("utf-8")


def dumps_indented(data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``json.dumps(data, indent=2, default=default)``, byte for byte (ASCII, other characters
    escaped), written by orjson where it gives the same text: Python's encoder with an indent
    is pure Python (the C encoder only writes compact text), 0.03 s for an audit's
    measure-report.json of 1M rows against orjson's 0.3 ms.

    Only plain JSON data goes to orjson (dicts with text keys, lists, tuples, text, whole
    numbers, finite floats, booleans, None: `_plain`); json.dumps decides for anything else (a
    date, an enum, a subclass: ``default``'s business; NaN or infinity, which orjson writes as
    null), for text orjson writes otherwise (a character beyond ASCII or DEL, which json.dumps
    escapes) and for a float it may write otherwise (see `_may_differ`) or refuses (an integer
    beyond 64 bits)."""
    if _plain(data):
        try:
            text = orjson.dumps(data, option=orjson.OPT_INDENT_2)
        except orjson.JSONEncodeError:
            pass
        else:
            if text.isascii() and b"\x7f" not in text and not _may_differ(text, _INDENTED):
                return text.decode("ascii")
    return json.dumps(data, indent=2, default=default)


_SCALARS = frozenset((str, int, bool, type(None)))


def _plain(data: Any) -> bool:
    """Whether ``data`` holds only dicts with text keys, lists, tuples, text, whole numbers,
    finite floats, booleans and None (by exact type: no subclass, enum or date)."""
    stack = [data]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind is float:
            if not math.isfinite(value):
                return False
        elif kind is dict:
            if not all(type(key) is str for key in value):
                return False
            stack.extend(value.values())
        elif kind is list or kind is tuple:
            stack.extend(value)
        else:
            return False
    return True
