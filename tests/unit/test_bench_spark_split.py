"""The Spark benchmark's split of an audit into its serial and parallel parts
(`benchmarks/bench_spark.py --split`): from Spark's event log, and the JVM's CPU by thread."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bench_spark  # noqa: E402
import spark_shared  # noqa: E402


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
    assert split["before_jobs_s"] == pytest.approx(3.0)  # (the loading and planning)
    assert split["after_jobs_s"] == pytest.approx(2.0)  # (the join and the summary)


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


def test_each_stage_has_its_tasks_cpu_and_the_seconds_one_task_ran_alone(
    tmp_path: Path,
) -> None:
    # Stage 0: one task of 2 s alone; stage 1: two tasks side by side, one 1 s longer (its tail)
    def task(stage: int, launch_ms: int, finish_ms: int, cpu_ns: int) -> dict:
        return {**_task(launch_ms, finish_ms, cpu_ns), "Stage ID": stage}

    _write_log(
        tmp_path,
        [
            task(0, 1_001_000, 1_003_000, 1_500_000_000),
            task(1, 1_003_000, 1_007_000, 3_000_000_000),
            task(1, 1_003_000, 1_008_000, 4_000_000_000),
        ],
    )
    split = bench_spark._split(tmp_path, 1000.0, 1010.0)
    assert split["task_cpu_per_stage"] == [1.5, 7.0]
    assert split["one_task_s"] == pytest.approx(3.0)


def test_the_seconds_are_counted_by_how_many_tasks_ran_at_once() -> None:
    spans = [(0.0, 4.0), (1.0, 3.0), (2.0, 6.0), (8.0, 9.0)]
    assert bench_spark._seconds_by_running(spans) == pytest.approx({1: 4.0, 2: 2.0, 3: 1.0})
    assert bench_spark._seconds_by_running([]) == {}


def test_the_parallel_fraction_is_the_tasks_share_of_the_cpu() -> None:
    # 12 CPU s of tasks in 20: on 2 cores 6 + 8 = 14 s, 20 / 14 = 1.43x
    kinds = {"tasks": 12.0, "gc": 1.0, "jit": 1.0, "driver": 3.0}
    run = {
        "seconds": 15.0,
        "cpu_seconds": 20.0,
        "python_cpu_seconds": 2.0,
        "session_seconds": 1.0,
        "load_average": 1.0,
        "others_cores": 0.1,
        "evaluated": 10,
        "jobs": 1,
        "cpu_by_kind": kinds,
    }
    summary = bench_spark._summarised("spark", "local[2]", [run])
    assert summary["parallel_fraction"] == pytest.approx(0.6)
    assert summary["cpu_ceiling"] == pytest.approx(20.0 / 14.0)
    assert summary["all_others_cores"] == [0.1]


def test_a_round_is_quiet_when_no_other_process_shared_either_run() -> None:
    one = {"all_others_cores": [0.05, 0.9, 0.1, 0.0]}
    two = {"all_others_cores": [0.1, 0.0, 0.3, 0.2]}
    assert bench_spark._quiet_rounds(one, two, [1.6, 1.2, 1.3, 1.7]) == [1.6, 1.7]


def test_the_machine_is_busy_in_all_but_idle_and_iowait() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice, in clock ticks
    line = "cpu  500 20 80 900 50 0 0 10 40 0\n"
    tick = spark_shared._TICK
    assert spark_shared.machine_busy(line) == pytest.approx((500 + 20 + 80 + 10) / tick)
    assert spark_shared.machine_busy() > 0.0


def test_the_speed_up_goal_is_judged_on_the_median_of_the_rounds() -> None:
    # Medians 20 / 12.5 = 1.6x, but round by round 1.25, 1.5, 1.55, 2.0: median 1.525x
    row = {
        "speed_up_paired": [1.25, 1.5, 1.55, 2.0],
        "speed_up_paired_median": 1.525,
        "speed_up_1_to_2_cores": 1.6,
        "speed_up_quiet_rounds": [1.55, 2.0],
        "cpu_ceiling": "1.45x",
    }
    goal, quiet = bench_spark._speed_up_goal(row)
    assert goal.startswith("goal 1M rows local[1]/local[2] >= 1.6x on the median of the rounds")
    assert "1.52x (rounds 1.25, 1.50, 1.55, 2.00;" in goal
    assert goal.endswith("NOT met")
    assert quiet.endswith("2 of 4, ratios 1.55, 2.00, median 1.77x")
    assert bench_spark._speed_up_goal({**row, "speed_up_paired_median": 1.6})[0].endswith(": met")
