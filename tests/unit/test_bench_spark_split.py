"""The Spark benchmark's split of an audit into its serial and parallel parts
(`benchmarks/bench_spark.py --split`): from Spark's event log, and the JVM's CPU by thread."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bench_spark  # noqa: E402


def _task(launch_ms: int, finish_ms: int, cpu_ns: int) -> dict:
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": 0,
        "Task Info": {"Launch Time": launch_ms, "Finish Time": finish_ms},
        "Task Metrics": {"Executor CPU Time": cpu_ns},
    }


def _write_log(folder: Path, events: list[dict]) -> None:
    # Spark 4's rolling event log: a folder per application, events_N_* files in it
    app = folder / "eventlog_v2_local-1"
    app.mkdir(parents=True)
    (app / "appstatus_local-1").write_text("")
    half = len(events) // 2
    for n, chunk in enumerate((events[:half], events[half:]), start=1):
        text = "".join(json.dumps(e) + "\n" for e in chunk)
        (app / f"events_{n}_local-1").write_text(text)


def test_the_serial_part_is_the_audit_outside_its_jobs(tmp_path: Path) -> None:
    # An audit from t=1000 s to 1015 s; one job from 1003 to 1013 s, two tasks side by side
    # of 9 and 10 s: 10 s parallel, 5 s serial; on one core 5 + 19 s, on two 5 + 9.5 s.
    _write_log(
        tmp_path,
        [
            {"Event": "SparkListenerJobStart", "Job ID": 0, "Submission Time": 1_003_000},
            _task(1_003_100, 1_012_100, 8_000_000_000),
            _task(1_003_000, 1_013_000, 9_000_000_000),
            {"Event": "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 1_013_000},
        ],
    )
    split = bench_spark._split(tmp_path, 1000.0, 1015.0)
    assert split["parallel_s"] == pytest.approx(10.0)
    assert split["serial_s"] == pytest.approx(5.0)
    assert split["task_s"] == pytest.approx(19.0)
    assert split["task_cpu_s"] == pytest.approx(17.0)
    assert split["ceiling"] == pytest.approx(24.0 / 14.5)


def test_overlapping_jobs_are_counted_once(tmp_path: Path) -> None:
    _write_log(
        tmp_path,
        [
            {"Event": "SparkListenerJobStart", "Job ID": 0, "Submission Time": 1_001_000},
            {"Event": "SparkListenerJobStart", "Job ID": 1, "Submission Time": 1_002_000},
            {"Event": "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 1_004_000},
            {"Event": "SparkListenerJobEnd", "Job ID": 1, "Completion Time": 1_005_000},
        ],
    )
    split = bench_spark._split(tmp_path, 1000.0, 1010.0)
    assert split["parallel_s"] == pytest.approx(4.0)
    assert split["serial_s"] == pytest.approx(6.0)
    assert split["ceiling"] == 1.0  # no task: nothing to spread


def test_the_jvm_cpu_is_grouped_by_kind_of_thread() -> None:
    before = {"1": ("Executor task l", 1.0), "2": ("GC Thread#0", 0.5), "3": ("Thread-4", 0.0)}
    after = {
        "1": ("Executor task l", 6.0),
        "2": ("GC Thread#0", 1.0),
        "3": ("Thread-4", 2.0),
        "4": ("C1 CompilerThre", 0.75),
        "5": ("VM Thread", 0.25),
    }
    assert bench_spark._cpu_by_kind(before, after) == {
        "tasks": 5.0,
        "gc": 0.75,
        "jit": 0.75,
        "driver": 2.0,
    }


@pytest.mark.parametrize(
    ("master", "cpus"), [("local", "0-0"), ("local[1]", "0-0"), ("local[2]", "0-1")]
)
def test_a_pinned_run_gets_the_first_cpus_of_its_master(master: str, cpus: str) -> None:
    assert bench_spark._first_cpus(master) == cpus


def test_every_other_round_runs_the_setups_in_the_reverse_order() -> None:
    # A B C, C B A, A B C, C B A: over an even count each setup runs first and last as often
    orders = [bench_spark._round_order(3, i) for i in range(4)]
    assert orders == [[0, 1, 2], [2, 1, 0], [0, 1, 2], [2, 1, 0]]
    assert [order[-1] for order in orders].count(2) == [order[0] for order in orders].count(2)


def test_the_speed_up_is_also_taken_round_by_round() -> None:
    one = {"all_seconds": [20.0, 30.0, 22.0]}
    two = {"all_seconds": [10.0, 25.0, 11.0]}
    assert bench_spark._paired_speed_ups(one, two) == pytest.approx([2.0, 1.2, 2.0])


@pytest.mark.parametrize(
    ("rows", "asked", "runs"), [(100_000, None, 3), (1_000_000, None, 4), (1_000_000, 2, 2)]
)
def test_the_1m_figure_takes_an_even_number_of_runs_by_default(
    rows: int, asked: int | None, runs: int
) -> None:
    assert bench_spark.runs_for(rows, asked) == runs


def test_jvm_threads_that_ended_are_not_counted_as_python() -> None:
    # 10 CPU s in all: Python 2, the JVM's live threads 6 (tasks 4, driver 2), so 2 s of JVM
    # threads that ended during the audit (before, all 4 s were reported as Python's)
    kinds = {"tasks": 4.0, "gc": 0.0, "jit": 0.0, "driver": 2.0}
    run = {"cpu_seconds": 10.0, "python_cpu_seconds": 2.0, "cpu_by_kind": kinds}
    assert bench_spark._python_and_ended([run], kinds) == {"python": 2.0, "ended": 2.0}
    older = {"cpu_seconds": 10.0, "cpu_by_kind": kinds}  # a --before checkout's worker
    assert bench_spark._python_and_ended([older], kinds) == {"python": 4.0}


def test_the_tasks_of_each_stage_are_read_from_the_event_log(tmp_path: Path) -> None:
    # A stage of 1 task (one row group read), then one of 2 (one per core), logged out of order
    def stage(stage_id: int, tasks: int) -> dict:
        info = {"Stage ID": stage_id, "Number of Tasks": tasks}
        return {"Event": "SparkListenerStageCompleted", "Stage Info": info}

    _write_log(tmp_path, [stage(1, 2), stage(0, 1)])
    assert bench_spark._split(tmp_path, 1000.0, 1010.0)["tasks_per_stage"] == [1, 2]


def test_the_collections_are_counted_between_two_readings() -> None:
    before = {"PS Scavenge": (3, 200), "PS MarkSweep": (1, 100)}
    after = {"PS Scavenge": (14, 1519), "PS MarkSweep": (4, 1292)}
    assert bench_spark._collections_between(before, after) == {
        "PS Scavenge": [11, 1319],
        "PS MarkSweep": [3, 1192],
    }


def test_a_thread_that_ended_is_counted_up_to_its_last_reading() -> None:
    before = {"1": ("Executor task l", 1.0), "2": ("C1 CompilerThre", 0.5)}
    after = {"1": ("Executor task l", 3.0)}  # the compiler's extra thread ended
    seen = {"1": ("Executor task l", 2.5), "2": ("C1 CompilerThre", 0.9)}
    assert bench_spark._cpu_by_kind(before, after)["jit"] == 0.0
    assert bench_spark._cpu_by_kind(before, after, seen) == {
        "tasks": 2.0,
        "gc": 0.0,
        "jit": 0.4,
        "driver": 0.0,
    }


def test_the_job_window_counts_the_cpu_while_a_job_runs_only() -> None:
    # Readings every 50 ms: before the job, two in it (a compiler thread ends in it), after it
    def threads(task: float, jit: float | None, driver: float) -> dict:
        found = {"1": ("Executor task l", task), "3": ("Thread-3", driver)}
        if jit is not None:
            found["2"] = ("C1 CompilerThre", jit)
        return found

    window = bench_spark.JobWindow()
    window.observe(False, threads(0.0, 0.5, 1.0))  # planning: not counted
    window.observe(True, threads(0.1, 0.6, 1.2))  # the job's first reading
    window.observe(True, threads(2.1, 0.9, 1.3))
    window.observe(False, threads(4.1, None, 1.4))  # ended, and the compiler thread with it
    window.observe(False, threads(4.1, None, 2.4))  # the tail: not counted
    assert window.result() == {"tasks": 4.0, "gc": 0.0, "jit": 0.3, "driver": 0.2}
