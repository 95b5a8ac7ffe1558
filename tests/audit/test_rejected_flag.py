"""The checks' ``_rejected`` flag (issue 16: the DuckDB audit's speed): the judged episodes keep
the rows it does not flag, a test of one boolean, not of the built reason; it is never NULL and
flags exactly the rows with a ``reject_reason``, text and CSV cells alike."""

from __future__ import annotations

import datetime as dt
import re

import ibis
import pyarrow as pa

from earlypath.audit.judge import _episodes
from earlypath.audit.validate import check_and_type, repeated_ids
from earlypath.policy import Policy
from tests.audit.helpers import FLAT_SCHEMA, GOOD_DAY, GOOD_ROW

DAY = GOOD_DAY
GOOD = {k: v for k, v in GOOD_ROW.items() if k != "scan_route"}  # no route here
ROWS = [
    GOOD,
    {"episode_id": "e2", "assessed_on": DAY},  # every check Unknown or false: accepted
    {**GOOD, "episode_id": "e3", "lmp": DAY + dt.timedelta(days=1)},  # lmp after assessed_on
    {**GOOD, "episode_id": "e4", "crl_mm": float("nan")},  # unreadable
    {**GOOD, "episode_id": "e5", "fetal_pole": False, "scan_date": None},  # two problems
    {**GOOD, "episode_id": "e6", "assessed_on": dt.date(2019, 1, 1)},  # before NG126
    {**GOOD, "episode_id": "e6"},  # repeated
    {**GOOD, "episode_id": None},
]


def test_the_flag_marks_exactly_the_rows_with_a_reason() -> None:
    raw = ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA))
    checked = check_and_type(raw, repeated_ids(raw)).select("reject_reason", "_rejected")
    rows = ibis.duckdb.connect().to_pyarrow(checked).to_pylist()
    flags = [r["_rejected"] for r in rows]
    assert flags == [r["reject_reason"] is not None for r in rows]
    assert flags == [False, False, True, True, True, True, True, True]


def test_the_judged_episodes_keep_the_rows_by_the_flag() -> None:
    raw = ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA))
    raw = raw.mutate(row_number=ibis.row_number() + 1)
    episodes = _episodes(check_and_type(raw, repeated_ids(raw)), [], Policy())
    sql = " ".join(str(ibis.to_sql(episodes, dialect="duckdb")).split())
    assert re.search(
        r'WHERE NOT \( "t\d+"\."_rejected" \)', sql
    )  # the rows kept by the flag, not by the reason
    assert sorted(ibis.duckdb.connect().to_pyarrow(episodes)["episode_id"].to_pylist()) == [
        "e1",
        "e2",
    ]
