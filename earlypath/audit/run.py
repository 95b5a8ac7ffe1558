"""Run an audit: load, check, judge, reconcile, measure, write.

Every input row ends in exactly one of ``episodes.parquet`` (evaluated) or ``rejects.csv``
(with its row number and reasons); ``rows_in == evaluated + rejected`` is checked and recorded,
and a mismatch raises `ReconciliationError` after nothing has been written. The outputs are
published as a set, ``manifest.json`` last (`earlypath.audit.output`).
"""

from __future__ import annotations

import csv
import errno
import json
import time
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir_t
import pyarrow as pa
import pyarrow.parquet as pq

from earlypath.audit import flat
from earlypath.audit.judge import (
    EPISODE_COLUMNS,
    Evaluated,
    OnePass,
    _count,
    _episodes,
    _extras,
    _few_as_list,
    _judged,
    _scalar,
)
from earlypath.audit.load import (
    arrow_batches,
    connect,
    detect_format,
    duckdb_connect,
    fetch_arrow,
    fhir_reading,
    load_raw,
    materialize,
    sql_text,
    view,
)
from earlypath.audit.measures import (
    ADHERENCE,
    CARE_UNKNOWN,
    UNDECIDABLE,
)
from earlypath.audit.output import atomic_path, check_out_folder, staged_outputs
from earlypath.audit.progress import duckdb_progress
from earlypath.audit.progress import progress_bar as _progress
from earlypath.audit.validate import check_and_type, repeated_ids, require_columns
from earlypath.errors import InputError, Problem, ReconciliationError
from earlypath.policy import DEFAULT_POLICY, Policy

__all__ = [
    "DEFAULT_GROUPS",
    "EPISODE_COLUMNS",
    "AuditResult",
    "ReconciliationError",
    "evaluate",
    "rows_in_order",
    "run_audit",
]

Engine = Literal["duckdb", "spark", "python"]
OUTPUTS = (
    "episodes.parquet",
    "rejects.csv",
    "summary.json",
    "report.html",
    "measure-report.json",  # the measures as a FHIR R4 MeasureReport
    "cases-eligible-not-offered.csv",  # site and episode id of each case, for local review
)
DEFAULT_GROUPS = ("site", "month", "age_band", "ethnicity", "deprivation_quintile")
NOT_RECORDED = "(not recorded)"


@dataclass
class AuditResult:
    rows_in: int
    evaluated: int
    rejected: int
    out_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    excluded: int = 0  # a FHIR export's encounters that are not episodes


def evaluate(
    source: Path,
    engine: Engine = "duckdb",
    policy: Policy = DEFAULT_POLICY,
    spark: Any = None,
    con: Any = None,
    progress: bool = False,
    group_by: Sequence[str] = (),
) -> Evaluated:
    """Load and judge a cohort on one engine (no output written).

    ``group_by`` columns are checked as soon as the input is read (before the long part)."""
    fmt = detect_format(source)
    if engine == "python":
        con = con or duckdb_connect()
        raw = load_raw(con, source, fmt)
        require_columns(raw)  # as the batch engines do (not every row rejected instead)
        _check_groups(raw, group_by)
        return _python_engine(con, raw, policy, progress).with_input(fhir_reading(con))
    con = con or connect(engine, spark)
    started = time.perf_counter()
    raw = load_raw(con, source, fmt)
    _check_groups(raw, group_by)
    loaded = time.perf_counter()
    ev = (_duckdb_engine if con.name == "duckdb" else _batch_engine)(con, raw, policy, progress)
    # DuckDB only finds the repeated ids here: it checks and judges while writing (run_audit).
    step = "find_repeated_ids" if ev.one_pass is not None else "check_and_judge"
    ev.timings = {"load": loaded - started, step: time.perf_counter() - loaded}
    return ev.with_input(fhir_reading(con))


def _check_groups(raw: ir_t.Table, group_by: Sequence[str]) -> None:
    usable = set(_extras(raw)) | set(EPISODE_COLUMNS)
    bad = [g for g in group_by if g not in usable]
    if bad:
        raise InputError(
            [Problem("--group-by", f"{g} is not a column of the cohort or the output") for g in bad]
        )


def _batch_engine(con: Any, raw: ir_t.Table, policy: Policy, progress: bool = False) -> Evaluated:
    """Check and judge every row in one pass, kept as one table; episodes and rejects are its
    two halves (a row is one or the other by ``reject_reason``), so no row can be in both."""
    if con.name == "pyspark":  # the same judged table, with fewer Spark jobs
        from earlypath.audit.spark_audit import judge_on_spark

        return judge_on_spark(con, raw, policy, progress)
    with _progress(progress, None, f"reading the cohort ({con.name})"):
        rows_in = _count(con, raw)
        extras = _extras(raw)
        repeated = _few_as_list(con, materialize(con, repeated_ids(raw), "earlypath_repeated_ids"))
    if con.name == "duckdb":
        with duckdb_progress(progress, con.con, rows_in, "checking and judging"):
            judged = _store_judged(con, _judged(raw, extras, policy, repeated), policy)
    else:
        with _progress(progress, None, f"checking and judging {rows_in:,} rows ({con.name})"):
            judged = _store_judged(con, _judged(raw, extras, policy, repeated), policy)
    good = judged.filter(judged.reject_reason.isnull())
    defaulted = _scalar(con, good.defaulted_false_cells.sum().fill_null(0))
    rejects = judged.filter(judged.reject_reason.notnull())
    return Evaluated(
        con,
        view(con, good.select(*EPISODE_COLUMNS, *extras), "earlypath_episodes"),
        view(con, rejects.select("row_number", "episode_id", "reject_reason"), "earlypath_rejects"),
        rows_in,
        defaulted,
        extras,
    )


EPISODES, REJECTS = "earlypath_episodes", "earlypath_rejects"
REJECTS_FOUND = "earlypath_rejects_found"  # after the pass: the rejects, kept (a few rows)
# The checks are compiled once, into a view over CHECK_INPUT, a view of the raw rows: after the
# pass, CHECK_INPUT is pointed at the rows not written, and the same view checks only those.
CHECK_INPUT, CHECKED = "earlypath_check_input", "earlypath_checked"


def _duckdb_engine(con: Any, raw: ir_t.Table, policy: Policy, progress: bool = False) -> Evaluated:
    """DuckDB: nothing is judged yet. ``episodes`` is the accepted rows judged (an expression),
    which `run_audit` streams straight into episodes.parquet (`_write_one_pass`): one pass
    checks, judges and writes, with no judged table held in memory. Only the repeated ids are
    found first (a small table, or a list when few)."""
    with _progress(progress, None, f"reading the cohort ({con.name})"):
        rows_in = _count(con, raw)
        extras = _extras(raw)
        repeated = _few_as_list(con, materialize(con, repeated_ids(raw), "earlypath_repeated_ids"))
    # ibis takes ~0.15 s to compile the checks: once, as views; the rest is built on them.
    checked = view(con, check_and_type(view(con, raw, CHECK_INPUT), repeated), CHECKED)
    rejects = checked.filter(checked.reject_reason.notnull())
    return Evaluated(
        con,
        _episodes(checked, extras, policy),
        view(con, rejects.select("row_number", "episode_id", "reject_reason"), REJECTS),
        rows_in,
        None,
        extras,
        one_pass=OnePass(raw, checked),
    )


JUDGED = "earlypath_judged"


def _store_judged(con: Any, judged: ir_t.Table, policy: Policy) -> ir_t.Table:
    """Materialise the judged rows (Spark: a cached view; DuckDB judges while it writes
    instead, `_duckdb_engine`)."""
    return materialize(con, judged, JUDGED)


PYTHON_BATCH_ROWS = 10_000  # rows the python engine holds as Python objects at a time


def _python_engine(con: Any, raw: ir_t.Table, policy: Policy, progress: bool = False) -> Evaluated:
    """The reference engine, row by row: flat row -> Episode (one scan) -> engines.python.assess.

    It streams: the cohort is read in Arrow batches and each batch's results are appended to
    DuckDB tables, so Python holds one batch of rows at a time (and the repeated ids)."""
    extras = _extras(raw)
    rows_in, repeated = _rows_and_repeated_ids(con, raw)
    episode_schema, reject_schema = _python_schemas(raw, extras)
    # The batches are read through the connection's open result: write through a second one.
    writer = con.con.cursor()
    defaulted = 0
    try:
        _create_table(writer, "earlypath_episodes", episode_schema)
        _create_table(writer, "earlypath_rejects", reject_schema)
        with _progress(progress and rows_in > 5000, rows_in, "judging (python)") as step:
            for batch in arrow_batches(con, raw, PYTHON_BATCH_ROWS):
                episodes: list[dict[str, Any]] = []
                rejects: list[dict[str, Any]] = []
                for row in batch.to_pylist():
                    step(1)
                    defaulted += _python_row(row, repeated, extras, policy, episodes, rejects)
                _append(writer, "earlypath_episodes", episodes, episode_schema)
                _append(writer, "earlypath_rejects", rejects, reject_schema)
    finally:
        writer.close()
    return Evaluated(
        con,
        con.table("earlypath_episodes"),
        con.table("earlypath_rejects"),
        rows_in,
        defaulted,
        extras,
    )


def _rows_and_repeated_ids(con: Any, raw: ir_t.Table) -> tuple[int, set[Any]]:
    """A first pass over the ids only: the number of rows, and the ids found on more than one."""
    if "episode_id" not in raw.columns:  # every row is then rejected for its missing id
        return _count(con, raw), set()
    rows, seen, repeated = 0, set(), set()
    for batch in arrow_batches(con, raw.select("episode_id"), 100_000):
        rows += batch.num_rows
        for value in batch.column(0).to_pylist():
            with suppress(flat.CellError):
                key = flat.parse_cell(value, "str")
                if key in seen:
                    repeated.add(key)
                seen.add(key)
    return rows, repeated


def _python_row(
    row: dict[str, Any],
    repeated: Container[Any],
    extras: list[str],
    policy: Policy,
    episodes: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
) -> int:
    """Judge one flat row with the reference engine; append it to episodes or rejects.
    Returns the number of its empty cells read as false."""
    from earlypath.engines.python import assess
    from earlypath.model import parse_episode

    reasons: list[str] = []
    typed: dict[str, Any] = {}
    for name, kind in flat.FLAT_COLUMNS.items():
        try:
            typed[name] = flat.parse_cell(row.get(name), kind)
        except flat.CellError as error:
            typed[name] = None
            reasons.append(f"{name}: {error}")
    if typed["episode_id"] is None:
        reasons.append("episode_id: is required")
    elif typed["episode_id"] in repeated:
        reasons.append("episode_id: is not unique")
    if typed["assessed_on"] is None and not any(r.startswith("assessed_on") for r in reasons):
        reasons.append("assessed_on: is required")
    assessment = None
    if not reasons:
        try:
            episode = parse_episode(flat.flat_to_episode(typed))
            assessment = assess(episode, policy, sections=("progesterone",))  # all it reads
        except flat.CellError as error:
            reasons.append(str(error))
        except InputError as error:
            reasons += [f"{_flat_field(p.field)}: {p.message}" for p in error.problems]
    if reasons or assessment is None:
        rejects.append(
            {
                "row_number": row["row_number"],
                "episode_id": typed["episode_id"],
                "reject_reason": "; ".join(reasons),
            }
        )
        return 0
    p = assessment["progesterone"]
    decision, given = p["decision"], typed["progesterone_prescribed"]
    if decision == "needs_information":
        adherence = UNDECIDABLE
    elif given is None:
        adherence = CARE_UNKNOWN
    else:
        adherence = ADHERENCE.get((decision, given), UNDECIDABLE)
    gestation = assessment["gestation"]
    episodes.append(
        {
            "row_number": row["row_number"],
            "episode_id": typed["episode_id"],
            "assessed_on": typed["assessed_on"],
            "month": typed["assessed_on"].strftime("%Y-%m"),
            "guideline_version": assessment["guideline"]["version"],
            "gestation_days": gestation["days"] if gestation else None,
            "decision": decision,
            "recommendations": p["recommendations"],
            "missing": p["missing"],
            "progesterone_prescribed": given,
            "adherence": adherence,
            **{c: row[c] for c in extras},
        }
    )
    return sum(typed[n] is None for n in flat.DEFAULT_FALSE)


# The episode contract's names for a scan's fields, as the flat columns name them.
_SCAN_FIELDS = {"date": "scan_date", "route": "scan_route", "location": "scan_location"}


def _flat_field(field: str) -> str:
    """A field of the episode contract named as its flat column (``scans[0].crl_mm`` ->
    ``crl_mm``), so that rejects and the data-quality counts name the same fields whichever
    engine found the problem."""
    if field.startswith("scans[0]."):
        name = field.removeprefix("scans[0].")
        return _SCAN_FIELDS.get(name, name)
    if field.startswith("allergies["):  # one entry of the ;-separated cell
        return "allergies"
    return field


def _python_schemas(raw: ir_t.Table, extras: list[str]) -> tuple[pa.Schema, pa.Schema]:
    """The Arrow schemas of the python engine's episodes (with the extra columns) and rejects."""
    raw_schema = raw.schema()
    episodes = pa.schema(
        [
            ("row_number", pa.int64()),
            ("episode_id", pa.string()),
            ("assessed_on", pa.date32()),
            ("month", pa.string()),
            ("guideline_version", pa.string()),
            ("gestation_days", pa.int64()),
            ("decision", pa.string()),
            ("recommendations", pa.list_(pa.string())),
            ("missing", pa.list_(pa.string())),
            ("progesterone_prescribed", pa.bool_()),
            ("adherence", pa.string()),
            *[(c, raw_schema[c].to_pyarrow()) for c in extras],
        ]
    )
    rejects = pa.schema(
        [("row_number", pa.int64()), ("episode_id", pa.string()), ("reject_reason", pa.string())]
    )
    return episodes, rejects


def _create_table(cursor: Any, name: str, schema: pa.Schema) -> None:
    """An empty DuckDB table with ``schema``'s columns (a named table, so plain SQL reads it)."""
    cursor.register("earlypath_batch", schema.empty_table())
    cursor.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM earlypath_batch")
    cursor.unregister("earlypath_batch")


def _append(cursor: Any, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    if not rows:
        return
    cursor.register("earlypath_batch", pa.Table.from_pylist(rows, schema=schema))
    cursor.execute(f"INSERT INTO {name} SELECT * FROM earlypath_batch")
    cursor.unregister("earlypath_batch")


def _counts(con: Any, t: ir_t.Table, keys: Sequence[str]) -> list[dict[str, Any]]:
    agg = t.group_by(list(keys)).aggregate(n=t.count())
    return fetch_arrow(con, agg).to_pylist()


def _write_parquet(ev: Evaluated, target: Path, progress: bool) -> int:
    if ev.con.name == "pyspark":
        from earlypath.audit.spark_audit import write_episodes_spark

        return write_episodes_spark(ev, target, progress and ev.counts["evaluated"] > 100_000)
    written = 0
    expr = ev.episodes.order_by("row_number")
    total = _count(ev.con, ev.episodes)
    if ev.con.name == "duckdb":
        # DuckDB writes Parquet itself, in parallel (3x faster than Arrow batches through Python).
        # Filtering one table keeps its row order, and the judged table is stored in input order
        # when DuckDB preserves it: the file is written without a sort (a sort moves every column:
        # 0.1 s per million rows), the order is checked on the file, and only if it does not hold
        # is the file written again, sorted.
        with (
            atomic_path(target) as tmp,
            _progress(progress and total > 100_000, None, f"writing {total:,} episodes"),
        ):
            _copy_to_parquet(ev.con, ev.episodes, tmp)
            if not rows_in_order(tmp):
                _copy_to_parquet(ev.con, expr, tmp)
        return int(pq.ParquetFile(target).metadata.num_rows)
    with (
        atomic_path(target) as tmp,
        _progress(progress and total > 100_000, total, "writing episodes") as step,
    ):
        writer = None
        try:
            for batch in arrow_batches(ev.con, expr):
                if writer is None:
                    writer = pq.ParquetWriter(tmp, batch.schema, compression="zstd")
                writer.write_batch(batch)
                written += batch.num_rows
                step(batch.num_rows)
            if writer is None:
                schema = expr.schema().to_pyarrow()
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        finally:
            if writer is not None:
                writer.close()
    return written


def _write_one_pass(ev: Evaluated, target: Path, progress: bool) -> int:
    """DuckDB: check, judge and write the episodes in one query (``COPY (...) TO``), streamed:
    no judged table is built first. A scan and filters keep the input order (the repeated ids
    are a list, not a join, when few), so the file is written without a sort; the order is
    checked on the file and, only if it does not hold, the file is written again, sorted.
    Returns the rows written (from the file's footer)."""
    with (
        atomic_path(target) as tmp,
        duckdb_progress(progress, ev.con.con, ev.rows_in, "checking and judging"),
        _bounded_copy_memory(ev.con.con),
    ):
        _copy_to_parquet(ev.con, ev.episodes, tmp)
        if not rows_in_order(tmp):
            _copy_to_parquet(ev.con, ev.episodes.order_by("row_number"), tmp)
    return int(pq.ParquetFile(target).metadata.num_rows)


# What DuckDB's ordered COPY may hold beyond what the connection holds already (see below).
COPY_MEMORY_BYTES = 1 << 30


@contextmanager
def _bounded_copy_memory(duck: Any) -> Iterator[None]:
    """DuckDB's COPY in input order keeps the row groups finished early until those before them
    are written, using up to its memory limit (80% of RAM by default) for them: 2.2 GB for 10M
    rows. With the limit set to what the connection already holds (a CSV cohort's table) plus
    1 GB for the duration of the COPY, the COPY of 10M rows peaked at 0.86 GB (the whole audit
    at 0.94-1.04 GB) for the same CPU time (16.6 s either way; with 0.5 GB it was 12% slower).
    The default comes back after."""
    held = duck.execute(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
    ).fetchall()[0][0]
    duck.execute(f"SET memory_limit = '{int(held) + COPY_MEMORY_BYTES}B'")
    try:
        yield
    finally:
        duck.execute("RESET memory_limit")


def _after_one_pass(ev: Evaluated, written: Path) -> None:
    """DuckDB, once `_write_one_pass` has written the episodes: they are read back from the
    file (the counts, summary and case list read a few columns of it), and the rejects are the
    input rows that are not in it, checked again by the same view: the checks run on those few
    rows only, not on the cohort a second time. A row in neither (it cannot happen) has no
    reason, is in neither count, and fails the reconciliation.

    The empty cells read as false are counted for the episodes as every row's count less the
    rejects' (a sum over two cells a row: the checks are not run for it)."""
    assert ev.one_pass is not None
    con, raw, checked = ev.con, ev.one_pass.raw, ev.one_pass.checked
    every_row = _scalar(con, checked.defaulted_false_cells.sum().fill_null(0))
    con.raw_sql(
        f"CREATE OR REPLACE VIEW {EPISODES} AS SELECT * FROM read_parquet({sql_text(str(written))})"
    )
    ev.episodes = con.table(EPISODES)
    con.raw_sql(
        f"CREATE OR REPLACE VIEW {CHECK_INPUT} AS SELECT r.* FROM ({con.compile(raw)}) r "
        f"ANTI JOIN {EPISODES} e ON r.row_number = e.row_number"
    )
    rejects = materialize(
        con,
        checked.filter(checked.reject_reason.notnull()).select(
            "row_number", "episode_id", "reject_reason", "defaulted_false_cells"
        ),
        REJECTS_FOUND,
    )
    ev.rejects = rejects.select("row_number", "episode_id", "reject_reason")
    ev.defaulted_false_cells = every_row - _scalar(
        con, rejects.defaulted_false_cells.sum().fill_null(0)
    )


def _copy_to_parquet(con: Any, expr: ir_t.Table, target: Path) -> None:
    import duckdb

    try:
        con.raw_sql(
            f"COPY ({con.compile(expr)}) TO {sql_text(str(target))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
    except duckdb.IOException:  # a full disk, a file size limit: an output error, not a bug
        raise OSError(
            errno.EIO, "DuckDB could not write episodes.parquet (is the disk full?)"
        ) from None


def rows_in_order(path: Path) -> bool:
    """Whether the Parquet file's ``row_number`` column strictly increases from row to row."""
    # ParquetFile, not read_table: that imports pyarrow.dataset (0.2 s) for one column.
    numbers = pq.ParquetFile(path).read(columns=["row_number"]).column(0).combine_chunks()
    if len(numbers) < 2:
        return True
    import pyarrow.compute as pc  # only here: 0.05 s of start-up for every audit otherwise

    return bool(pc.all(pc.less(numbers.slice(0, len(numbers) - 1), numbers.slice(1))).as_py())


def _write_rejects(ev: Evaluated, target: Path) -> int:
    table = fetch_arrow(ev.con, ev.rejects.order_by("row_number"))
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["row_number", "episode_id", "reason"])
        for row in table.to_pylist():
            out.writerow([row["row_number"], row["episode_id"] or "", row["reject_reason"]])
    return table.num_rows


def _reconciled(ev: Evaluated) -> tuple[int, int]:
    """(evaluated, rejected), after checking that every input row is in exactly one of them
    (or excluded): `ReconciliationError` otherwise."""
    counted = ev.counts  # (the engine may have counted them while judging: Spark)
    evaluated = counted["evaluated"] if counted else _count(ev.con, ev.episodes)
    rejected = counted["rejected"] if counted else _count(ev.con, ev.rejects)
    excluded = sum(ev.excluded.values())
    if ev.rows_in != evaluated + excluded + rejected:
        raise ReconciliationError(
            f"rows_in {ev.rows_in} != evaluated {evaluated} + "
            + (f"excluded {excluded} + " if ev.fhir_export is not None else "")
            + f"rejected {rejected}: rows were lost or doubled; nothing written"
        )
    return evaluated, rejected


def run_audit(
    source: Path,
    out_dir: Path,
    engine: Engine = "duckdb",
    group_by: Sequence[str] = (),
    policy: Policy = DEFAULT_POLICY,
    spark: Any = None,
    progress: bool = False,
    echo: Any = None,
    suppress_below: int = 0,
) -> AuditResult:
    """Audit a cohort and write every file of `OUTPUTS` (episodes, rejects, summary, report,
    MeasureReport, case list) into `out_dir`, then manifest.json (their sizes and checksums: read
    them back with `open_audit_output`)."""
    from earlypath.audit.case_list import CASE_LIST, write_case_list
    from earlypath.audit.measure_report import measure_report
    from earlypath.audit.report import render_report
    from earlypath.audit.summary import FUNNEL_MEASURE, build_summary

    started = time.perf_counter()
    check_out_folder(Path(out_dir), Path(source), OUTPUTS)  # a bad --out fails before any work
    ev = evaluate(Path(source), engine, policy, spark, progress=progress, group_by=group_by)
    if ev.one_pass is None:
        evaluated, rejected = _reconciled(ev)  # before anything is written
    groups = [g for g in DEFAULT_GROUPS if g in ev.episodes.columns]
    for g in group_by:
        if g not in groups:
            groups.append(g)
    out_dir = Path(out_dir)
    # The outputs are written in a hidden staging folder and published as a set with a
    # manifest (earlypath.audit.output): an error or a kill part-way leaves the previous run's
    # outputs whole, or the new ones complete.
    with staged_outputs(out_dir, OUTPUTS) as staged:
        mark = time.perf_counter()
        if ev.one_pass is not None:
            # DuckDB judges while it writes: the rows are counted after, from the file and the
            # rejects, and a mismatch still publishes nothing (the staging folder goes).
            written = _write_one_pass(ev, staged["episodes.parquet"], progress)
            ev.timings["check_judge_and_write_episodes"] = time.perf_counter() - mark
            _after_one_pass(ev, staged["episodes.parquet"])
            evaluated, rejected = _reconciled(ev)
        else:
            written = _write_parquet(ev, staged["episodes.parquet"], progress)
        if written != evaluated:
            raise ReconciliationError(f"wrote {written} episodes, evaluated {evaluated}")
        _write_rejects(ev, staged["rejects.csv"])
        ev.timings["write_episodes_and_rejects"] = time.perf_counter() - mark
        mark = time.perf_counter()
        summary = build_summary(
            ev,
            engine=engine,
            source=Path(source),
            policy=policy,
            groups=groups,
            evaluated=evaluated,
            rejected=rejected,
            seconds=time.perf_counter() - started,
            suppress_below=suppress_below,
        )
        summary["timings_seconds"] = {
            **{k: round(v, 3) for k, v in ev.timings.items()},
            "measures_and_report": round(time.perf_counter() - mark, 3),
        }
        staged["summary.json"].write_text(
            json.dumps(summary, indent=2, default=str), encoding="utf-8"
        )
        staged["report.html"].write_text(render_report(summary), encoding="utf-8")
        staged["measure-report.json"].write_text(
            json.dumps(measure_report(summary), indent=2), encoding="utf-8"
        )
        write_case_list(ev.con, ev.episodes, staged[CASE_LIST], FUNNEL_MEASURE)
    excluded = sum(ev.excluded.values())
    if echo:
        echo(
            f"rows_in {ev.rows_in} = evaluated {evaluated} + "
            + (f"excluded {excluded} + " if ev.fhir_export is not None else "")
            + f"rejected {rejected} ({engine}, {summary['seconds']:.1f} s)"
        )
    return AuditResult(ev.rows_in, evaluated, rejected, out_dir, summary, excluded)
