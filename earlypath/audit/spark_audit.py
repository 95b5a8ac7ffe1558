"""The audit's Spark path: judge the cohort in one pass, count it in the same job, write in order.

A Spark action costs a fixed 0.2-2 s (planning a deep query, scheduling, a cold JVM) whatever the
rows, so the path is built to run as few as it can:

- the input rows are known from reading the cohort (Parquet footers, the CSV numbering's block
  counts: `earlypath.audit.load.rows_read`), not counted by a query;
- the repeated episode ids are found before the judging (as on DuckDB: a list of a few ids
  keeps the judging a scan of the cohort; a join would shuffle every row by its id): for a
  Parquet cohort by DuckDB over the same files (`few_repeated_ids`),
  else by one small Spark query;
- the judged rows are cached, and the job that fills the cache also counts the episodes, the
  rejects and the empty cells read as false (one aggregate);
- ``episodes.parquet`` is written from the cache by every core at once, each task sorting its
  own rows (no global sort: no sampling job, no shuffle), and the part files are joined into one
  file in ``row_number`` order.

The summary's counts and the case list are then counted by DuckDB from the files just written
(`read_back_on_duckdb`): ``episodes.parquet`` holds exactly the episodes table and rejects.csv
every reject's reason, and a local read of a few columns takes milliseconds where each Spark
query after the write cost a cold JVM's planning and a job (0.3-2 s each, five of them).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from earlypath.audit.load import rows_read
from earlypath.audit.output import atomic_path
from earlypath.audit.progress import progress_bar
from earlypath.audit.validate import repeated_ids
from earlypath.policy import Policy

__all__ = ["judge_on_spark", "read_back_on_duckdb", "write_episodes_spark", "write_in_order"]

JUDGED = "earlypath_judged"


def judge_on_spark(con: Any, raw: Any, policy: Policy, progress: bool = False) -> Any:
    """Check and judge every row (`earlypath.audit.judge.Evaluated`), with its counts taken in the
    one job that computes the judged rows."""
    from pyspark.sql import functions as F

    from earlypath.audit.judge import (
        EPISODE_COLUMNS,
        Evaluated,
        _count,
        _extras,
        _few_as_list,
        _judged,
    )
    from earlypath.audit.load import parquet_source, view

    rows_in = rows_read(con)
    if rows_in is None:  # an input whose loading did not count its rows (a FHIR export)
        rows_in = _count(con, raw)
    extras = _extras(raw)
    source = parquet_source(con)
    repeated = None if source is None else few_repeated_ids(source)  # by DuckDB
    if repeated is None:
        repeated = _few_as_list(con, repeated_ids(raw))
    judged_expr = _judged(raw, extras, policy, repeated)
    df = con._session.sql(con.compile(judged_expr)).cache()
    df.createOrReplaceTempView(JUDGED)
    accepted = F.col("reject_reason").isNull()
    with progress_bar(progress, None, f"checking and judging {rows_in:,} rows (spark)"):
        (counted,) = df.agg(
            F.count(F.when(accepted, 1)).alias("evaluated"),
            F.count(F.when(~accepted, 1)).alias("rejected"),
            F.coalesce(F.sum(F.when(accepted, F.col("defaulted_false_cells"))), F.lit(0)).alias(
                "defaulted"
            ),
        ).collect()
    judged = con.table(JUDGED)
    good = judged.filter(judged.reject_reason.isnull())
    rejects = judged.filter(judged.reject_reason.notnull())
    # The rejects (usually few) as one partition: sorting them is then one job, not a range
    # shuffle's three.
    rejects_df = con._session.sql(
        con.compile(rejects.select("row_number", "episode_id", "reject_reason"))
    )
    rejects_df.coalesce(1).createOrReplaceTempView("earlypath_rejects")
    return Evaluated(
        con,
        view(con, good.select(*EPISODE_COLUMNS, *extras), "earlypath_episodes"),
        con.table("earlypath_rejects"),
        rows_in,
        int(counted["defaulted"]),
        extras,
        counts={"evaluated": int(counted["evaluated"]), "rejected": int(counted["rejected"])},
    )


def write_episodes_spark(ev: Any, target: Path, progress: bool = False) -> int:
    """Spark writes ``episodes.parquet`` itself, in ``row_number`` order (`write_in_order`)."""
    with progress_bar(progress, None, "writing the episodes (spark)"):
        return write_in_order(ev.con._session.sql(ev.con.compile(ev.episodes)), target)


def write_in_order(df: Any, target: Path) -> int:
    """Write a Spark DataFrame with a ``row_number`` column as one Parquet file in ``row_number``
    order; returns the rows in the file.

    Spark writes one part file per partition, each sorted, in parallel; they are joined into one
    file, moved into place. A partition is usually a run of consecutive rows (a split of one
    input file). When the runs overlap (a partition packed several small input files), the rows
    are written again in ranges of ``row_number`` (a sampling job and a shuffle), which never
    overlap."""
    import pyarrow.parquet as pq

    folder = Path(tempfile.mkdtemp(prefix=".episodes-", dir=target.parent))
    try:
        parts = _write_sorted_parts(df, folder / "out")
        runs = _runs_in_order(parts)
        if runs is None:
            ranges = df.repartitionByRange(max(2, len(parts)), "row_number")
            runs = _runs_in_order(_write_sorted_parts(ranges, folder / "ranges"))
        if runs is None:
            raise RuntimeError("Spark wrote ranges of episodes that overlap")
        with atomic_path(target) as tmp:
            _join(runs, tmp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return int(pq.ParquetFile(target).metadata.num_rows)


def _write_sorted_parts(df: Any, folder: Path) -> list[Path]:
    # The parts are read once and dropped: not compressed (the joined file is).
    df.sortWithinPartitions("row_number").write.mode("overwrite").option(
        "compression", "uncompressed"
    ).parquet(str(folder))
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        raise RuntimeError("Spark wrote no episodes file")
    return parts


def _runs_in_order(parts: list[Path]) -> list[Path] | None:
    """The part files (each sorted by ``row_number``) in the order of their first row, if each
    one's rows all come before the next one's; else None. Empty parts are left out, but one is
    kept when all are empty (it holds the schema)."""
    import pyarrow.parquet as pq

    runs = []
    for part in parts:
        numbers = pq.ParquetFile(part).read(columns=["row_number"]).column(0)
        if len(numbers):
            runs.append((numbers[0].as_py(), numbers[-1].as_py(), part))
    runs.sort(key=lambda run: run[0])
    if any(a[1] >= b[0] for a, b in zip(runs, runs[1:], strict=False)):
        return None
    return [part for _, _, part in runs] or parts[:1]


# Rows per row group of episodes.parquet, whatever the parts: the file is then the same bytes
# on any number of cores (pyarrow's own largest row group).
JOINED_ROW_GROUP = 1 << 20


def _join(parts: list[Path], target: Path, group_rows: int = JOINED_ROW_GROUP) -> None:
    """Copy the parts' rows into one Parquet file in row groups of ``group_rows`` (the last one
    shorter), holding at most one row group more than that in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = [pq.ParquetFile(p) for p in parts]
    schema = files[0].schema_arrow
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        held: list[pa.Table] = []
        rows = 0
        for file in files:
            for group in range(file.num_row_groups):
                table = file.read_row_group(group)
                held.append(table)
                rows += table.num_rows
                while rows >= group_rows:
                    pending = pa.concat_tables(held)
                    writer.write_table(pending.slice(0, group_rows), row_group_size=group_rows)
                    held, rows = [pending.slice(group_rows)], rows - group_rows
        if rows:
            writer.write_table(pa.concat_tables(held), row_group_size=group_rows)


def read_back_on_duckdb(ev: Any, episodes_file: Path, rejects_file: Path) -> Any:
    """``ev`` with its episodes and rejects read by DuckDB from the files the Spark audit wrote
    (``episodes.parquet``, rejects.csv), for the summary's counts and the case list: the same
    rows the Spark tables hold (the write is checked against the judged counts), counted the
    way the DuckDB engine counts its own, with no Spark job."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.csv as pv

    from earlypath.audit.sql_table import PlainDuckDB, SqlTable

    duck = PlainDuckDB()
    duck.con.execute(
        f"CREATE VIEW earlypath_episodes AS SELECT * FROM read_parquet({_sql_path(episodes_file)})"
    )
    # rejects.csv as written by `write_tables.write_rejects` (Python's csv: quoted fields may
    # hold newlines); every cell read back as the text written.
    columns = ("row_number", "episode_id", "reject_reason")
    rejects = pv.read_csv(
        rejects_file,
        read_options=pv.ReadOptions(column_names=list(columns), skip_rows=1),
        parse_options=pv.ParseOptions(newlines_in_values=True),
        convert_options=pv.ConvertOptions(
            column_types={c: pa.string() for c in columns}, strings_can_be_null=False
        ),
    )
    duck.con.register("earlypath_rejects", rejects)
    return dataclasses.replace(
        ev,
        con=duck,
        episodes=SqlTable.named(duck, "earlypath_episodes", tuple(ev.episodes.columns)),
        rejects=SqlTable.named(duck, "earlypath_rejects", columns),
    )


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def few_repeated_ids(source: Path) -> list[str] | None:
    """The repeated episode ids of a Parquet cohort, found by DuckDB, when they are few enough
    to be a list (`_few_as_list`); else None (Spark then finds them)."""
    from earlypath.audit.judge import _few_as_list
    from earlypath.audit.load import connect, load_raw
    from earlypath.audit.validate import repeated_ids

    duck = connect("duckdb")
    try:
        ids = _few_as_list(duck, repeated_ids(load_raw(duck, source, "parquet")))
    finally:
        duck.disconnect()
    return ids if isinstance(ids, list) else None
