"""Run an audit: load, check, judge, reconcile, measure, write (the orchestration only).

The parts, in the order they run: input (`earlypath.audit.load`), the checks
(`earlypath.audit.validate`) and judging shared by the engines (`earlypath.audit.judge`), each
engine's pass (`earlypath.audit.pass_duckdb`, `earlypath.audit.pass_python`,
`earlypath.audit.spark_audit`), and the outputs (`earlypath.audit.write_tables`, `summary`,
`report`, `measure_report`, `case_list`, published as a set by `earlypath.audit.output`).

Every input row ends in exactly one of ``episodes.parquet`` (evaluated) or ``rejects.csv``
(with its row number and reasons); ``rows_in == evaluated + rejected`` is checked and recorded,
and a mismatch raises `ReconciliationError` after nothing has been written. The outputs are
published as a set, ``manifest.json`` last (`earlypath.audit.output`).
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from earlypath.audit.background import InBackground
from earlypath.audit.evaluated import EPISODE_COLUMNS, Evaluated
from earlypath.audit.flat import FLAT_COLUMNS
from earlypath.audit.load import (
    connect,
    detect_format,
    duckdb_connect,
    fhir_reading,
    load_raw,
    load_raw_duckdb,
)
from earlypath.audit.output import check_out_folder, staged_outputs
from earlypath.audit.pass_duckdb import (
    after_one_pass,
    episodes_from_file,
    judge_on_duckdb,
    write_one_pass,
)
from earlypath.audit.sql_table import PlainDuckDB, column_types
from earlypath.audit.write_tables import count_of, write_episodes, write_rejects
from earlypath.errors import InputError, Problem, ReconciliationError
from earlypath.policy import DEFAULT_POLICY, Policy
from earlypath.records.time_zone import configured_time_zone

__all__ = [
    "DEFAULT_GROUPS",
    "EPISODE_COLUMNS",
    "AuditResult",
    "ReconciliationError",
    "evaluate",
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
    join_episodes: bool = False,
) -> Evaluated:
    """Load and judge a cohort on one engine (no output written).

    ``group_by`` columns are checked as soon as the input is read (before the long part).
    ``join_episodes`` (Spark, for `run_audit`): the episodes file's join starts with the
    judging's end (`earlypath.audit.spark_audit.EpisodesJoin`)."""
    fmt = detect_format(source)
    if engine == "python":
        from earlypath.audit.pass_python import judge_in_python
        from earlypath.audit.validate import require_columns

        con = con or duckdb_connect()
        raw = load_raw(con, source, fmt)
        require_columns(raw)  # as the batch engines do (not every row rejected instead)
        _check_groups(raw.columns, group_by)
        return judge_in_python(con, raw, policy, progress).with_input(fhir_reading(con))
    if con is None:
        # DuckDB: a plain connection (ibis only if a query must be built)
        con = PlainDuckDB() if engine == "duckdb" else connect(engine, spark)
    started = time.perf_counter()
    if con.name == "duckdb":
        raw_view = load_raw_duckdb(con, source, fmt)
        _check_groups(list(column_types(con.con, raw_view)), group_by)
        loaded = time.perf_counter()
        ev = judge_on_duckdb(con, raw_view, policy, progress)
    else:  # Spark: the judged table, with fewer Spark jobs
        from earlypath.audit.spark_audit import judge_on_spark, search_repeated_ids
        from earlypath.audit.spark_plan import warm_the_parser

        # Spark's parser learns an earlier judging's SQL while the cohort is read (spark_plan)
        parser_warmed = warm_the_parser(con._session)
        # A Parquet cohort's repeated ids are searched by DuckDB while Spark reads and plans it
        search = search_repeated_ids(source) if fmt == "parquet" else None
        raw = load_raw(con, source, fmt)
        _check_groups(raw.columns, group_by)
        loaded = time.perf_counter()
        ev = judge_on_spark(con, raw, policy, progress, search, parser_warmed, join_episodes)
    # DuckDB only finds the repeated ids here: it checks and judges while writing (run_audit).
    step = "find_repeated_ids" if ev.one_pass is not None else "check_and_judge"
    ev.timings = {"load": loaded - started, step: time.perf_counter() - loaded}
    return ev.with_input(fhir_reading(con))


def _check_groups(columns: Sequence[str], group_by: Sequence[str]) -> None:
    usable = {c for c in columns if c not in FLAT_COLUMNS and c != "row_number"}
    usable |= set(EPISODE_COLUMNS)
    bad = [g for g in group_by if g not in usable]
    if bad:
        raise InputError(
            [Problem("--group-by", f"{g} is not a column of the cohort or the output") for g in bad]
        )


def _reconciled(ev: Evaluated) -> tuple[int, int]:
    """(evaluated, rejected), after checking that every input row is in exactly one of them
    (or excluded): `ReconciliationError` otherwise."""
    counted = ev.counts  # (the engine may have counted them while judging: Spark)
    evaluated = counted["evaluated"] if counted else count_of(ev.con, ev.episodes)
    rejected = counted["rejected"] if counted else count_of(ev.con, ev.rejects)
    excluded = sum(ev.excluded.values())
    if ev.rows_in != evaluated + excluded + rejected:
        raise ReconciliationError(
            f"rows_in {ev.rows_in} != evaluated {evaluated} + "
            + (f"excluded {excluded} + " if ev.fhir_export is not None else "")
            + f"rejected {rejected}: rows were lost or doubled; nothing written"
        )
    return evaluated, rejected


# What `run_audit` imports to write its outputs (a DuckDB audit: by a thread, during the COPY)
OUTPUT_MODULES = (
    "earlypath.audit.case_list",
    "earlypath.audit.summary",
    "earlypath.audit.report",
    "earlypath.audit.measure_report",
    "earlypath.json_text",
)


def _import_all(names: Sequence[str]) -> None:
    """Import the modules ``names``. Run by a thread while the audit's own thread imports
    nothing (it waits for this one before its next import): two threads importing modules that
    import each other could each find the other's half-made module."""
    for name in names:
        importlib.import_module(name)


def _end_duckdb(con: Any) -> None:
    """Close a DuckDB audit's own connection (``con``, a `PlainDuckDB`), its last statement run."""
    con.con.close()


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
    started = time.perf_counter()
    check_out_folder(Path(out_dir), Path(source), OUTPUTS)  # a bad --out fails before any work
    # the zone a record's instants are dated in: a bad EARLYPATH_TIME_ZONE fails here, named
    configured_time_zone()
    ev = evaluate(
        Path(source),
        engine,
        policy,
        spark,
        progress=progress,
        group_by=group_by,
        join_episodes=True,
    )
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
    # (the background: Spark's episodes file joined by a thread, ended before the staging
    # folder is published or removed; after the publish: DuckDB's end, joined once published)
    with (
        contextlib.ExitStack() as after_publish,
        staged_outputs(out_dir, OUTPUTS) as staged,
        contextlib.ExitStack() as background,
    ):
        mark = time.perf_counter()
        joining = None
        cases = None
        ending = None
        if ev.one_pass is not None:
            # The output modules are imported by a thread while DuckDB runs the COPY (which
            # holds no Python lock): 0.02 s of Python off the audit's serial chain.
            importing = background.enter_context(
                InBackground(partial(_import_all, OUTPUT_MODULES), "earlypath-imports")
            )
            # DuckDB judges while it writes: the rows are counted after, from the file and the
            # rejects, and a mismatch still publishes nothing (the staging folder goes).
            # (the COPY's memory limit left: this connection is the audit's own, and setting
            # it back costs more wall time than the connection's end: `bounded_copy_memory`)
            written = write_one_pass(
                ev, staged["episodes.parquet"], progress, restore_default=False
            )
            ev.timings["check_judge_and_write_episodes"] = time.perf_counter() - mark
            # episodes.parquet is whole (its order checked): synced and summed for the manifest
            # by a thread while DuckDB finds the rejects and counts the summary (`seal`)
            staged.seal("episodes.parquet")
            importing.finish()  # (before this thread imports any of them: see `_import_all`)
            from earlypath.audit.case_list import CASE_LIST, CaseListInBackground
            from earlypath.audit.summary import FUNNEL_MEASURE

            # The case list reads only the file: a thread writes it while the rejects are found
            # and the summary is counted (case_list.CaseListInBackground)
            cases = background.enter_context(
                CaseListInBackground(
                    ev.con,
                    episodes_from_file(ev, staged["episodes.parquet"]),
                    staged[CASE_LIST],
                    FUNNEL_MEASURE,
                )
            )
            after_one_pass(ev, staged["episodes.parquet"])
            evaluated, rejected = _reconciled(ev)
        elif ev.con.name == "pyspark":
            # The episodes file is joined from Spark's judged parts by a thread while the
            # summary and case list read the same parts; its rows are checked at the end,
            # before anything is published (spark_audit.EpisodesJoin).
            from earlypath.audit.spark_audit import EpisodesJoin

            big = progress and evaluated > 100_000
            joining = background.enter_context(EpisodesJoin(ev, staged["episodes.parquet"], big))
        else:
            written = write_episodes(ev, staged["episodes.parquet"], progress)
        if joining is None and written != evaluated:
            raise ReconciliationError(f"wrote {written} episodes, evaluated {evaluated}")
        write_rejects(ev, staged["rejects.csv"])
        ev.timings["write_episodes_and_rejects"] = time.perf_counter() - mark
        if ev.con.name == "pyspark":  # counted from the judged parts, with no Spark job
            from earlypath.audit.spark_audit import read_back_on_duckdb

            ev = read_back_on_duckdb(ev, None)
        from earlypath.audit.case_list import CASE_LIST, write_case_list
        from earlypath.audit.measure_report import measure_report
        from earlypath.audit.report import render_report
        from earlypath.audit.summary import FUNNEL_MEASURE, build_summary
        from earlypath.json_text import dumps_indented

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
        # json.dumps(..., indent=2)'s text, by orjson where it is the same (earlypath.json_text)
        staged["summary.json"].write_text(dumps_indented(summary, default=str), encoding="utf-8")
        staged["report.html"].write_text(render_report(summary), encoding="utf-8")
        staged["measure-report.json"].write_text(
            dumps_indented(measure_report(summary)), encoding="utf-8"
        )
        if cases is not None:
            cases.finish()
            # DuckDB's last statement has run: the connection (the audit's own, made by
            # `evaluate`) ends on a thread while the outputs are synced and published. Its end
            # gives back what the COPY used (0.01-0.02 s of CPU, 0.03-0.05 s of wall a million
            # rows), which the publish's waits on the disk (0.04-0.05 s) hold no Python lock for.
            ending = after_publish.enter_context(
                InBackground(partial(_end_duckdb, ev.con), "earlypath-duckdb-end")
            )
        else:
            write_case_list(ev.con, ev.episodes, staged[CASE_LIST], FUNNEL_MEASURE)
        if joining is not None:
            written = joining.finish()
            if written != evaluated:
                raise ReconciliationError(f"wrote {written} episodes, evaluated {evaluated}")
    if ending is not None:
        ending.finish()  # (what closing raised, if anything, is raised here)
    excluded = sum(ev.excluded.values())
    if echo:
        echo(
            f"rows_in {ev.rows_in} = evaluated {evaluated} + "
            + (f"excluded {excluded} + " if ev.fhir_export is not None else "")
            + f"rejected {rejected} ({engine}, {summary['seconds']:.1f} s)"
        )
    return AuditResult(ev.rows_in, evaluated, rejected, out_dir, summary, excluded)
