"""A section's JSON text with holes: written once per key, filled per episode (issue 16).

Where a section's text is not kept whole (its trace shows a date or a measurement, or its render
reads a value), the text still depends on the episode only through the dates and measurements
its trace shows, its rendered values and, for the progesterone section, the plan: the
decisions, reasons, citations, advice, the trace's shape and the plain facts it shows (bool,
text, int) are told by the section's key (`earlypath.engines.fused`). So the text is written
once per key with a marker where each of the others goes, cut at the markers, and filled per
episode with each one's JSON text.

A marker is a NUL byte, the hole's name, a NUL byte: JSON text never holds a raw NUL (text
escapes it), so a cut can only fall on a marker.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import orjson

__all__ = ["KEYS_KEPT", "NOT_KEPT", "PLAN", "Markers", "Template", "fact_text"]

PLAN = orjson.Fragment(b"\x00plan\x00")  # where the progesterone section's plan goes
NOT_KEPT = object()  # a key whose section has no template (the reference path decides)
KEYS_KEPT = 4096  # keys kept per section (a key, and a shared text or a template of 1-3 KB)


class Markers(dict[str, Any]):
    """Facts as a trace shows them in a template: a fact the key holds (``known``) as it is, any
    other a marker (the n-th one met is hole n)."""

    def __init__(self, facts: dict[str, Any], known: frozenset[str]) -> None:
        super().__init__()
        self.facts = facts
        self.known = known
        self.holes: list[str] = []

    def __missing__(self, name: str) -> Any:
        if name in self.known:
            value = self[name] = self.facts[name]
            return value
        marker = self[name] = orjson.Fragment(b"\x00%d\x00" % len(self.holes))
        self.holes.append(name)
        return marker


_DATE_TEXTS: dict[dt.date, bytes] = {}  # a date's JSON text (a few thousand dates in use)


def _date_text(value: dt.date) -> bytes:
    text = _DATE_TEXTS.get(value)
    if text is None:
        if len(_DATE_TEXTS) >= 65536:
            _DATE_TEXTS.clear()
        text = _DATE_TEXTS[value] = b'"%s"' % value.isoformat().encode()
    return text


def fact_text(value: Any) -> bytes | None:
    """A fact's JSON text as the reference writes it (``json.dumps``); None for a value this
    does not write (the reference path then decides)."""
    kind = type(value)
    if kind is dt.date:
        return _date_text(value)
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if kind is int:
        return b"%d" % value
    if kind is float:
        return (repr(value) if math.isfinite(value) else json.dumps(value)).encode()
    if kind is str:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:  # a lone surrogate: the reference path decides
            return None
    return None


class Template:
    """A section's text cut at its holes: ``head`` (up to where rendered values go), then text
    and holes in turn. A hole is a fact's name or the plan (``None``)."""

    __slots__ = ("first", "head", "pairs")

    def __init__(self, text: bytes, cut: int, markers: Markers) -> None:
        names = markers.holes
        pieces = text.split(b"\x00")
        if len(pieces) % 2 == 0 or cut > len(pieces[0]):
            raise ValueError("a template's markers do not pair up")
        self.head = pieces[0][:cut]
        self.first = pieces[0][cut:]
        holes = [None if hole == b"plan" else names[int(hole)] for hole in pieces[1::2]]
        self.pairs = tuple(zip(holes, pieces[2::2], strict=True))

    def pieces(self, rendered: Any = None, plan: Any = None) -> list[Any]:
        """The text as constant pieces and holes, for a whole assessment's template
        (`earlypath.engines.assessment_template`): ``rendered`` (a hole, or None for no
        rendered values) where the rendered values go, each fact hole as the fact's name,
        ``plan`` where the plan goes (`ValueError` if the text has a plan and ``plan`` is None)."""
        out: list[Any] = [self.head]
        if rendered is not None:
            out.append(rendered)
        out.append(self.first)
        for hole, text in self.pairs:
            if hole is None and plan is None:
                raise ValueError("a template with a plan needs the plan's hole")
            out.append(plan if hole is None else hole)
            out.append(text)
        return out

    def fill(self, facts: dict[str, Any], rendered: bytes, plan: bytes = b"null") -> bytes | None:
        """The section's text for these facts, rendered values (their text without braces, or
        empty) and plan text; None if a fact has no text here (the reference path decides)."""
        out = [self.head, b"," + rendered if rendered else b"", self.first]
        append = out.append
        for hole, text in self.pairs:
            if hole is None:
                append(plan)
            else:
                value = facts[hole]
                if value is None:  # the commonest holes first (Unknown, dates)
                    append(b"null")
                elif type(value) is dt.date:
                    append(_DATE_TEXTS.get(value) or _date_text(value))
                else:
                    shown = fact_text(value)
                    if shown is None:
                        return None
                    append(shown)
            append(text)
        return b"".join(out)
