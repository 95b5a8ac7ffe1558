"""Pre-serialised JSON for the assessment's JSON text (``assess_json``), and floats made safe.

An assessment's text is mostly the same from one episode to the next (citations, the policy
descriptions, the guideline): those parts are written once per version and policy as
``orjson.Fragment``s, in the reference text (``json.dumps(..., ensure_ascii=False,
separators=(",", ":"))``), and orjson copies them into each output as they are.

orjson writes a float of magnitude under 1e-4 (and NaN or infinity) otherwise than json.dumps;
`shown_value` turns such a float into a fragment of json.dumps's own text, so the episode's
parts give the reference bytes too. Every float of an assessment comes from the episode's facts
or from a section's rendered values, and both pass through it in the JSON text path.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import orjson

__all__ = ["frozen", "shown_value", "text_of"]


# orjson writes dates, datetimes and dataclasses itself; json.dumps refuses them: an assessment
# holds none, and `_refuse` makes orjson refuse them too (then the reference path decides).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def text_of(data: Any) -> bytes:
    """orjson's text of data built for the JSON text path (fragments copied as they are);
    `orjson.JSONEncodeError` where orjson refuses something json.dumps may write."""
    return orjson.dumps(data, default=_refuse, option=_OPTIONS)


def frozen(data: Any) -> orjson.Fragment:
    """``data``'s reference JSON text, to be copied into outputs as it is."""
    return orjson.Fragment(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def _float_text(value: float) -> float | orjson.Fragment:
    """``value`` itself where orjson writes it as json.dumps does, else json.dumps's text."""
    if (value >= 1e-4 or value <= -1e-4 or value == 0.0) and math.isfinite(value):
        return value
    return orjson.Fragment(json.dumps(value).encode())


def shown_value(value: Any, raw: bool) -> Any:
    """A fact or value as JSON shows it: dates as ISO text; with ``raw`` (the JSON text path)
    floats orjson would write otherwise than json.dumps as json.dumps's text."""
    kind = type(value)
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    if raw and kind is float:
        return _float_text(value)
    return value
