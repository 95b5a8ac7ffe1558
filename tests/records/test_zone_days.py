"""An instant's day in the reading's zone, read without datetime arithmetic (issue 16, stop 52).

`json_values.day_readers` dates an instant with its offset on its day in `EARLYPATH_TIME_ZONE`
through `_ZoneDays` (the zone's offset per UTC day, kept per written day) instead of
`_zone_day`'s datetime, timedelta and `astimezone` (about ten times a plain date's cost). The
answers must be today's: each test here compares the reader with the reading as it was
(`as_day`, `_INSTANT` and `_zone_day`, kept as the reference) over many texts: random instants
from 1900 to 2999 in zones with every kind of rule, every minute of the days the clocks change,
leap days, every offset form, and malformed texts (which are read as written, or not at all,
as before; what names them is unchanged). The compiled SQL (DuckDB, Spark) is not changed: its
answers are held by `test_instant_days.py` and the agreement tests.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import zoneinfo
from importlib import resources
from typing import Any

import pytest

from earlypath.records import json_values
from earlypath.records.json_values import _INSTANT, _zone_day, as_day, day_readers

# Zones with every kind of rule: London (the default; BST), New York, Dublin (its winter time
# is the "negative" summer time in tzdata), Lord Howe (a half-hour change), Kathmandu (+05:45),
# Chatham (+12:45/+13:45), Kiritimati (+14:00; skipped a day in 1994), Apia (skipped
# 2011-12-30), Casablanca (changes around Ramadan), Amsterdam (+00:19:32 until 1937: an offset
# with seconds), Monrovia (-00:44:30 until 1972), Santiago (southern summer), UTC.
ZONES = (
    "Europe/London",
    "America/New_York",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Europe/Amsterdam",
    "Africa/Monrovia",
    "America/Santiago",
    "UTC",
)


def _as_it_was(zone: zoneinfo.ZoneInfo) -> Any:
    """`day_in_zone` as stop 51 read it: `as_day`, then an instant through `_zone_day`."""

    def day(text: Any) -> dt.date | None:
        found = as_day(text)
        if found is None or len(text) < 20 or _INSTANT.match(text) is None:
            return found
        return _zone_day(text, found, zone)

    return day


def _offset(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return "Z"
    if pick < 0.4:
        return rng.choice(("+00:00", "-00:00", "+14:00", "-14:00", "+01:00", "-05:00"))
    sign = rng.choice("+-")
    return f"{sign}{rng.randrange(14):02d}:{rng.choice((0, 15, 30, 45, rng.randrange(60))):02d}"


def _instant(rng: random.Random, day: dt.date) -> str:
    fraction = rng.choice(("", "", ".1", ".123", ".123456", ".123456789"))
    clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    return f"{day.isoformat()}T{clock}{fraction}{_offset(rng)}"


def _random_days(rng: random.Random, n: int) -> list[dt.date]:
    first, last = dt.date(1899, 12, 30).toordinal(), dt.date(3000, 1, 2).toordinal()
    recent = dt.date(1990, 1, 1).toordinal(), dt.date(2040, 1, 1).toordinal()
    days = [dt.date.fromordinal(rng.randrange(first, last)) for _ in range(n // 2)]
    days += [dt.date.fromordinal(rng.randrange(*recent)) for _ in range(n - n // 2)]
    return days


def _malformed(rng: random.Random, text: str) -> str:
    """The text with one character changed, removed or added, or cut short."""
    at = rng.randrange(len(text))
    kind = rng.randrange(4)
    if kind == 0:
        return text[:at] + rng.choice("0123456789:-+TZ. x\n٣") + text[at + 1 :]
    if kind == 1:
        return text[:at] + text[at + 1 :]
    if kind == 2:
        return text[:at] + rng.choice("0123456789:-+Z ") + text[at:]
    return text[:at]


@pytest.mark.parametrize("zone_name", ZONES)
def test_random_instants_are_dated_as_before(zone_name: str) -> None:
    rng = random.Random(f"zone-days-{zone_name}")
    zone = zoneinfo.ZoneInfo(zone_name)
    reference, day = _as_it_was(zone), day_readers(zone_name)[0]
    texts = [_instant(rng, d) for d in _random_days(rng, 3000)]
    texts += [_malformed(rng, t) for t in texts[:1500]]
    wrong = [(t, day(t), reference(t)) for t in texts if day(t) != reference(t)]
    assert not wrong, wrong[:5]
    # most of them instants read through the table (not all refused or malformed)
    assert sum(1 for t in texts if _INSTANT.match(t)) > 2500


def _change_days(zone: zoneinfo.ZoneInfo, years: range) -> list[dt.date]:
    """The UTC days on which the zone's offset changes in ``years`` (found hour by hour)."""
    days = []
    for year in years:
        at = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        before = at.astimezone(zone).utcoffset()
        while at.year == year:
            at += dt.timedelta(hours=1)
            now = at.astimezone(zone).utcoffset()
            if now != before:
                days.append(at.date())
                before = now
    return days


@pytest.mark.parametrize(
    ("zone_name", "years"),
    [
        ("Europe/London", range(2025, 2028)),
        ("America/New_York", range(2026, 2027)),
        ("Australia/Lord_Howe", range(2026, 2027)),
        ("Pacific/Apia", range(2011, 2012)),
        ("Europe/London", range(2999, 3000)),  # the zone's rule, after its table of changes
    ],
)
def test_every_minute_around_a_change_of_the_clocks_is_dated_as_before(
    zone_name: str, years: range
) -> None:
    zone = zoneinfo.ZoneInfo(zone_name)
    reference, day = _as_it_was(zone), day_readers(zone_name)[0]
    changes = _change_days(zone, years)
    assert changes
    wrong = []
    for change in changes:
        for written in (change - dt.timedelta(days=1), change, change + dt.timedelta(days=1)):
            for minute in range(0, 24 * 60, 5):
                clock = f"T{minute // 60:02d}:{minute % 60:02d}:00"
                for offset in ("Z", "+01:00", "-05:00", "+10:30", "-11:00", "+13:45"):
                    text = f"{written.isoformat()}{clock}{offset}"
                    if day(text) != reference(text):
                        wrong.append(text)
    assert not wrong, wrong[:5]


def test_leap_days_and_the_ends_of_the_range_are_dated_as_before() -> None:
    zone = zoneinfo.ZoneInfo("Europe/London")
    reference, day = _as_it_was(zone), day_readers("Europe/London")[0]
    texts = [
        f"{date}T{clock}{offset}"
        for date in ("2024-02-29", "2028-02-29", "2100-02-29", "2000-02-29", "2026-02-29")
        + ("1900-01-01", "1899-12-31", "2999-12-31", "3000-01-01", "2026-12-31", "2027-01-01")
        for clock in ("00:00:00", "00:30:00.5", "12:00:00", "23:30:00", "23:59:59.999")
        for offset in ("Z", "+14:00", "-14:00", "+13:59", "-00:00", "+14:01", "+1:00", "")
    ]
    assert all(day(t) == reference(t) for t in texts), [t for t in texts if day(t) != reference(t)]
    assert day("2028-02-29T23:30:00Z") == dt.date(2028, 2, 29)  # GMT
    assert day("2028-02-28T23:30:00-01:00") == dt.date(2028, 2, 29)
    assert day("2999-12-31T23:30:00-14:00") == dt.date(3000, 1, 1)


def test_a_known_day_is_read_without_the_datetime_arithmetic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After its first instant, a written day's instants cost no datetime arithmetic: only a
    UTC day in which the clocks change goes to `_zone_day` (the reason for the table)."""
    day = day_readers("Europe/London")[0]
    assert day("2026-11-30T08:00:00Z") == dt.date(2026, 11, 30)
    assert day("2026-10-25T08:00:00Z") == dt.date(2026, 10, 25)  # the clocks went back

    def no_arithmetic(*args: Any) -> dt.date:
        raise AssertionError(f"_zone_day called for {args[0]}")

    monkeypatch.setattr(json_values, "_zone_day", no_arithmetic)
    assert day("2026-11-30T09:15:00Z") == dt.date(2026, 11, 30)
    assert day("2026-11-30T10:42:17.350+00:00") == dt.date(2026, 11, 30)
    assert day("2026-11-30T23:59:59.5-10:00") == dt.date(2026, 12, 1)
    assert day("2026-11-30T00:30:00+01:00") == dt.date(2026, 11, 29)
    # the night the clocks went back (01:00 UTC on the 25th) is still read as before
    with pytest.raises(AssertionError, match="_zone_day called"):
        day("2026-10-25T00:30:00Z")


def test_the_table_of_days_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    zone = zoneinfo.ZoneInfo("Europe/London")
    days = json_values._ZoneDays(zone)
    monkeypatch.setattr(json_values._ZoneDays, "_KEPT", 3)
    reference = _as_it_was(zone)
    for n in range(40):
        written = dt.date(2026, 3, 1) + dt.timedelta(days=n)
        text = f"{written.isoformat()}T23:30:00Z"
        assert days.day(text, written) == reference(text)
        assert len(days.offsets) <= 3


def _zone_data(name: str) -> Any:
    """The zone's TZif file as `zoneinfo` finds it (the system's, else the tzdata package)."""
    for folder in zoneinfo.TZPATH:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return open(path, "rb")  # noqa: SIM115 (closed by the caller's with)
    return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb")


def test_no_zone_changes_its_offset_twice_in_a_day() -> None:
    """What `_ZoneDays` rests on: equal offsets at a UTC day's two midnights mean no change in
    between. True of every zone's table of changes since 1900 (read with zoneinfo's own
    reader); a zone's rule after its table changes the clocks twice a year."""
    from zoneinfo._common import load_data  # (zoneinfo's reader of TZif files)

    shortest = dt.timedelta(days=365)
    for name in sorted(zoneinfo.available_timezones()):
        with _zone_data(name) as data:
            trans_idx, trans_utc, utcoff, *_ = load_data(data)
        offsets = [utcoff[i] for i in trans_idx]
        for n in range(1, len(trans_utc)):
            if trans_utc[n] >= -2208988800 and offsets[n] != offsets[n - 1]:  # 1900 on
                shortest = min(shortest, dt.timedelta(seconds=trans_utc[n] - trans_utc[n - 1]))
    assert shortest > dt.timedelta(days=2), shortest
