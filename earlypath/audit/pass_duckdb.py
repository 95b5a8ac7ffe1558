"""The DuckDB engine's pass: check, judge and write the episodes in one streamed query.

`judge_on_duckdb` finds the repeated ids and builds the judging query (nothing is judged yet);
`write_one_pass` runs it as one ``COPY (...) TO`` into episodes.parquet, in input order;
`after_one_pass` then finds the rejects (the input rows missing from the file) and the counts.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earlypath.audit.duckdb_plan import input_sql, judging_plan
from earlypath.audit.evaluated import EPISODE_COLUMNS, FEW_REPEATED_IDS, Evaluated, OnePass
from earlypath.audit.flat import FLAT_COLUMNS
from earlypath.audit.load import numbered_one_to_n, rows_numbered_in, sql_text
from earlypath.audit.output import atomic_path
from earlypath.audit.progress import duckdb_progress
from earlypath.audit.progress import progress_bar as _progress
from earlypath.audit.sql_table import SqlTable, column_types, duckdb_engine, sql_name, sql_of
from earlypath.policy import Policy

__all__ = [
    "COPY_MEMORY_BYTES",
    "after_one_pass",
    "bounded_copy_memory",
    "FileRuns",
    "copy_to_parquet",
    "episodes_from_file",
    "file_runs",
    "judge_on_duckdb",
    "rows_in_file",
    "rows_in_order",
    "write_one_pass",
]

EPISODES, REJECTS = "earlypath_episodes", "earlypath_rejects"
REJECTS_FOUND = "earlypath_rejects_found"  # after the pass: the rejects, kept (a few rows)
REPEATED_IDS = "earlypath_repeated_ids"
# The checks are compiled once, into a view over CHECK_INPUT, a view of the raw rows: after the
# pass, CHECK_INPUT is pointed at the rows not written, and the same view checks only those.
CHECK_INPUT, CHECKED = "earlypath_check_input", "earlypath_checked"
# The judged episodes, judged as they are read (by the COPY): a view, made only if asked for.
JUDGED_EPISODES = "earlypath_judged_episodes"


def judge_on_duckdb(con: Any, raw: str, policy: Policy, progress: bool = False) -> Evaluated:
    """DuckDB: nothing is judged yet. ``episodes`` is the accepted rows of the view ``raw``
    judged (a view), which `run_audit` streams straight into episodes.parquet
    (`write_one_pass`): one pass checks, judges and writes, with no judged table held in memory.
    Only the repeated ids are found first (a small table, or a list when few).

    Every query is SQL text: the few built by ibis (the repeated ids, the checks, the rules)
    are kept between runs (`earlypath.audit.duckdb_plan`), the rest are written here, so an
    audit whose plans are kept runs on plain DuckDB and imports no ibis."""
    duck = con.con
    with _progress(progress, None, f"reading the cohort ({con.name})"):
        repeated_sql, counts_sql, as_written_sql = input_sql(con, raw)
        # The rows and their empty cells read as false, in one short statement over the input
        # (not over the checks' view, whose binding alone cost as much on a small audit)
        rows_in, defaulted = (int(n) for n in duck.execute(counts_sql).fetchall()[0])
        types = column_types(duck, raw)
        extras = [c for c in types if c not in FLAT_COLUMNS and c != "row_number"]
        ids_as_written = _repeated_ids_found(duck, repeated_sql, as_written_sql)
        repeated = _few_as_list(duck)
    # The checks are one view, the episodes a view over it: their SQL is built once and kept
    # between runs (`judging_plan`); the rest is written on the views.
    duck.execute(f"CREATE OR REPLACE VIEW {CHECK_INPUT} AS SELECT * FROM {sql_name(raw)}")
    checked_sql, episodes_sql = judging_plan(
        con, CHECK_INPUT, types, policy, repeated, REPEATED_IDS, CHECKED, ids_as_written
    )
    duck.execute(f"CREATE OR REPLACE VIEW {CHECKED} AS {checked_sql}")
    return Evaluated(
        con,
        # Read once, by the COPY: a subquery there (a view made only if ibis asks for it)
        SqlTable.defined_by(con, JUDGED_EPISODES, (*EPISODE_COLUMNS, *extras), episodes_sql),
        # Found after the pass (`after_one_pass`); before it, for callers of `evaluate` only
        _rejects_view(con, CHECKED, made=False),
        rows_in,
        None,
        extras,
        one_pass=OnePass(
            raw,
            CHECKED,
            defaulted,
            raw_rows=rows_in,
            raw_last=rows_in if numbered_one_to_n(con) else None,
        ),
    )


def _repeated_ids_found(duck: Any, repeated_sql: str, as_written_sql: str) -> bool:
    """Fill the table `REPEATED_IDS` with the repeated ids; return whether the checks may read
    the ids as written (`earlypath.audit.validate.check_and_type`'s ``ids_as_written``).

    The ids are grouped as written first (`repeated_or_padded_ids`): when no id is padded or
    empty (the usual cohort), no cleaning changes one, and those repeated are the cleaned ids'
    repeated ones. Otherwise (or when the ids are not text) the cleaned ids are grouped
    (`repeated_ids`), a second read of the input for a cohort with padded ids only."""
    if as_written_sql:
        duck.execute(f"CREATE OR REPLACE TABLE {REPEATED_IDS} AS {as_written_sql}")
        if not _scalar(duck, f"SELECT count(*) FROM {REPEATED_IDS} WHERE NOT repeated"):
            return True
    duck.execute(f"CREATE OR REPLACE TABLE {REPEATED_IDS} AS {repeated_sql}")
    return False


def _rejects_view(con: Any, source: str, made: bool = True) -> SqlTable:
    """The rejects of ``source`` (checked rows): row number, episode id and reason, as a view
    (not ``made`` yet: `SqlTable.defined_by`, for a source whose SQL is long to bind)."""
    columns = ("row_number", "episode_id", "reject_reason")
    sql = (
        f"SELECT row_number, episode_id, reject_reason FROM {sql_name(source)} "
        "WHERE reject_reason IS NOT NULL"
    )
    if not made:
        return SqlTable.defined_by(con, REJECTS, columns, sql)
    con.con.execute(f"CREATE OR REPLACE VIEW {REJECTS} AS {sql}")
    return SqlTable.named(con, REJECTS, columns)


def _few_as_list(duck: Any) -> list[str] | None:
    """The repeated ids as a list when there are few (the usual case: none or a handful), else
    None (the table `REPEATED_IDS` is joined). A list is tested row by row like any other value,
    so the judging pass stays a scan of one table, which DuckDB keeps in input order; a join may
    reorder rows (and the episodes are then sorted on writing)."""
    # One query, not a count then a fetch: at most one id more than "few" is read.
    ids = [
        row[0]
        for row in duck.execute(
            f"SELECT episode_id FROM {REPEATED_IDS} LIMIT {FEW_REPEATED_IDS + 1}"
        ).fetchall()
    ]
    if len(ids) > FEW_REPEATED_IDS:
        return None
    return sorted(i for i in ids if i is not None)  # a missing id has its own "is required"


def _scalar(duck: Any, sql: str) -> int:
    return int(duck.execute(sql).fetchall()[0][0])


def write_one_pass(
    ev: Evaluated, target: Path, progress: bool, restore_default: bool = True
) -> int:
    """DuckDB: check, judge and write the episodes in one query (``COPY (...) TO``), streamed:
    no judged table is built first. A scan and filters keep the input order (the repeated ids
    are a list, not a join, when few), so the file is written without a sort; the order is
    checked on the file and, only if it does not hold, the file is written again, sorted.
    Returns the rows written (counted by the order's check, `file_runs`, which also keeps the
    file's last row number for `after_one_pass`).

    With ``restore_default`` False, the COPY's memory limit is left in place after it
    (`bounded_copy_memory`): for a connection that is the audit's own, dropped with it."""
    assert ev.one_pass is not None
    duck = ev.con.con
    with (
        atomic_path(target) as tmp,
        duckdb_progress(progress, duck, ev.rows_in, "checking and judging"),
        bounded_copy_memory(duck, restore_default),
    ):
        copy_to_parquet(ev.con, ev.episodes, tmp)
        runs = file_runs(tmp, duck)
        if not runs.in_order:
            ordered = f"SELECT * FROM ({sql_of(ev.con, ev.episodes)}) ORDER BY row_number"
            copy_to_parquet(ev.con, ordered, tmp)
            runs = file_runs(tmp, duck)  # (the gaps of the file as written: `after_one_pass`)
    ev.one_pass.written_rows, ev.one_pass.written_last = runs.rows, runs.last
    return runs.rows


# What DuckDB's ordered COPY may hold beyond what the connection holds already (see below).
COPY_MEMORY_BYTES = 1 << 30


@contextmanager
def bounded_copy_memory(duck: Any, restore_default: bool = True) -> Iterator[None]:
    """DuckDB's COPY in input order keeps the row groups finished early until those before them
    are written, using up to its memory limit (80% of RAM by default) for them: 2.2 GB for 10M
    rows. With the limit set to what the connection already holds (a CSV cohort's table) plus
    1 GB for the duration of the COPY, the COPY of 10M rows peaked at 0.86 GB (the whole audit
    at 0.94-1.04 GB) for the same CPU time (16.6 s either way; with 0.5 GB it was 12% slower).
    The default comes back after, unless ``restore_default`` is False and the COPY succeeded:
    changing the limit once the COPY has run costs 0.01-0.03 s of CPU and 0.04-0.07 s of wall
    a million rows (DuckDB gives back the COPY's memory then, in a `SET` that holds the other
    statements up), where the connection's own end, which frees the same memory, costs 0.01
    s more than after a reset. An audit's connection, dropped with the audit, runs only small
    statements after the COPY (the rejects' few rows, counts by group), well within the limit."""
    held = duck.execute(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
    ).fetchall()[0][0]
    duck.execute(f"SET memory_limit = '{int(held) + COPY_MEMORY_BYTES}B'")
    try:
        yield
    except BaseException:
        duck.execute("RESET memory_limit")
        raise
    if restore_default:
        duck.execute("RESET memory_limit")


def episodes_from_file(ev: Evaluated, written: Path) -> SqlTable:
    """DuckDB, once `write_one_pass` has written the episodes: ``ev.episodes`` becomes a view
    of the file (the summary and the case list read a few columns of it); returned."""
    file = f"read_parquet({sql_text(str(written))})"
    ev.con.con.execute(f"CREATE OR REPLACE VIEW {EPISODES} AS SELECT * FROM {file}")
    ev.episodes = SqlTable.named(ev.con, EPISODES, ev.episodes.columns)
    return ev.episodes


def after_one_pass(ev: Evaluated, written: Path) -> None:
    """DuckDB, once `write_one_pass` has written the episodes: they are read back from the
    file (the summary and case list read a few columns of it), and the rejects are the input
    rows whose numbers are not in it, checked again by the same view: the checks run on those
    few rows only, not on the cohort a second time. A row in neither (it cannot happen) has no
    reason, is in neither count, and fails the reconciliation.

    The numbers not written are the gaps in the file's ``row_number`` column, found when its
    order was checked (`file_runs`), and those after its last row, so DuckDB joins the input to
    those few numbers instead of to every written one (a hash table of the whole cohort).

    When every row was written (a clean cohort: as many rows in the file as in the input), no
    row is checked again: the rejects are an empty table and the long checks are not bound a
    third time.

    The counts are set for the reconciliation (``ev.counts``): the episodes are the file's rows
    (counted with its order), the rejects are counted with their empty cells read as false, in
    one statement. Those cells are counted for the episodes as every row's count (counted with
    the rows before the pass, `judge_on_duckdb`) less the rejects'."""
    assert ev.one_pass is not None
    one_pass = ev.one_pass
    duck, raw = ev.con.con, sql_name(one_pass.raw)
    if ev.episodes.name != EPISODES:
        episodes_from_file(ev, written)
    if one_pass.written_rows < one_pass.raw_rows:
        # The input's last number: its rows when numbered 1 to N (a Parquet or CSV cohort),
        # else a read of its numbers (a FHIR export's have gaps)
        last = one_pass.raw_last
        if last is None:
            last = _scalar(duck, f"SELECT coalesce(max(row_number), 0) FROM {raw}")
        # The numbers in no gap of the file (`file_runs` found them), and those after its last.
        duck.execute(
            f"CREATE OR REPLACE TEMP TABLE {NOT_WRITTEN} AS "
            f"SELECT unnest(range(lo, least(hi, {last + 1}))) AS row_number FROM {GAPS} "
            f"UNION ALL SELECT unnest(range({one_pass.written_last + 1}, {last + 1})) "
            "AS row_number"
        )
        duck.execute(
            f"CREATE OR REPLACE VIEW {CHECK_INPUT} AS " + rows_numbered_in(ev.con, raw, NOT_WRITTEN)
        )
        duck.execute(
            f"CREATE OR REPLACE TABLE {REJECTS_FOUND} AS SELECT {', '.join(_REJECT_COLUMNS)} "
            f"FROM {sql_name(one_pass.checked)} WHERE reject_reason IS NOT NULL"
        )
    else:  # every row written (a clean cohort): no row to check again, the checks not bound
        _no_rejects(duck, one_pass.checked)
    ev.rejects = _rejects_view(ev.con, REJECTS_FOUND)
    rejected, defaulted = duck.execute(
        f"SELECT count(*), coalesce(sum(defaulted_false_cells), 0) FROM {REJECTS_FOUND}"
    ).fetchall()[0]
    ev.counts = {"evaluated": one_pass.written_rows, "rejected": int(rejected)}
    ev.defaulted_false_cells = one_pass.defaulted_every_row - int(defaulted)


_REJECT_COLUMNS = ("row_number", "episode_id", "reject_reason", "defaulted_false_cells")


def _no_rejects(duck: Any, checked: str) -> None:
    """`REJECTS_FOUND` empty, its columns of the types the checks' view gives them (as DuckDB
    keeps them for the view: reading them binds nothing, where a query of the view, even one
    returning no row, binds the long checks: about 0.02 s)."""
    types = dict(
        duck.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE table_name = ? AND schema_name = current_schema() "
            "AND database_name = current_database()",
            [checked],
        ).fetchall()
    )
    columns = ", ".join(f"{sql_name(c)} {types[c]}" for c in _REJECT_COLUMNS)
    duck.execute(f"CREATE OR REPLACE TABLE {REJECTS_FOUND} ({columns})")


NOT_WRITTEN = "earlypath_rows_not_written"
GAPS = "earlypath_gaps_in_the_file"  # by `rows_in_order`: the numbers missing between rows


def copy_to_parquet(con: Any, expr: Any, target: Path) -> None:
    """Write a table (a `SqlTable`, SQL text or an ibis table of ``con``) to a Parquet file."""
    sql = sql_of(con, expr)
    try:
        con.con.execute(
            f"COPY ({sql}) TO {sql_text(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
    except (
        duckdb_engine().IOException
    ):  # a full disk, a file size limit: an output error, not a bug
        raise OSError(
            errno.EIO, "DuckDB could not write episodes.parquet (is the disk full?)"
        ) from None


def rows_in_file(duck: Any, path: Path) -> int:
    """The rows of a Parquet file (from its footer)."""
    return _scalar(duck, f"SELECT count(*) FROM read_parquet({sql_text(str(path))})")


def rows_in_order(path: Path, duck: Any = None) -> bool:
    """Whether the Parquet file's ``row_number`` column strictly increases from row to row
    (`file_runs`)."""
    return file_runs(path, duck).in_order


@dataclass(frozen=True)
class FileRuns:
    """What `file_runs` found in a Parquet file of episodes."""

    in_order: bool  # its ``row_number`` strictly increases from row to row
    rows: int  # its rows
    last: int  # its largest ``row_number`` (0 when it has no row)


def file_runs(path: Path, duck: Any = None) -> FileRuns:
    """Whether the Parquet file's ``row_number`` column strictly increases from row to row, its
    rows and its largest row number, from one read of the column.

    DuckDB reads the column (no pyarrow or NumPy, whose imports cost more than this query on a
    small audit) without sorting it: in a file in order, a row's number less its position in
    the file only grows, and is the same along each run of consecutive numbers, so the rows
    grouped by it are a few runs (one more after each reject). The file is in order when each
    run is one block of positions and the runs, by position, leave no number twice. The
    numbers missing before each run (``lo`` to ``hi``, ``hi`` not included) are kept in the
    table `GAPS` of ``duck`` for `after_one_pass`; a run's rows and its last number (its last
    position plus its shift: every number of a run is its position plus the shift) give the
    file's, so no other statement counts the file or looks for its last number."""
    duck = duck if duck is not None else _new_connection()
    runs = (
        "SELECT row_number - file_row_number AS shift, min(file_row_number) AS first, "
        "max(file_row_number) AS last, count(*) AS n, count(row_number) AS numbered "
        f"FROM read_parquet({sql_text(str(path))}, file_row_number = true) GROUP BY shift"
    )
    duck.execute(
        f"CREATE OR REPLACE TEMP TABLE {GAPS} AS SELECT "
        "coalesce(lag(last + shift) OVER (ORDER BY first), 0) + 1 AS lo, first + shift AS hi, "
        "n = last - first + 1 AND first = coalesce(lag(last) OVER (ORDER BY first), -1) + 1 "
        f"AS one_block, n - numbered AS no_number, n, last + shift AS top FROM ({runs})"
    )
    no_number, backwards, rows, top = duck.execute(
        "SELECT coalesce(sum(no_number), 0), count(*) FILTER (NOT one_block OR hi < lo), "
        f"coalesce(sum(n), 0), coalesce(max(top), 0) FROM {GAPS}"
    ).fetchall()[0]
    if no_number:  # the input's numbering: it cannot happen
        raise ValueError(f"{path.name}: a row has no row_number")
    return FileRuns(not backwards, int(rows), int(top))


def _new_connection() -> Any:
    return duckdb_engine().connect()
