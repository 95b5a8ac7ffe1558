"""The DuckDB audit's case list: DuckDB writes its lines (issue 16), the bytes Python's
csv.writer wrote from the rows: quoting, doubled quotes, line breaks in a field, CRLF, no site
last and named "(not recorded)", then input order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from earlypath.audit.case_list import NO_SITE, _case_lines_sql, write_case_list
from earlypath.audit.sql_table import PlainDuckDB, SqlTable
from earlypath.audit.summary import FUNNEL_MEASURE

EPISODES = [
    # row_number, site, episode_id, adherence
    (1, "B", "e1", "not_offered"),
    (2, "A", "e,2", "not_offered"),
    (3, None, 'say "3"', "not_offered"),
    (4, "A", "e4", "offered"),
    (5, "a,b", "line\nbreak", "not_offered"),
    (6, "A", "cr\rid", "not_offered"),
    (7, "é site", "ü 😀", "not_offered"),
    (8, "A", " spaced ", "not_offered"),
    (9, None, "e9", "not_offered"),
    (10, "B", "e10", "care_unknown"),
    (11, "A", "", "not_offered"),
    (12, '"', "'quoted'", "not_offered"),
]


def _csv_writer_text(rows: list[tuple[int, str | None, str, str]]) -> str:
    cases = sorted(
        (r for r in rows if r[3] == "not_offered"), key=lambda r: (r[1] is None, r[1] or "", r[0])
    )
    handle = io.StringIO(newline="")
    out = csv.writer(handle)
    out.writerow(["site", "episode_id"])
    for _, site, episode_id, _ in cases:
        out.writerow([site if site is not None else NO_SITE, episode_id])
    return handle.getvalue()


def _episodes(rows: list[tuple[int, str | None, str, str]]) -> tuple[PlainDuckDB, SqlTable]:
    con = PlainDuckDB()
    con.con.execute(
        "CREATE TABLE eps (row_number BIGINT, site VARCHAR, episode_id VARCHAR, adherence VARCHAR)"
    )
    if rows:
        con.con.executemany("INSERT INTO eps VALUES (?, ?, ?, ?)", rows)
    return con, SqlTable.named(con, "eps")


def test_the_lines_are_csv_writer_s(tmp_path: Path) -> None:
    con, episodes = _episodes(EPISODES)
    target = tmp_path / "cases.csv"
    assert write_case_list(con, episodes, target, FUNNEL_MEASURE) == 10
    assert target.read_bytes() == _csv_writer_text(EPISODES).encode("utf-8")


def test_no_case_is_the_header_alone(tmp_path: Path) -> None:
    con, episodes = _episodes([(1, "A", "e1", "offered")])
    target = tmp_path / "cases.csv"
    assert write_case_list(con, episodes, target, FUNNEL_MEASURE) == 0
    assert target.read_bytes() == b"site,episode_id\r\n"


def test_duckdb_writes_the_lines() -> None:
    con, episodes = _episodes(EPISODES)
    sql = _case_lines_sql(episodes, ["not_offered"])
    assert "string_agg(" in sql and "ORDER BY" in sql
