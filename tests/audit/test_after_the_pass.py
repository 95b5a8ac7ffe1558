"""What a DuckDB audit does once episodes.parquet is written (issue 16, stop 33): the file's rows
and last number come from the one read that checks its order (`file_runs`), the counts for the
reconciliation need no statement of their own, and the case list is written by a thread on a
cursor of the same database, the same bytes as when written in turn."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from earlypath.audit.case_list import CaseListInBackground, write_case_list
from earlypath.audit.pass_duckdb import after_one_pass, file_runs, write_one_pass
from earlypath.audit.run import evaluate
from earlypath.audit.summary import FUNNEL_MEASURE
from tests.audit.test_case_list_lines import EPISODES, _csv_writer_text, _episodes
from tests.audit.test_one_pass import HEADER, ROWS


@pytest.mark.parametrize(
    ("numbers", "in_order", "rows", "last"),
    [
        ([], True, 0, 0),
        ([7], True, 1, 7),
        ([1, 2, 5, 6, 9], True, 5, 9),
        ([2, 9, 4], False, 3, 9),
        ([1, 1, 2], False, 3, 2),
    ],
)
def test_file_runs_counts_the_rows_and_finds_the_last_number(
    tmp_path: Path, numbers: list[int], in_order: bool, rows: int, last: int
) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"row_number": pa.array(numbers, pa.int64())}), path)
    runs = file_runs(path)
    assert (runs.in_order, runs.rows, runs.last) == (in_order, rows, last)


def test_the_pass_counts_episodes_and_rejects_for_the_reconciliation(tmp_path: Path) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    ev = evaluate(source)
    target = tmp_path / "episodes.parquet"
    assert write_one_pass(ev, target, progress=False) == 4
    after_one_pass(ev, target)
    # counted by the pass: the reconciliation counts no table again
    assert ev.counts == {"evaluated": 4, "rejected": 3}
    assert pq.read_metadata(target).num_rows == 4


def test_the_case_list_in_background_is_the_same_bytes(tmp_path: Path) -> None:
    con, episodes = _episodes(EPISODES)
    with CaseListInBackground(con, episodes, tmp_path / "cases.csv", FUNNEL_MEASURE) as cases:
        assert cases.finish() == 10
    assert write_case_list(con, episodes, tmp_path / "in-turn.csv", FUNNEL_MEASURE) == 10
    expected = _csv_writer_text(EPISODES).encode("utf-8")
    assert (tmp_path / "cases.csv").read_bytes() == expected
    assert (tmp_path / "in-turn.csv").read_bytes() == expected


def test_an_error_of_the_case_list_s_thread_is_raised_by_finish(tmp_path: Path) -> None:
    con, episodes = _episodes(EPISODES)
    cases = CaseListInBackground(con, episodes, tmp_path / "no folder" / "c.csv", FUNNEL_MEASURE)
    with pytest.raises(FileNotFoundError):
        cases.finish()


class _Statements:
    """The audit's own DuckDB connection, each statement it is given kept in ``sql``."""

    def __init__(self, duck: object) -> None:
        self.duck, self.sql = duck, []

    def execute(self, sql: str, *args: object) -> object:
        self.sql.append(sql)
        return self.duck.execute(sql, *args)  # type: ignore[attr-defined]


def test_a_cohort_numbered_one_to_n_finds_its_rejects_without_its_last_number(
    tmp_path: Path,
) -> None:
    # The last two rows rejected: the numbers after the file's last one are rejects too, and
    # the input's last number is its rows (a CSV numbered 1 to N), read by no statement.
    source = tmp_path / "cohort.csv"
    source.write_text("\n".join([HEADER, *ROWS, ROWS[-1], ROWS[-1]]) + "\n", encoding="utf-8")
    ev = evaluate(source)
    assert ev.one_pass is not None and ev.one_pass.raw_last == len(ROWS) + 2
    target = tmp_path / "episodes.parquet"
    written = write_one_pass(ev, target, progress=False)
    statements = _Statements(ev.con.con)
    ev.con.con = statements
    after_one_pass(ev, target)
    assert not [s for s in statements.sql if "max(row_number)" in s]
    rejects = ev.con.con.duck.execute("SELECT row_number FROM earlypath_rejects").fetchall()
    numbers = sorted(n for (n,) in rejects)
    assert numbers[-2:] == [len(ROWS) + 1, len(ROWS) + 2]
    assert ev.counts == {"evaluated": written, "rejected": len(ROWS) + 2 - written}


def _rejects_found(source: Path, target: Path) -> tuple[list[tuple[object, ...]], list[str]]:
    """The rejects `after_one_pass` finds for ``source``, and the statements it ran."""
    ev = evaluate(source)
    write_one_pass(ev, target, progress=False)
    statements = _Statements(ev.con.con)
    ev.con.con = statements
    after_one_pass(ev, target)
    rejects = statements.duck.execute(
        "SELECT row_number, episode_id, reject_reason FROM earlypath_rejects ORDER BY 1"
    ).fetchall()
    return rejects, statements.sql


def test_one_parquet_file_s_rejects_are_read_by_its_own_numbers(tmp_path: Path) -> None:
    # Rejects in the middle and at the end. One Parquet file's rows not written are joined on
    # the file's own numbers (a join filter DuckDB applies to the scan: issue 16, stop 42); the
    # same rows, ids and reasons as a CSV of the same cells, read through the view's numbers.
    csv = tmp_path / "cohort.csv"
    csv.write_text("\n".join([HEADER, *ROWS, ROWS[-1], ROWS[-1]]) + "\n", encoding="utf-8")
    parquet = tmp_path / "cohort.parquet"
    ev = evaluate(csv)
    ev.con.con.execute(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) TO '{parquet}'")
    from_csv, csv_sql = _rejects_found(csv, tmp_path / "csv-episodes.parquet")
    from_parquet, parquet_sql = _rejects_found(parquet, tmp_path / "parquet-episodes.parquet")
    assert from_parquet == from_csv
    assert [n for n, _, _ in from_parquet][-2:] == [len(ROWS) + 1, len(ROWS) + 2]
    assert any("file_row_number = n.row_number - 1" in s for s in parquet_sql)
    assert not any("file_row_number" in s for s in csv_sql)
