"""Write the judged tables: episodes.parquet (in ``row_number`` order) and rejects.csv.

For the engines that judged into a table (python, Spark); DuckDB writes its episodes while it
judges (`earlypath.audit.pass_duckdb.write_one_pass`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from earlypath.audit.evaluated import Evaluated
from earlypath.audit.load import fetch_arrow
from earlypath.audit.output import atomic_path
from earlypath.audit.pass_duckdb import copy_to_parquet, rows_in_file, rows_in_order
from earlypath.audit.progress import progress_bar as _progress
from earlypath.audit.sql_table import SqlTable, count_rows, query_rows

__all__ = ["count_of", "write_episodes", "write_rejects"]


def count_of(con: Any, table: Any) -> int:
    """The rows of a table: a `SqlTable` (the DuckDB pass) or an ibis table of ``con``."""
    if isinstance(table, SqlTable):
        return count_rows(con.con, table)
    from earlypath.audit.judge import _count

    return _count(con, table)


def write_episodes(ev: Evaluated, target: Path, progress: bool) -> int:
    """Write the judged episodes in ``row_number`` order; returns the rows written."""
    if ev.con.name == "pyspark":
        from earlypath.audit.spark_audit import write_episodes_spark

        return write_episodes_spark(ev, target, progress and ev.counts["evaluated"] > 100_000)
    total = count_of(ev.con, ev.episodes)
    # DuckDB (the python engine's tables) writes Parquet itself, in parallel (3x faster than
    # Arrow batches through Python). Filtering one table keeps its row order, and the judged
    # table is stored in input order when DuckDB preserves it: the file is written without a
    # sort (a sort moves every column: 0.1 s per million rows), the order is checked on the
    # file, and only if it does not hold is the file written again, sorted.
    with (
        atomic_path(target) as tmp,
        _progress(progress and total > 100_000, None, f"writing {total:,} episodes"),
    ):
        copy_to_parquet(ev.con, ev.episodes, tmp)
        if not rows_in_order(tmp, ev.con.con):
            copy_to_parquet(ev.con, ev.episodes.order_by("row_number"), tmp)
    return rows_in_file(ev.con.con, target)


def write_rejects(ev: Evaluated, target: Path) -> int:
    """Write rejects.csv (row number, episode id, reasons) in ``row_number`` order."""
    if isinstance(ev.rejects, SqlTable):
        rows = query_rows(ev.con.con, f"{ev.rejects.sql} ORDER BY row_number")
    elif ev.con.name == "pyspark":  # read with the judging (no Spark job)
        from earlypath.audit.spark_audit import judged_rejects

        rows = judged_rejects(ev.con).to_pylist()
    else:
        rows = fetch_arrow(ev.con, ev.rejects.order_by("row_number")).to_pylist()
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["row_number", "episode_id", "reason"])
        for row in rows:
            out.writerow([row["row_number"], row["episode_id"] or "", row["reject_reason"]])
    return len(rows)
