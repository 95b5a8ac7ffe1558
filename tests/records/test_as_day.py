"""`json_values.as_day` reads a day without a regular expression, with the answers of the
pattern it was read by before (the first ten characters four, two and two ASCII digits around
two dashes, and a real date) on any text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.records import json_values
from earlypath.records.json_values import as_day

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _by_pattern(text: Any) -> dt.date | None:
    """`as_day` as it was written before (stop 18)."""
    if type(text) is not str or len(text) < 10 or not _DAY.match(text):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


# digits (ASCII and others), the separators fromisoformat knows, signs, spaces, a surrogate
PARTS = ["2024", "0000", "0999", "12", "31", "02", "29", "13", "00", "1", "-", "W", "T", ":",
         "+", " ", "_", "Z", "٢", "²", "\ud800", "é", "10:00:00Z", "+01:00", ""]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PARTS), max_size=8).map("".join))
def test_as_day_equals_the_pattern(text: str) -> None:
    assert as_day(text) == _by_pattern(text)


_YEARS = st.sampled_from(["2024", "2023", "0001", "0000", "0999", "٢٠٢٤", "+202", " 202", "2_02"])
_TWO = st.sampled_from(["01", "02", "12", "13", "00", "28", "29", "30", "31", "W0", "٠٣", "1"])
_SEPARATORS = st.sampled_from(["-", "", "W", " "])
_TAILS = st.sampled_from(["", "T10:00:00Z", "+01:00", "x", "0", "\ud800"])


@settings(max_examples=150, deadline=None)
@given(st.tuples(_YEARS, _SEPARATORS, _TWO, _SEPARATORS, _TWO, _TAILS).map("".join))
def test_as_day_equals_the_pattern_on_near_dates(text: str) -> None:
    assert as_day(text) == _by_pattern(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-04", "2024-03-04T10:00:00+01:00", "2024-02-29", "2023-02-29", "2024-13-01",
        "0000-01-01", "0999-01-01", "9999-12-31", "2024-W01-1", "2024-W01-1T00", "20240304",
        "20240304T1000", "2024-3-4xxx", "+202-01-01", "2_02-01-01", " 202-01-01", "2024-01-1 ",
        "٢٠٢٤-٠٣-٠٤", "2024-03-0４", "2024-03", "2024", "", None, 20240304, ["2024-03-04"],
    ],
)  # fmt: skip
def test_as_day_cases(text: Any) -> None:
    assert as_day(text) == _by_pattern(text)


def test_a_day_is_read_without_a_pattern() -> None:
    """CPython's own fromisoformat: no regular expression is run for a day."""
    assert json_values._DAY is None
    assert as_day("2024-03-04T10:00:00Z") == dt.date(2024, 3, 4)


@pytest.mark.parametrize("text", ["2024-03-04", "+202-01-01", " 202-01-01", "2_02-01-01", "x"])
def test_where_fromisoformat_is_not_cpythons_the_pattern_is_checked(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(json_values, "_DAY", _DAY)
    monkeypatch.setattr(json_values, "_FROM_ISO", lambda head: _lenient(head))
    assert as_day(text) == _by_pattern(text)


def _lenient(text: str) -> dt.date:
    """A fromisoformat reading the digits with int(), as Python's own does."""
    year, month, day = (int(part) for part in text.split("-"))
    return dt.date(year, month, day)
