"""The DuckDB summary's counts by group (issue 16): the keys the audit makes (month, version,
decision: a few values each) are summed from one group-by over them first, the input's keys
counted straight from the rows; the counts are those of one group-by per key."""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb

from earlypath.audit.summary import FEW_VALUES, duckdb_counts_sql

ROWS = [
    # site, month, age_band, guideline_version, decision, adherence, extra
    ("A", "2024-01", "20-29", "2021-11-24", "offer", "offered", "x"),
    ("A", "2024-01", "20-29", "2021-11-24", "offer", "not_offered", "x"),
    ("A", "2024-02", None, "2021-11-24", "do_not_offer", "not_given_per_guideline", None),
    (None, "2024-02", "30-39", "2019-04-17", "needs_information", "undecidable", "y"),
    ("B", None, "30-39", None, None, None, "y"),
    ("B", "2024-03", "30-39", "2023-08-23", "offer", "care_unknown", "it's"),
    ("B", "2024-03", "40+", "2023-08-23", "offer", "care_unknown", "it's"),
]
COLUMNS = ("site", "month", "age_band", "guideline_version", "decision", "adherence", "extra")


def _counts(con: Any, sql: str) -> Counter[tuple[Any, ...]]:
    return Counter({(k, v, a): n for k, v, a, n in con.execute(sql).fetchall()})


def _one_group_by_per_key(con: Any, keys: list[str]) -> Counter[tuple[Any, ...]]:
    out: Counter[tuple[Any, ...]] = Counter()
    for key in keys:
        for value, adherence, n in con.execute(
            f'SELECT CAST("{key}" AS VARCHAR), adherence, count(*) FROM episodes GROUP BY ALL'
        ).fetchall():
            out[(key, value, adherence)] = n
    return out


def _episodes() -> Any:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE episodes ({', '.join(f'{c} VARCHAR' for c in COLUMNS)})")
    con.executemany(f"INSERT INTO episodes VALUES ({', '.join('?' * len(COLUMNS))})", ROWS)
    return con


def test_the_counts_are_one_group_by_per_key() -> None:
    con = _episodes()
    for keys in (
        ["site", "month", "age_band", "extra", "guideline_version", "decision"],
        ["site", "extra"],  # none of the audit's keys
        ["month", "guideline_version", "decision"],  # only the audit's keys
        ["decision"],
    ):
        sql = duckdb_counts_sql("SELECT * FROM episodes", keys)
        assert _counts(con, sql) == _one_group_by_per_key(con, keys), keys


def test_the_keys_the_audit_makes_are_grouped_first() -> None:
    keys = ["site", "month", "age_band", "guideline_version", "decision"]
    sql = duckdb_counts_sql("SELECT * FROM episodes", keys)
    assert FEW_VALUES == ("month", "guideline_version", "decision")
    grouped = '(SELECT "month", "guideline_version", "decision", "adherence", count(*) AS n'
    assert grouped in sql
    assert sql.count("GROUP BY GROUPING SETS") == 2
    # The input's keys are not grouped with them (their values may be many).
    assert '("site", adherence), ("age_band", adherence)' in sql
