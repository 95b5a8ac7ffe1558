"""Values read out of one resource's JSON as the records IR says (`earlypath.records.ir`): a
path of object keys, a JSON type (another type is None), codings and value sets, days,
references. Used by the Python engine's closures and by its fused functions alike."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import types
from collections.abc import Callable
from typing import Any

from earlypath.fhir.codes import CodeSet, words_search
from earlypath.records.time_zone import time_zone

STRIP = " \t\n\r\x0b\x0c"  # what `NormText` strips: the whitespace SQL's TRIM is given
_FROM_ISO = dt.date.fromisoformat
# The pattern a day is written in, checked only where `fromisoformat` is not CPython's own C
# function: Python's reads the digits with int(), which also takes a sign, spaces, "_".
_DAY = (
    None
    if isinstance(_FROM_ISO, types.BuiltinFunctionType)
    else re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
)
_NONE_TEXT = "(none)"


def walker(path: str) -> Callable[[Any], Any]:
    keys = tuple(path.split(".")) if path else ()
    if len(keys) == 1:
        key = keys[0]
        return lambda j: j.get(key) if type(j) is dict else None

    def walk(j: Any) -> Any:
        for key in keys:
            if type(j) is not dict:
                return None
            j = j.get(key)
        return j

    return walk


def typed(kind: str) -> Callable[[Any], Any]:
    if kind == "str":
        return lambda v: v if type(v) is str else None
    if kind == "num":
        return lambda v: v if type(v) is int or type(v) is float else None
    if kind == "bool":
        return lambda v: v if type(v) is bool else None
    if kind == "any":
        return lambda v: None if v is None else True
    raise ValueError(f"records IR: Field type {kind!r} is not str, num, bool or any")


def codings(concept: Any) -> list[dict[str, Any]]:
    if type(concept) is not dict:
        return []
    codings = concept.get("coding")
    if type(codings) is not list:
        return []
    return [c for c in codings if type(c) is dict]


def first_code(concept: Any) -> str | None:
    """`rir.FirstCode`: the code of the concept's first coding (a JSON object), or None."""
    if type(concept) is not dict:
        return None
    listed = concept.get("coding")
    if type(listed) is not list:
        return None
    for coding in listed:
        if type(coding) is dict:
            code = coding.get("code")
            return code if type(code) is str else None
    return None


def _text(value: Any) -> str:
    return value if type(value) is str else ""


def _key(coding: dict[str, Any]) -> tuple[str, str]:
    return _text(coding.get("system")), _text(coding.get("code"))


class Matcher:
    """`CodeSet.matches` over JSON: a listed code, or a word in the text or a display."""

    def __init__(self, codes: CodeSet):
        self.codes = codes.codes
        self.at_least = codes.at_least
        self.words = codes.words
        # the words as one search of the text (`words_search`), not a search a word
        self.search_words = words_search(codes.words)
        # each listed code's count (`count`), so a coding is one dict lookup
        self._counts = {key: codes.at_least.get(key, 1) for key in codes.codes}

    def first_key(self, concept: Any) -> tuple[str, str] | None:
        for coding in codings(concept):
            key = _key(coding)
            if key in self.codes:
                return key
        return None

    def count(self, concept: Any) -> int | None:
        """`rir.AtLeast`: the count of the first coding in the set, None when none is (read as
        `codings` and `_key` read them, written out: it runs for every concept read)."""
        if type(concept) is not dict:
            return None
        listed = concept.get("coding")
        if type(listed) is not list:
            return None
        counts = self._counts
        for c in listed:
            if type(c) is dict:
                system, code = c.get("system"), c.get("code")
                found = counts.get(
                    (system if type(system) is str else "", code if type(code) is str else "")
                )
                if found is not None:
                    return found
        return None

    def matches(self, concept: Any) -> bool:
        if type(concept) is not dict:
            return False
        listed = codings(concept)
        codes = self.codes
        for coding in listed:
            if _key(coding) in codes:
                return True
        return self.words_name_it(concept, listed)

    def words_name_it(self, concept: Any, listed: list[dict[str, Any]] | None = None) -> bool:
        """`matches`'s words alone: one of the set's words in the concept's text or a coding's
        display. The generated reading asks it after the concept's codes (`sets_of`), so a
        concept's codings are not walked for codes twice (``listed``: its `codings`, when at
        hand)."""
        if not self.words or type(concept) is not dict:
            return False
        if listed is None:
            listed = codings(concept)
        parts = [_text(concept.get("text"))] + [_text(c.get("display")) for c in listed]
        return self.search_words(" ".join(parts).lower()) is not None


_NO_SETS: frozenset[str] = frozenset()


def sets_of(concept: dict[str, Any], by_key: dict[tuple[str, str], frozenset[str]]) -> frozenset:
    """The value sets a concept's codings are in (read as `codings` and `_key` read them; written
    out here, as it runs for every concept read)."""
    listed = concept.get("coding")
    if type(listed) is not list:
        return _NO_SETS
    found = _NO_SETS
    for c in listed:
        if type(c) is dict:
            system, code = c.get("system"), c.get("code")
            key = (system if type(system) is str else "", code if type(code) is str else "")
            names = by_key.get(key)
            if names is not None:
                found = found | names if found else names
    return found


def matcher_for(codes: dict[str, CodeSet], name: str) -> Matcher:
    if name not in codes:
        raise ValueError(f"records IR: no value set named {name!r}")
    return Matcher(codes[name])


def as_day(text: Any) -> dt.date | None:
    """`rir.Day`: the first ten characters of a text when they are a real date YYYY-MM-DD
    (four, two and two ASCII digits around two dashes).

    Read without a regular expression where `fromisoformat` is CPython's own (it reads digits
    as ASCII digits only, and a text of this shape only as YYYY-MM-DD): the pattern costs more
    than the rest of the reading of a date, and a record has a few dates a resource. The same
    answers as the pattern (tests/records/test_as_day.py)."""
    if type(text) is not str or len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    head = text[:10]
    if not head.isascii() or (_DAY is not None and not _DAY.match(head)):
        return None
    try:
        return _FROM_ISO(head)
    except ValueError:  # not a real date
        return None


# An instant as FHIR R4 writes a dateTime with its time: a full date from 1900 to 2999 (a zone's
# rules before 1900 are local mean time, which the engines' zone data need not hold alike), "T",
# the time to the second (a fraction of up to nine digits allowed; no leap second: DuckDB and
# Spark parse none) and its offset, "Z" or "+hh:mm" / "-hh:mm" up to 14:00. Only such a text is
# moved into the reading's zone, here and in the compiled SQL (`zone_day`, where "\z" ends the
# pattern: the end of the text in RE2 and Java, whose "$" differs on a final newline). Its
# shortest form, "YYYY-MM-DDThh:mm:ssZ", is 20 characters.
INSTANT_PATTERN = (
    r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"([.][0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
)
_INSTANT = re.compile(INSTANT_PATTERN + r"\Z")
INSTANT_MIN_LENGTH = 20
_UTC = dt.UTC


def _zone_day(text: str, day: dt.date, zone: dt.tzinfo) -> dt.date:
    """The day in ``zone`` of an instant (``text``, of `_INSTANT`'s form) written on ``day``:
    its minutes from that midnight less its offset, from midnight UTC, seen in the zone (the
    seconds cannot move the day: every offset is whole minutes). The reference for the quicker
    `_ZoneDays` (tests/records/test_zone_days.py)."""
    if text[-1] == "Z":
        offset = 0
    else:
        offset = int(text[-5:-3]) * 60 + int(text[-2:])
        if text[-6] == "-":
            offset = -offset
    minutes = int(text[11:13]) * 60 + int(text[14:16]) - offset
    at = dt.datetime(day.year, day.month, day.day, tzinfo=_UTC) + dt.timedelta(minutes=minutes)
    return at.astimezone(zone).date()


_TWO_DIGITS = {f"{n:02d}": n for n in range(100)}  # int() of two digits, as a look-up
_ONE_DAY = dt.timedelta(days=1)
_SHIFTS = {n: dt.timedelta(days=n) for n in range(-3, 4)}
_SECOND = dt.timedelta(seconds=1)


class _ZoneDays:
    """`_zone_day` without its datetime arithmetic, the same answers: an instant written on a
    day falls in one of three UTC days (that day, the one before or the one after: its time
    less an offset of at most 14 hours); the zone's offset in each is read once, at the UTC
    midnights around it, and kept per written day. Where the offset differs at a UTC day's two
    midnights (a change of the clocks that day) that day's instants go to `_zone_day`. Equal
    offsets at both midnights mean none changed in between: no zone's offset has changed twice
    within a day since 1900 (the shortest gap is some 4 days; the test reads every zone's
    transitions to hold it)."""

    _KEPT = 4096  # written days kept (some 11 years of days); then the table starts again

    def __init__(self, zone: dt.tzinfo) -> None:
        self.zone = zone
        self.offsets: dict[dt.date, tuple[int | None, int | None, int | None]] = {}

    def _offsets(self, day: dt.date) -> tuple[int | None, int | None, int | None]:
        """The zone's offset in seconds through the UTC days before, of and after ``day`` (None:
        not the same all that UTC day)."""
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=_UTC)
        at = [
            (midnight + n * _ONE_DAY).astimezone(self.zone).utcoffset() or dt.timedelta(0)
            for n in (-1, 0, 1, 2)
        ]
        before, of, after = (at[n] // _SECOND if at[n] == at[n + 1] else None for n in range(3))
        if len(self.offsets) >= self._KEPT:
            self.offsets.clear()
        kept = self.offsets[day] = (before, of, after)
        return kept

    def day(self, text: str, day: dt.date) -> dt.date:
        """`_zone_day(text, day, zone)`."""
        two = _TWO_DIGITS
        if text[-1] == "Z":
            offset = 0
        else:
            offset = two[text[-5:-3]] * 60 + two[text[-2:]]
            if text[-6] == "-":
                offset = -offset
        minutes = two[text[11:13]] * 60 + two[text[14:16]] - offset  # from UTC midnight of day
        offsets = self.offsets.get(day)
        if offsets is None:
            offsets = self._offsets(day)
        zone_offset = offsets[minutes // 1440 + 1]  # its UTC day: -1, 0 or 1 from day
        if zone_offset is None:
            return _zone_day(text, day, self.zone)
        # its local time in seconds from that midnight (a zone's offset can hold seconds: some
        # before 1972, e.g. Monrovia's -00:44:30) decides the day, as `astimezone` does
        shift = (minutes * 60 + zone_offset) // 86400
        return day if shift == 0 else day + _SHIFTS[shift]


@functools.cache
def day_readers(
    zone_name: str,
) -> tuple[Callable[[Any], dt.date | None], Callable[[Any, bool], dt.date | None]]:
    """`rir.Day` and `rir.SpanDay` read in the time zone ``zone_name``: an instant with its
    offset (`_INSTANT`) is dated on its day there; a date with no time, a time with no offset
    and anything else as `as_day` and `span_day` read it (as written)."""
    zone_day = _ZoneDays(time_zone(zone_name)).day

    def day_in_zone(text: Any) -> dt.date | None:
        day = as_day(text)
        if day is None:
            return None
        # a date alone (the commonest text) is its own day: one length test
        if len(text) < INSTANT_MIN_LENGTH or _INSTANT.match(text) is None:
            return day
        return zone_day(text, day)

    def span_day_in_zone(text: Any, last: bool) -> dt.date | None:
        day = day_in_zone(text)
        return day if day is not None else span_day(text, last)

    return day_in_zone, span_day_in_zone


def span_day(text: Any, last: bool) -> dt.date | None:
    """`rir.SpanDay`: the first (``last``: the last) day a FHIR date can denote: a full date's
    own day; of "YYYY-MM" the first or last day of its month; of "YYYY" its first or last day."""
    day = as_day(text)
    if day is not None or type(text) is not str or not text.isascii():
        return day
    year, month = text[:4], text[5:]
    if len(year) != 4 or not year.isdigit() or year == "0000":
        return None
    if len(text) == 4:
        return dt.date(int(year), 12, 31) if last else dt.date(int(year), 1, 1)
    if len(text) != 7 or text[4] != "-" or not month.isdigit() or not 1 <= int(month) <= 12:
        return None
    days = calendar.monthrange(int(year), int(month))[1] if last else 1
    return dt.date(int(year), int(month), days)


_NHS_SEPARATORS = str.maketrans("", "", " -")
_NHS_WEIGHTS = tuple(range(10, 1, -1))  # the first nine digits' weights, 10 down to 2


def nhs_number(text: Any) -> str | None:
    """`NhsNumber`: the ten digits of an NHS number written with or without spaces and hyphens,
    when its check digit is right (modulus 11, NHS Data Dictionary); else None."""
    if type(text) is not str:
        return None
    digits = text.translate(_NHS_SEPARATORS)
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return None
    # 11 minus the remainder of the weighted sum; 11 is written 0, and 10 is no NHS number
    check = (11 - sum(int(d) * w for d, w in zip(digits, _NHS_WEIGHTS, strict=False)) % 11) % 11
    return digits if check == int(digits[9]) else None


def ref_id(reference: Any, kind: str) -> str | None:
    """`rir.RefId`: the id a reference points to for resource type ``kind``."""
    if type(reference) is not str:
        return None
    # the usual `Kind/id`: the id is all after the one slash (what the pattern reads there too,
    # without running it: a dozen references a call)
    if reference.startswith(kind) and reference[len(kind) : len(kind) + 1] == "/":
        rest = reference[len(kind) + 1 :]
        if rest and "/" not in rest:
            return rest
    match = _reference_pattern(kind).fullmatch(reference)
    return match.group(1) if match else None


_patterns: dict[str, re.Pattern[str]] = {}


def _reference_pattern(kind: str) -> re.Pattern[str]:
    pattern = _patterns.get(kind)
    if pattern is None:
        pattern = _patterns[kind] = re.compile(
            rf"(?:(?:[^/]*/)*{re.escape(kind)}/|urn:uuid:)([^/]+)(?:/_history/[^/]+)?"
        )
    return pattern


def show(value: Any) -> str:
    """How a `rir.Message` shows a value: Python's str (a date as ISO), None as "(none)"."""
    return _NONE_TEXT if value is None else str(value)


# --- compiling ---------------------------------------------------------------------------------
