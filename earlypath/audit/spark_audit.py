"""The audit's Spark path: one Spark job judges every row and writes it, sorted, as part files.

A Spark action costs a fixed 0.2-2 s (planning a deep query, scheduling, a cold JVM) whatever the
rows, so the path runs as few as it can, for a Parquet cohort one:

- the input rows are known from reading the cohort (Parquet footers, the CSV numbering's block
  counts: `earlypath.audit.load.rows_read`), not counted by a query;
- the repeated episode ids are found before the judging (as on DuckDB: a list of a few ids
  keeps the judging a scan of the cohort; a join would shuffle every row by its id): for a
  Parquet cohort by DuckDB over the same files (`few_repeated_ids`), in a thread started with
  the loading, so it overlaps Spark's own reading and planning (`search_repeated_ids`),
  else by one small Spark query;
- the judging's Spark SQL is kept between runs (`earlypath.audit.spark_plan`, as the DuckDB
  pass keeps its own), so a warm run builds no ibis expression and renders no SQL;
- the judged rows (episodes and rejects, with ``reject_reason`` and the empty cells read as
  false) are written by every core at once, each task sorting its own rows (no global sort: no
  sampling job, no shuffle), as uncompressed part files: the one job of the judging;
- the counts (evaluated, rejected, empty cells) and the rejects are read from the parts'
  few columns by pyarrow, and ``episodes.parquet`` is the parts' episodes joined into one file
  in ``row_number`` order (`write_episodes_spark`). Before, the judged rows were cached, counted
  by one job, written by a second and the rejects read by a third: the cache's building and two
  cold queries' planning were a third of a 100k-row audit;
- the summary's counts and the case list are counted by DuckDB from the judged parts
  (`read_back_on_duckdb`), the same rows as ``episodes.parquet``, while a thread joins that
  file (`EpisodesJoin`: Python's tail after the job is then the longer of the two, not their
  sum); a local read of a few columns takes milliseconds where each Spark query after the write
  cost a cold JVM's planning and a job (0.3-2 s each, five of them).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earlypath.audit.load import loaded_layout, rows_read
from earlypath.audit.output import atomic_path
from earlypath.audit.progress import progress_bar
from earlypath.policy import Policy

# The checks and rules (`earlypath.audit.validate`, `judge`: most of a second of imports) are
# imported where used, so a Parquet audit imports them in the repeated-id search's thread while
# Spark reads the cohort, not before it starts.
if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "EpisodesJoin",
    "judge_on_spark",
    "judged_rejects",
    "read_back_on_duckdb",
    "write_episodes_spark",
    "write_in_order",
]

JUDGED = "earlypath_judged"
REJECT_COLUMNS = ("row_number", "episode_id", "reject_reason")


@dataclass
class JudgedParts:
    """The judged rows as Spark wrote them (sorted runs of ``row_number``, in order), their
    counts and rejects; the folder goes when this is dropped or the episodes are joined."""

    folder: Path
    runs: list[Path]
    schema: Any  # the parts' Arrow schema as Spark wrote them
    episode_columns: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    rejects: Any = None  # a pyarrow Table of REJECT_COLUMNS, in row_number order
    # episodes.parquet being joined into this folder, when the judging started it (`EpisodesJoin`)
    joined: Future[Path] | None = None

    def __post_init__(self) -> None:
        self.remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)


# The judged parts of the audit last judged on a Spark connection (as `load.rows_read`).
_JUDGED_PARTS: weakref.WeakKeyDictionary[Any, JudgedParts] = weakref.WeakKeyDictionary()


def judge_on_spark(
    con: Any,
    raw: Any,
    policy: Policy,
    progress: bool = False,
    search: Future[list[str] | None] | None = None,
    parser_warmed: Future[None] | None = None,
    join_episodes: bool = False,
) -> Any:
    """Check and judge every row (`earlypath.audit.judge.Evaluated`) in one Spark job that writes
    them as sorted part files; the counts and rejects come from the parts (`JudgedParts`).
    ``search``: DuckDB's search for the repeated ids (`search_repeated_ids`), started by the
    caller before the loading; without it Spark finds them. ``parser_warmed``: the parse of
    an earlier judging's SQL (`earlypath.audit.spark_plan.warm_the_parser`), waited for before
    this one's is parsed. ``join_episodes`` (a whole audit, which writes episodes.parquet): its
    join starts as soon as the parts are in order, beside their counting (`EpisodesJoin`).
    A flat cohort's write finds the code the last audit of its form generated compiled, or
    being compiled, on a thread started once the judging is analysed (`earlypath.audit.
    spark_code`); the write's code is kept for the next audit when this form was not."""
    from earlypath.audit.judge import EPISODE_COLUMNS, Evaluated, _count, _extras, _few_as_list
    from earlypath.audit.spark_code import compile_in_thread, keep_the_code, kept_code
    from earlypath.audit.spark_plan import judging_key, judging_sql
    from earlypath.audit.validate import repeated_ids

    rows_in = rows_read(con)
    if rows_in is None:  # an input whose loading did not count its rows (a FHIR export)
        rows_in = _count(con, raw)
    extras = _extras(raw)
    repeated = None if search is None else search.result()
    if repeated is None:
        repeated = _few_as_list(con, repeated_ids(raw))
    sql = judging_sql(con, raw, policy, repeated)
    if parser_warmed is not None:
        parser_warmed.result()  # (never raises; parsing beside it would learn the same twice)
    layout = loaded_layout(con)
    form = None if layout is None else f"{judging_key(raw, policy, repeated)}, {layout}"
    kept = kept_code(form)
    df = con._session.sql(sql)
    # Analysed: the code kept is compiled beside the write's optimising and planning
    compile_in_thread(con._session, kept)
    df.createOrReplaceTempView(JUDGED)
    folder = Path(tempfile.mkdtemp(prefix="earlypath-judged-"))
    try:
        with progress_bar(progress, None, f"checking and judging {rows_in:,} rows (spark)"):
            runs, schema = _sorted_runs(df, folder, episodes_first=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    parts = JudgedParts(folder, runs, schema, [*EPISODE_COLUMNS, *extras])
    if join_episodes:
        parts.joined = _joined_in_thread(parts, progress and rows_in > 100_000)
    # The write's code, for the next audit of this form (after the join has started: the first
    # audit of a form plans the write once more)
    keep_the_code(
        form, kept, lambda: _sorted_for_writing(df, True)._jdf.queryExecution().executedPlan()
    )
    _count_parts(parts)
    _JUDGED_PARTS[con] = parts
    # The tables themselves, as expressions not planned by Spark unless a caller of `evaluate`
    # queries them (a whole audit reads the parts instead).
    judged = con.table(JUDGED)
    good = judged.filter(judged.reject_reason.isnull())
    rejects = judged.filter(judged.reject_reason.notnull())
    return Evaluated(
        con,
        good.select(*parts.episode_columns),
        rejects.select(*REJECT_COLUMNS),
        rows_in,
        parts.counts["defaulted"],
        extras,
        counts={k: parts.counts[k] for k in ("evaluated", "rejected")},
    )


@contextmanager
def on_the_system_allocator() -> Iterator[None]:
    """pyarrow's allocations inside on the C library's allocator, then the default back.

    The audit's pyarrow work after the Spark job (ordering and counting the parts, joining them)
    is serial, and it is a process's first pass over a few hundred MB of fresh memory (1M rows).
    pyarrow's default pool here, mimalloc, takes that memory in transparent huge pages when the
    kernel has them free: 0.45-0.75 s of kernel time for the first join (a few hundred page
    faults, 2 MB zeroed each) against 0.15-0.3 s on the C library's malloc (docs/speed.md,
    Spark round 10); the same bytes are written either way. Buffers remember their pool, so
    they may outlive the block."""
    import pyarrow as pa

    default = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(default)


@on_the_system_allocator()
def _count_parts(parts: JudgedParts) -> None:
    """The evaluated and rejected rows, the empty cells read as false in the episodes, and the
    rejects, from the parts' few columns: the episodes are a slice of each part (`_episodes`),
    and the ids are read only from row groups holding rejects."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    evaluated = defaulted = 0
    rejects = []
    for part in parts.runs:
        file = pq.ParquetFile(part)
        for group in range(file.num_row_groups):
            table = file.read_row_group(group, columns=["reject_reason", "defaulted_false_cells"])
            if table["reject_reason"].null_count < table.num_rows:  # (ids read for rejects only)
                more = file.read_row_group(group, columns=["row_number", "episode_id"])
                table = pa.Table.from_arrays(
                    [*more.columns, *table.columns], [*more.column_names, *table.column_names]
                )
            episodes = _episodes(table)
            evaluated += episodes.num_rows
            defaulted += pc.sum(episodes["defaulted_false_cells"]).as_py() or 0
            if episodes.num_rows < table.num_rows:  # (a copy of the few rejects alone)
                rejected = table.filter(pc.is_valid(table["reject_reason"]))
                rejects.append(rejected.select(list(REJECT_COLUMNS)))
    schema = pa.schema([parts.schema.field(c) for c in REJECT_COLUMNS])
    parts.rejects = pa.concat_tables([t.cast(schema) for t in rejects]) if rejects else None
    if parts.rejects is None:
        parts.rejects = schema.empty_table()
    parts.counts = {
        "evaluated": evaluated,
        "rejected": parts.rejects.num_rows,
        "defaulted": defaulted,
    }


def judged_rejects(con: Any) -> Any:
    """The rejects of the audit last judged on the Spark connection ``con`` (a pyarrow Table of
    row_number, episode_id, reject_reason in row_number order), read with the judging."""
    return _JUDGED_PARTS[con].rejects


def write_episodes_spark(ev: Any, target: Path, progress: bool = False) -> int:
    """``episodes.parquet``: the episodes of the judged parts joined in ``row_number`` order (no
    Spark job: Spark wrote them while judging); returns the rows in the file. A whole audit
    runs the join beside its summary instead (`EpisodesJoin`)."""
    return EpisodesJoin(ev, target, progress).finish()


class EpisodesJoin:
    """``episodes.parquet`` joined from the judged parts by a thread of its own
    (`write_episodes_spark`), while the caller reads the same episodes from the parts
    (`read_back_on_duckdb` with ``episodes_file=None``: the summary, the case list).

    The join is Python's serial tail after the Spark job (1M rows: 0.6 CPU s, most of it
    pyarrow encoding one row group on one thread) and the summary's and case list's DuckDB
    queries (0.2-0.3 CPU s) need none of its output: run side by side they take the longer of
    the two, not the sum (docs/speed.md, Spark fifteenth round). A whole audit starts the join
    earlier still, in the judging, as soon as the parts are in order (``join_episodes``): the
    parts' counting and the audit's steps up to here run beside it (nineteenth round). The
    thread joins into the parts' folder; `finish` waits for it, moves the file to ``target``
    and returns its rows (the caller checks them against the judged count before anything is
    published); the parts are removed only then, as the reading may still use them."""

    def __init__(self, ev: Any, target: Path, progress: bool = False) -> None:
        self.parts = _JUDGED_PARTS[ev.con]
        self.target = target
        self._joined = self.parts.joined or _joined_in_thread(self.parts, progress)

    def __enter__(self) -> EpisodesJoin:
        return self

    def __exit__(self, *error: object) -> None:
        """Wait for the thread (its own error is `finish`'s to raise) and remove the parts."""
        from concurrent.futures import wait

        wait([self._joined])
        self.parts.remove()

    def finish(self) -> int:
        """The rows written to ``episodes.parquet`` (its error, if the join failed); the parts
        are removed either way. Call it on every path, errors included: the thread writes into
        the parts' folder, which goes with them."""
        import pyarrow.parquet as pq

        try:
            joined = self._joined.result()
            with atomic_path(self.target) as tmp:
                shutil.move(joined, tmp)  # (a rename, or a copy onto another file system)
        finally:
            self.parts.remove()
        return int(pq.ParquetFile(self.target).metadata.num_rows)


def _joined_in_thread(parts: JudgedParts, progress: bool) -> Future[Path]:
    """The parts' episodes joined (`_join`) into a file in their folder by a thread of its own."""
    from concurrent.futures import ThreadPoolExecutor

    def join() -> Path:
        target = parts.folder / "episodes.parquet"
        with progress_bar(progress, None, "writing the episodes"):
            _join(parts.runs, target, schema=parts.schema, episode_columns=parts.episode_columns)
        return target

    pool = ThreadPoolExecutor(1, thread_name_prefix="earlypath-episodes")
    try:
        return pool.submit(join)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def write_in_order(df: Any, target: Path) -> int:
    """Write a Spark DataFrame with a ``row_number`` column as one Parquet file in ``row_number``
    order; returns the rows in the file (`_sorted_runs`, then `_join`)."""
    import pyarrow.parquet as pq

    folder = Path(tempfile.mkdtemp(prefix=".episodes-", dir=target.parent))
    try:
        runs, schema = _sorted_runs(df, folder)
        with atomic_path(target) as tmp:
            _join(runs, tmp, schema=schema)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return int(pq.ParquetFile(target).metadata.num_rows)


def _sorted_runs(df: Any, folder: Path, episodes_first: bool = False) -> tuple[list[Path], Any]:
    """Spark writes one part file per partition, each sorted, in parallel: the parts in the
    order of their rows, and their Arrow schema. A partition is usually a run of consecutive
    rows (a split of one input file). When the runs overlap (a partition packed several small
    input files), DuckDB merges the parts into one sorted file (no second Spark pass; out of
    memory if need be): the joined file is the same either way (`_join` writes Spark's schema).

    ``episodes_first`` (judged rows): each part holds its episodes in ``row_number`` order, then
    its rejects in ``row_number`` order, so the episodes are read as a slice, not filtered out
    of a copy (`_episodes_end`)."""
    import pyarrow.parquet as pq

    parts = _write_sorted_parts(df, folder / "out", episodes_first)
    schema = pq.read_schema(parts[0])
    runs = _runs_in_order(parts)
    if runs is None:
        runs = [_merged_by_duckdb(parts, folder / "merged.parquet", episodes_first)]
    return runs, schema


def _merged_by_duckdb(parts: list[Path], target: Path, episodes_first: bool = False) -> Path:
    import duckdb

    files = ", ".join(_sql_path(p) for p in parts)
    order = "reject_reason IS NOT NULL, row_number" if episodes_first else "row_number"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet([{files}]) ORDER BY {order}) "
            f"TO {_sql_path(target)} (FORMAT parquet, COMPRESSION uncompressed)"
        )
    finally:
        con.close()
    return target


# Added to a reject's row number in the parts' sort key: its episodes sort before its rejects.
REJECTS_AFTER = 1 << 62


def _sorted_for_writing(df: Any, episodes_first: bool = False) -> Any:
    """``df`` sorted within each partition as `_write_sorted_parts` writes it."""
    from pyspark.sql import functions as F

    order = F.col("row_number")
    if episodes_first:
        # One long key (row numbers are far below 2**62), not two: Spark then sorts by its
        # prefix alone (a radix sort, as for row_number), not by comparing rows.
        rejected = F.col("reject_reason").isNotNull()
        order = F.when(rejected, order + F.lit(REJECTS_AFTER)).otherwise(order)
    return df.sortWithinPartitions(order)


def _write_sorted_parts(df: Any, folder: Path, episodes_first: bool = False) -> list[Path]:
    # The parts are read once and dropped: not compressed (the joined file is).
    _sorted_for_writing(df, episodes_first).write.mode("overwrite").option(
        "compression", "uncompressed"
    ).parquet(str(folder))
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        raise RuntimeError("Spark wrote no episodes file")
    return parts


@on_the_system_allocator()
def _runs_in_order(parts: list[Path]) -> list[Path] | None:
    """The part files in the order of their first row, if each one's rows all come before the
    next one's; else None. Empty parts are left out, but one is kept when all are empty (it
    holds the schema)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    runs = []
    for part in parts:
        numbers = pq.ParquetFile(part).read(columns=["row_number"]).column(0)
        if len(numbers):
            low, high = pc.min_max(numbers).values()  # (episodes first: not the ends)
            runs.append((low.as_py(), high.as_py(), part))
    runs.sort(key=lambda run: run[0])
    if any(a[1] >= b[0] for a, b in zip(runs, runs[1:], strict=False)):
        return None
    return [part for _, _, part in runs] or parts[:1]


# Rows per row group of episodes.parquet, whatever the parts: the file is then the same bytes
# on any number of cores (pyarrow's own largest row group).
JOINED_ROW_GROUP = 1 << 20


@on_the_system_allocator()
def _join(
    parts: list[Path],
    target: Path,
    group_rows: int = JOINED_ROW_GROUP,
    episode_columns: list[str] | None = None,
    schema: Any = None,
) -> None:
    """Copy the parts' rows into one Parquet file in row groups of ``group_rows`` (the last one
    shorter), in ``schema`` (by default the first part's). With ``episode_columns`` (parts of
    judged rows) only the episodes are copied (no ``reject_reason``), and only those columns.

    The parts' row groups are read and filtered by a thread per core (pyarrow works without the
    GIL), a few ahead of the writer, and handed to it in order: memory holds at most one output
    row group and the row groups read ahead. The file is the same bytes as when read one by one
    (the writer sees the same rows in the same row groups)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = [pq.ParquetFile(p) for p in parts]
    parts_schema = schema or files[0].schema_arrow
    out_schema = parts_schema
    if episode_columns is not None:
        out_schema = _episodes_schema(parts_schema, episode_columns)
    # (each read opens its file: one pyarrow reader is not shared between threads)
    groups = [
        (p, group)
        for p, file in zip(parts, files, strict=True)
        for group in range(file.num_row_groups)
    ]
    read = _group_reader(parts_schema, episode_columns, files[0].schema_arrow)
    with pq.ParquetWriter(target, out_schema, compression="zstd") as writer:
        held: list[pa.Table] = []
        rows = 0
        for table in _in_order_ahead(read, groups):
            held.append(table)
            rows += table.num_rows
            while rows >= group_rows:
                pending = pa.concat_tables(held)
                writer.write_table(pending.slice(0, group_rows), row_group_size=group_rows)
                held, rows = [pending.slice(group_rows)], rows - group_rows
        if rows:
            writer.write_table(pa.concat_tables(held), row_group_size=group_rows)


def _group_reader(parts_schema: Any, episode_columns: list[str] | None, first: Any) -> Any:
    """Reads one (part, row group) of the parts: in the parts' (Spark's) types, only the
    episodes and their columns when ``episode_columns`` are given."""
    import pyarrow.parquet as pq

    same = first.equals(parts_schema)
    columns = None if episode_columns is None else [*episode_columns, "reject_reason"]

    def read(part_and_group: tuple[Path, int]) -> Any:
        part, group = part_and_group
        table = pq.ParquetFile(part).read_row_group(group, columns=columns)
        if not same:  # DuckDB's merge of the parts: Spark's own types back
            table = table.select(parts_schema.names if columns is None else columns)
            table = table.cast(_read_schema(parts_schema, columns))
        if episode_columns is not None:
            table = _episodes(table).select(episode_columns)
        return table

    return read


def _episodes_end(reject_reason: Any) -> int | None:
    """How many rows of a run of judged rows are episodes when they all come before its rejects
    (NULL ``reject_reason`` first, as the judging writes them); None when an episode follows a
    reject (the rows must then be filtered, not sliced)."""
    episodes = reject_reason.null_count
    if reject_reason.slice(0, episodes).null_count != episodes:
        return None
    return episodes


def _episodes(table: Any) -> Any:
    """The episodes of a table of judged rows, in its order: a slice (no copy) when they come
    first, as the judging writes them, else a filtered copy."""
    import pyarrow.compute as pc

    episodes = _episodes_end(table["reject_reason"])
    if episodes is None:
        return table.filter(pc.is_null(table["reject_reason"]))
    return table.slice(0, episodes)


def _in_order_ahead(read: Any, items: list[Any]) -> Any:
    """``read(item)`` of each item, in order, run by a thread per core up to that many items
    ahead of the caller."""
    import os
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    ahead = max(1, min(len(items), os.cpu_count() or 1))
    if ahead == 1:
        yield from map(read, items)
        return
    with ThreadPoolExecutor(ahead, thread_name_prefix="earlypath-join") as pool:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(pool.submit(read, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _read_schema(schema: Any, columns: list[str] | None) -> Any:
    import pyarrow as pa

    if columns is None:
        return schema
    return pa.schema([schema.field(c) for c in columns])


# The Spark schema Spark writes into a Parquet file's key-value metadata.
SPARK_ROW_METADATA = b"org.apache.spark.sql.parquet.row.metadata"


def _episodes_schema(judged: Any, columns: list[str]) -> Any:
    """The judged parts' schema with only the episode columns, its Spark key-value metadata
    listing only those (as when Spark wrote the episodes table itself)."""
    import pyarrow as pa

    metadata = dict(judged.metadata or {})
    if SPARK_ROW_METADATA in metadata:
        spark_schema = json.loads(metadata[SPARK_ROW_METADATA])
        by_name = {f["name"]: f for f in spark_schema["fields"]}
        spark_schema["fields"] = [by_name[c] for c in columns]
        text = json.dumps(spark_schema, separators=(",", ":"), ensure_ascii=False)
        metadata[SPARK_ROW_METADATA] = text.encode()
    return pa.schema([judged.field(c) for c in columns], metadata=metadata)


def read_back_on_duckdb(ev: Any, episodes_file: Path | None) -> Any:
    """``ev`` with its episodes and rejects read by DuckDB, for the summary's counts and the
    case list: the episodes from ``episodes.parquet`` as written, or with ``episodes_file``
    None from the judged parts, the same rows in the same types (while `EpisodesJoin` writes
    the file: the write is checked against the judged counts when it ends), the rejects as read
    with the judging (`judged_rejects`). Counted the way the DuckDB engine counts its own, with
    no Spark job."""
    import dataclasses

    from earlypath.audit.sql_table import PlainDuckDB, SqlTable, sql_name

    duck = PlainDuckDB()
    if episodes_file is None:
        parts = _JUDGED_PARTS[ev.con]
        files = ", ".join(_sql_path(p) for p in parts.runs)
        columns = ", ".join(sql_name(c) for c in parts.episode_columns)
        episodes = f"SELECT {columns} FROM read_parquet([{files}]) WHERE reject_reason IS NULL"
    else:
        episodes = f"SELECT * FROM read_parquet({_sql_path(episodes_file)})"
    duck.con.execute(f"CREATE VIEW earlypath_episodes AS {episodes}")
    duck.con.register("earlypath_rejects", judged_rejects(ev.con))
    return dataclasses.replace(
        ev,
        con=duck,
        episodes=SqlTable.named(duck, "earlypath_episodes", tuple(ev.episodes.columns)),
        rejects=SqlTable.named(duck, "earlypath_rejects", REJECT_COLUMNS),
    )


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def search_repeated_ids(source: Path) -> Future[list[str] | None]:
    """`few_repeated_ids` of a Parquet cohort run by DuckDB in a thread of its own, so it
    overlaps Spark's reading and planning of the cohort (DuckDB works without the GIL); its
    result, or its error, is taken where the judging needs the ids."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="earlypath-repeated-ids")
    try:
        return pool.submit(few_repeated_ids, source)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


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
