"""`earlypath.records.sql_substring.substring` gives ibis's ``substr`` value on DuckDB (Spark
runs the same ``SUBSTRING``: the Spark agreement tests read it), written without the CASE
ibis adds for a start counted from the end."""

from __future__ import annotations

import ibis
import pytest

from earlypath.records.sql_substring import substring

_TEXTS = ["", "a", "2020-01-02", "2020-01-02T10:00:00Z", "urn:uuid:é-ß-1", "Patient/x/y", None]


def test_substring_is_ibis_substr_for_every_start_and_length() -> None:
    con = ibis.duckdb.connect()
    t = ibis.memtable({"x": _TEXTS}, schema={"x": "string"})
    pairs = {}
    for start in (0, 1, 4, 8, 9, 30):
        for length in (None, 1, 4, 10):
            key = f"{start}_{length}"
            pairs[f"ours_{key}"] = substring(t.x, start, length)
            pairs[f"ibis_{key}"] = t.x.substr(start, length)
    rows = con.execute(t.select(**pairs)).to_dict("records")
    for row in rows:
        for name, value in row.items():
            if name.startswith("ours_"):
                assert value == row["ibis_" + name[5:]], name
    sql = str(con.compile(t.select(head=substring(t.x, 0, 10), rest=substring(t.x, 9))))
    assert 'SUBSTRING("t0"."x", 1, 10)' in sql and 'SUBSTRING("t0"."x", 10)' in sql
    assert "CASE" not in sql


def test_a_start_counted_from_the_end_is_refused() -> None:
    t = ibis.table({"x": "string"}, name="t")
    with pytest.raises(ValueError, match="from the end"):
        substring(t.x, -1)
