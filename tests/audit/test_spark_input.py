"""How the Spark audit reads a flat cohort (issue 16): the schema from the Parquet footer (no
Spark job), a cohort in fewer pieces than cores spread over every core in runs of consecutive
rows, and episodes.parquet the same bytes however Spark split the rows."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from earlypath.audit import spark_input
from earlypath.audit.load import connect, load_raw
from earlypath.audit.run import run_audit
from earlypath.audit.spark_audit import _join
from earlypath.audit.spark_input import footer_schema, spark_hash_long
from earlypath.synth import write_cohort


@pytest.mark.spark
def test_the_partition_keys_hash_as_spark_hashes_a_bigint(spark: Any) -> None:
    values = [0, 1, 2, 3, 41, -1, 2**31, 2**40 + 5, -(2**63), 2**63 - 1]
    literals = ", ".join(f"(CAST({v} AS BIGINT))" for v in values)
    rows = spark.sql(f"SELECT k, hash(k) AS h FROM VALUES {literals} AS t(k)").collect()
    assert [spark_hash_long(r["k"]) for r in rows] == [r["h"] for r in rows]


@pytest.mark.spark
def test_the_footer_schema_is_the_one_spark_infers(tmp_path: Path, spark: Any) -> None:
    path = tmp_path / "types.parquet"
    table = pa.table(
        {
            "tiny": pa.array([1], pa.int8()),
            "small": pa.array([1], pa.int16()),
            "int": pa.array([1], pa.int32()),
            "long": pa.array([1], pa.int64()),
            "float": pa.array([1.5], pa.float32()),
            "double": pa.array([1.5], pa.float64()),
            "flag": pa.array([True]),
            "text": pa.array(["x"]),
            "day": pa.array([datetime.date(2024, 1, 2)]),
            "bytes": pa.array([b"x"]),
            "money": pa.array([Decimal("1.25")], pa.decimal128(10, 2)),
            "big money": pa.array([Decimal("1.25")], pa.decimal128(30, 2)),
        }
    )
    pq.write_table(table, path)
    schema = footer_schema(path)
    assert schema is not None
    assert schema == spark.read.parquet(str(path)).schema


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1], pa.uint32()),
        pa.array([datetime.datetime(2024, 1, 2)], pa.timestamp("us")),
        pa.array([[1]], pa.list_(pa.int64())),
        pa.array([{"a": 1}]),
    ],
)
def test_other_types_are_left_to_spark(tmp_path: Path, column: pa.Array) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"id": ["a"], "other": column}), path)
    assert footer_schema(path) is None


def test_the_joined_row_groups_do_not_depend_on_the_parts(tmp_path: Path) -> None:
    def part(name: str, numbers: range) -> Path:
        path = tmp_path / name
        pq.write_table(pa.table({"row_number": pa.array(numbers, pa.int64())}), path)
        return path

    whole, halves = tmp_path / "whole.parquet", tmp_path / "halves.parquet"
    _join([part("one", range(1, 8))], whole, group_rows=3)
    _join([part("a", range(1, 3)), part("b", range(3, 6)), part("c", range(6, 8))], halves, 3)
    groups = pq.ParquetFile(halves).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [3, 3, 1]
    assert whole.read_bytes() == halves.read_bytes()


def test_the_episodes_read_ahead_by_threads_are_joined_as_read_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts' row groups are read and filtered by a thread per core, a few ahead of the
    writer: the file is the same bytes as read one at a time, rejects left out, in order."""
    import os

    from earlypath.audit import spark_audit

    def part(name: str, numbers: range, group_rows: int) -> Path:
        reasons = [None if n % 4 else "repeated_id" for n in numbers]  # some groups none
        table = pa.table(
            {
                "row_number": pa.array(numbers, pa.int64()),
                "episode_id": pa.array([f"e{n}" for n in numbers]),
                "reject_reason": pa.array(reasons, pa.string()),
            }
        )
        pq.write_table(table, tmp_path / name, row_group_size=group_rows)
        return tmp_path / name

    parts = [part("a", range(1, 40), 7), part("b", range(40, 41), 1), part("c", range(41, 90), 5)]
    outputs = []
    for cores in (1, 2, 4):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        target = tmp_path / f"episodes-{cores}.parquet"
        _join(parts, target, group_rows=8, episode_columns=["row_number", "episode_id"])
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    numbers = pq.read_table(tmp_path / "episodes-2.parquet").column("row_number").to_pylist()
    assert numbers == [n for n in range(1, 90) if n % 4]

    import threading

    finished = []
    second_done = threading.Event()

    # The first item waits for the second to finish: read ahead (two or more at a time), the
    # second finishes first and all are still handed over in order. An event, not sleeps of different
    # lengths, so a loaded machine cannot reorder them (read one at a time, the first waits
    # its whole timeout and finishes first, which fails the last assert).
    def read(n: int) -> int:
        if n == 0:
            second_done.wait(timeout=5)
        finished.append(n)
        if n == 1:
            second_done.set()
        return n

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert list(spark_audit._in_order_ahead(read, [0, 1, 2, 3, 4])) == [0, 1, 2, 3, 4]
    # (read ahead: the second, and maybe more, finished before the first)
    assert finished.index(1) < finished.index(0)


def test_the_parts_are_counted_and_joined_on_the_system_allocator(tmp_path: Path) -> None:
    """The serial pyarrow work after the Spark job allocates from the C library's allocator
    (pyarrow's default here, mimalloc, took up to 0.5 s more kernel time over a process's first
    few hundred MB, in huge pages), and leaves pyarrow's default pool as it found it."""
    from earlypath.audit.spark_audit import JudgedParts, _count_parts, _runs_in_order

    default = pa.default_memory_pool()
    system = pa.system_memory_pool()
    columns = ["row_number", "episode_id", "defaulted_false_cells"]
    parts = [
        _judged_part(tmp_path / "a.parquet", list(range(1, 31)), True),
        _judged_part(tmp_path / "b.parquet", list(range(31, 53)), True),
    ]
    for step in (
        lambda: _runs_in_order(parts),
        lambda: _count_parts(JudgedParts(tmp_path / "f", parts, pq.read_schema(parts[0]), columns)),
        lambda: _join(parts, tmp_path / "episodes.parquet", episode_columns=columns),
    ):
        before = system.total_bytes_allocated()
        step()
        assert system.total_bytes_allocated() > before
        assert pa.default_memory_pool().backend_name == default.backend_name
    assert pq.read_table(tmp_path / "episodes.parquet").num_rows == 42


@pytest.mark.spark
def test_a_cohort_in_one_row_group_is_judged_by_every_core(
    tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_cohort(900, 3, "parquet", tmp_path / "cohort.parquet")
    assert pq.ParquetFile(source).metadata.num_row_groups == 1
    one_core = run_audit(source, tmp_path / "one", engine="spark", spark=spark)

    monkeypatch.setattr(spark_input, "SPREAD_MIN_ROWS", 1)
    con = connect("spark", spark)
    load_raw(con, source)
    runs = (
        spark.table("earlypath_raw_cohort")
        .selectExpr("spark_partition_id() AS p", "row_number")
        .groupBy("p")
        .agg({"row_number": "min", "p": "count"})
        .orderBy("p")
        .collect()
    )
    cores = spark.sparkContext.defaultParallelism
    assert cores >= 2
    # One run of consecutive rows per core, in order: 1-450, 451-900 on two cores.
    assert [(r["min(row_number)"], r["count(p)"]) for r in runs] == [
        (1 + i * 900 // cores, 900 // cores) for i in range(cores)
    ]
    every_core = run_audit(source, tmp_path / "every", engine="spark", spark=spark)
    assert every_core.evaluated == one_core.evaluated
    for name in ("episodes.parquet", "rejects.csv", "cases-eligible-not-offered.csv"):
        assert (tmp_path / "every" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    summaries = [json.loads((tmp_path / n / "summary.json").read_text()) for n in ("one", "every")]
    for summary in summaries:  # (when and how long it ran differ)
        for key in ("generated_at", "seconds", "timings_seconds"):
            summary.pop(key)
    assert summaries[0] == summaries[1]


@pytest.mark.spark
def test_loading_and_judging_a_parquet_cohort_is_one_spark_job(tmp_path: Path, spark: Any) -> None:
    """The judging with its counts is the only job: the schema comes from the footer, the
    repeated ids from DuckDB, and the files' first row numbers are literals in the query (the
    schema read, the repeated-id query's two jobs and a broadcast's job were 4 more)."""
    from earlypath.audit.run import evaluate
    from tests.audit.test_spark_audit import spark_jobs

    whole = pq.read_table(write_cohort(500, 1, "parquet", tmp_path / "whole.parquet"))
    folder = tmp_path / "cohort"
    folder.mkdir()
    pq.write_table(whole.slice(0, 300), folder / "part-0.parquet")  # (ids unique across both)
    pq.write_table(whole.slice(300), folder / "part-1.parquet")
    with spark_jobs(spark, "earlypath-test-judge") as jobs:
        ev = evaluate(folder, "spark", spark=spark)
        assert jobs() == 1
    assert ev.rows_in == 500
    assert ev.counts["evaluated"] + ev.counts["rejected"] == 500


@pytest.mark.spark
def test_duckdb_searches_the_repeated_ids_while_spark_loads_a_parquet_cohort(
    tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit starts DuckDB's search before Spark loads the cohort (a thread of its own,
    overlapping Spark's reading and planning), it finds the ids that repeat, and the judging
    rejects their rows as before."""
    from earlypath.audit import spark_audit

    whole = pq.read_table(write_cohort(40, 1, "parquet", tmp_path / "whole.parquet"))
    ids = whole.column("episode_id").to_pylist()
    twice = whole.set_column(
        whole.schema.get_field_index("episode_id"),
        "episode_id",
        pa.array([ids[0] if i == 5 else ids[1] if i == 7 else v for i, v in enumerate(ids)]),
    )
    cohort = tmp_path / "twice.parquet"
    pq.write_table(twice, cohort)
    search = spark_audit.search_repeated_ids(cohort)
    assert sorted(search.result(timeout=60)) == sorted([ids[0], ids[1]])
    started: list[Path] = []
    real = spark_audit.search_repeated_ids

    def counted(source: Path) -> Any:
        started.append(source)
        return real(source)

    monkeypatch.setattr(spark_audit, "search_repeated_ids", counted)
    csv = tmp_path / "twice.csv"
    twice.to_pandas().to_csv(csv, index=False)
    run_audit(csv, tmp_path / "csv", engine="spark", spark=spark)
    assert started == []  # a CSV cohort: Spark finds them while judging
    result = run_audit(cohort, tmp_path / "out", engine="spark", spark=spark)
    assert started == [cohort]  # the Parquet cohort: searched by DuckDB
    assert (result.rows_in, result.rejected) == (40, 4)


def test_the_spark_audit_leaves_the_checks_and_rules_to_be_imported_while_spark_reads() -> None:
    """Most of a second of imports (the checks, the rules, the model) run in the repeated-id
    search's thread, beside Spark's reading of the cohort, not before it starts."""
    import subprocess
    import sys

    code = (
        "import sys, earlypath.audit.run, earlypath.audit.spark_audit\n"
        "print(sorted(m for m in ('earlypath.audit.validate', 'earlypath.audit.judge',"
        " 'earlypath.engines') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def _judged_part(path: Path, numbers: list[int], episodes_first: bool) -> Path:
    """Judged rows (a reject every 5th row) in row_number order, or episodes first then rejects
    (as the Spark judging writes its parts)."""
    rows = [(n, f"e{n}", "repeated_id" if n % 5 == 0 else None, n % 3) for n in numbers]
    if episodes_first:
        rows.sort(key=lambda row: (row[2] is not None, row[0]))
    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "row_number": pa.array(columns[0], pa.int64()),
            "episode_id": pa.array(columns[1]),
            "reject_reason": pa.array(columns[2], pa.string()),
            "defaulted_false_cells": pa.array(columns[3], pa.int32()),
        }
    )
    pq.write_table(table, path, row_group_size=7)  # (groups of episodes, mixed, rejects)
    return path


def test_episodes_written_first_are_sliced_into_the_same_file_and_counts(tmp_path: Path) -> None:
    """The judging writes each part's episodes first, then its rejects: the join and the counts
    take the episodes as a slice of each row group, with the same bytes and counts as the same
    rows filtered out of row_number order."""
    from earlypath.audit.spark_audit import JudgedParts, _count_parts, _episodes_end

    columns = ["row_number", "episode_id", "defaulted_false_cells"]
    results = []
    for first in (False, True):
        parts = [
            _judged_part(tmp_path / f"a-{first}.parquet", list(range(1, 31)), first),
            _judged_part(tmp_path / f"b-{first}.parquet", list(range(31, 53)), first),
        ]
        target = tmp_path / f"episodes-{first}.parquet"
        _join(parts, target, group_rows=8, episode_columns=columns)
        judged = JudgedParts(tmp_path / f"folder-{first}", parts, pq.read_schema(parts[0]), columns)
        _count_parts(judged)
        results.append((target.read_bytes(), judged.counts, judged.rejects.to_pylist()))
    assert results[0] == results[1]
    episodes = pq.read_table(tmp_path / "episodes-True.parquet")["row_number"].to_pylist()
    assert episodes == [n for n in range(1, 53) if n % 5]
    assert results[1][1] == {
        "evaluated": 42,
        "rejected": 10,
        "defaulted": sum(n % 3 for n in episodes),
    }
    assert [r["row_number"] for r in results[1][2]] == list(range(5, 53, 5))

    reasons = pa.array([None, None, "x", "y"], pa.string())
    assert _episodes_end(reasons) == 2
    assert _episodes_end(pa.array([None, "x", None], pa.string())) is None  # filtered instead
