"""An instant's day is the day where the care happened (issue 12, stop 41).

`Day` and `SpanDay` read an instant with its offset ("Z", "+01:00", "-05:00") on its day in
`EARLYPATH_TIME_ZONE`, a date with no time (or a time with no offset) as written. The Python
reader (`json_values.day_readers`, the CDS service) and the compiled SQL (`zone_day`, the
audit) give the same day for every text here, in British Summer Time, in Greenwich Mean Time,
across both changes of the clocks and in another zone; Spark's is checked by the reading
agreement (`tests/audit/test_spark_reading_agreement.py`, scenario "instant-days").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pytest

from earlypath.audit.run import run_audit
from earlypath.errors import ConfigError
from earlypath.records.ibis_compile import _span_day, _zone_day
from earlypath.records.json_values import day_readers
from earlypath.records.time_zone import configured_time_zone

D = dt.date
# text -> its day in Europe/London (None: no full date)
LONDON = {
    "2026-06-01T23:30:00Z": D(2026, 6, 2),  # 00:30 BST
    "2026-06-01T22:59:59Z": D(2026, 6, 1),  # 23:59 BST
    "2026-06-02T00:20:00+01:00": D(2026, 6, 2),
    "2026-06-01T19:30:00-05:00": D(2026, 6, 2),  # 01:30 BST
    "2026-06-02T00:30:00+02:00": D(2026, 6, 1),  # 23:30 BST, written the next day
    "2026-06-01T23:30:00.123-00:00": D(2026, 6, 2),
    "2026-02-30T23:30:00Z": None,  # the pattern, but no calendar day
    "2026-06-01T23:30:60Z": D(2026, 6, 1),  # a leap second: not parsed, as written
    "2026-06-01T23:30:00.123456789Z": D(2026, 6, 2),
    "2026-01-15T23:30:00Z": D(2026, 1, 15),  # GMT: UTC's day
    "2026-01-15T23:30:00+00:00": D(2026, 1, 15),
    "2026-01-15T18:30:00-05:00": D(2026, 1, 15),
    "2026-01-15T19:00:00-05:00": D(2026, 1, 16),
    "2026-03-28T23:59:00Z": D(2026, 3, 28),  # the night the clocks go forward (01:00 UTC)
    "2026-03-29T00:59:00Z": D(2026, 3, 29),
    "2026-10-24T23:00:00Z": D(2026, 10, 25),  # still BST: 00:00 on the 25th
    "2026-10-25T23:00:00Z": D(2026, 10, 25),  # GMT again
    "2026-06-01T23:30:00+14:00": D(2026, 6, 1),
    "2026-06-01": D(2026, 6, 1),  # a date alone is its own day
    "2026-06-01T23:30:00": D(2026, 6, 1),  # a time with no offset: as written
    "2026-06-01T23:30Z": D(2026, 6, 1),  # no seconds: not an instant, as written
    "2026-06-01T23:30:00+14:01": D(2026, 6, 1),  # no such offset: as written
    "2026-06-01T23:30:00Z\n": D(2026, 6, 1),  # not the pattern to its end: as written
    "1899-12-31T23:30:00-05:00": D(1899, 12, 31),  # before 1900: as written
    "1900-01-01T00:30:00+01:00": D(1899, 12, 31),
    "2999-12-31T23:30:00-14:00": D(3000, 1, 1),
    "3000-01-01T23:30:00Z": D(3000, 1, 1),  # after 2999: as written
    "2026-06-01T23:30:00.1234567890Z": D(2026, 6, 1),  # ten digits of a second: as written
    "2026-06": None,
    "": None,
    None: None,
}
# the same instants in New York (EDT, UTC-4, in June; EST, UTC-5, in January)
NEW_YORK = {
    "2026-06-01T23:30:00Z": D(2026, 6, 1),
    "2026-06-02T00:20:00+01:00": D(2026, 6, 1),
    "2026-06-02T03:59:00Z": D(2026, 6, 1),
    "2026-06-02T04:00:00Z": D(2026, 6, 2),
    "2026-01-16T04:59:00Z": D(2026, 1, 15),
    "2026-06-01": D(2026, 6, 1),
}


def _compiled_days(texts: list[str | None]) -> list[tuple[D | None, D | None]]:
    """Each text's `Day` and last `SpanDay` by the compiled SQL, on DuckDB."""
    t = ibis.memtable({"t": texts}, schema={"t": "string"})
    got = ibis.duckdb.connect().to_pyarrow(t.select(d=_zone_day(t.t), s=_span_day(t.t, True)))
    return list(zip(got["d"].to_pylist(), got["s"].to_pylist(), strict=True))


@pytest.mark.parametrize(
    ("zone", "expected"), [("Europe/London", LONDON), ("America/New_York", NEW_YORK)]
)
def test_an_instant_is_dated_in_the_configured_zone(
    zone: str, expected: dict[str | None, D | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_TIME_ZONE", zone)
    day, span_day = day_readers(zone)
    texts = list(expected)
    for text, (sql_day, sql_span) in zip(texts, _compiled_days(texts), strict=True):
        assert day(text) == expected[text], (zone, text)
        assert sql_day == expected[text], (zone, text)
        assert span_day(text, True) == sql_span, (zone, text)


def test_a_partial_date_keeps_its_span() -> None:
    _, span_day = day_readers("Europe/London")
    assert [span_day("2026-06", False), span_day("2026-06", True)] == [
        D(2026, 6, 1),
        D(2026, 6, 30),
    ]
    assert _compiled_days(["2026-06"]) == [(None, D(2026, 6, 30))]
    # texts near a year's and a month's: the compiled span as the service's (stop 55: the
    # compiled SQL asks the length before each search, which must change no value)
    near = ["2022", "2022-06", "2022\n", "2022-06\n", " 2022", "20222", "2022-6", "２０２２"]
    near += ["0000", "0000-06", "2022-13", "2022-00", "202", "2022-06-1"]
    assert [s for _, s in _compiled_days(near)] == [span_day(t, True) for t in near]
    assert [span_day(t, True) for t in near[:2]] == [D(2022, 12, 31), D(2022, 6, 30)]
    t = ibis.memtable({"t": ["x"]}, schema={"t": "string"})
    sql = " ".join(ibis.to_sql(t.select(s=_span_day(t.t, True)), dialect="duckdb").split())
    for length, pattern in ((4, "'^[0-9]{4}$'"), (7, "'^[0-9]{4}-(0[1-9]|1[0-2])$'")):
        assert f'LENGTH("t0"."t") = {length} ) AND REGEXP_MATCHES("t0"."t", {pattern})' in sql


def test_the_zone_is_the_setting_and_a_bad_one_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EARLYPATH_TIME_ZONE", raising=False)
    assert configured_time_zone() == "Europe/London"
    monkeypatch.setenv("EARLYPATH_TIME_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="EARLYPATH_TIME_ZONE"):
        configured_time_zone()
    # the audit refuses it before reading anything
    (tmp_path / "in").mkdir()
    with pytest.raises(ConfigError, match="EARLYPATH_TIME_ZONE"):
        run_audit(tmp_path / "in", tmp_path / "out", engine="duckdb")
