"""The DuckDB audit benchmark's split of the COPY into steps (`benchmarks/bench_audit.py
--split`): each step runs on the audit's own judging SQL, and the checks' step keeps exactly
the rows the audit writes (so the step's difference is the checks' filter, nothing else)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bench_audit  # noqa: E402

from earlypath.synth import write_cohort  # noqa: E402


def test_the_steps_write_the_rows_the_audit_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = tmp_path / "cohort.parquet"
    write_cohort(3000, 7, "parquet", cohort)
    bench_audit._split_worker(cohort, tmp_path / "split", repeat=1)

    cpu = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    whole = cpu.pop("whole_audit")
    by_thread = cpu.pop("by_thread")
    assert set(cpu) == {"read_and_write", "checks", "audit", "baseline"}
    assert set(by_thread) == set(cpu)  # each step's CPU by thread, busiest first
    assert all(spread == sorted(spread, reverse=True) for spread in by_thread.values())
    assert all(seconds >= 0 for seconds in cpu.values())
    # A whole audit by statement: its COPY is among them, and the connection is unpatched after
    assert any(name.startswith("COPY (") for name in whole)
    assert whole["whole"] >= whole["python"] >= 0
    # The idle-machine estimate: every statement's busiest thread, and the Python between them
    assert set(whole["busiest"]) == set(whole) - {"wall", "busiest"}
    assert whole["busiest"]["whole"] <= whole["whole"] + 0.05  # (clock ticks of 0.01 s)
    from earlypath.audit.sql_table import PlainDuckDB

    assert type(PlainDuckDB().con).__name__ == "DuckDBPyConnection"
    assert (tmp_path / "split" / "whole" / "episodes.parquet").exists()

    def numbers(name: str) -> list[int]:
        path = tmp_path / "split" / f"{name}.parquet"
        return [r[0] for r in duckdb.sql(f"SELECT row_number FROM '{path}'").fetchall()]

    every_row = numbers("read_and_write")
    accepted = numbers("checks")
    assert len(every_row) == 3000
    # The synthetic cohort has rejects: the checks' step drops them, as the audit does
    assert len(accepted) < len(every_row)
    assert accepted == numbers("audit")
    # The passed-through columns hold the audit's values (the episode ids as it cleans them)
    audit_ids = duckdb.sql(f"SELECT episode_id FROM '{tmp_path / 'split' / 'audit.parquet'}'")
    checks_ids = duckdb.sql(f"SELECT episode_id FROM '{tmp_path / 'split' / 'checks.parquet'}'")
    assert audit_ids.fetchall() == checks_ids.fetchall()


class _Clock:
    """A CPU clock that moves only when the fake connection works."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Streamed:
    """A connection whose statement does part of its work when its rows are fetched, as
    DuckDB's does for a streamed result (the summary's counts: a UNION ALL)."""

    def __init__(self, clock: _Clock) -> None:
        self._clock = clock
        self.description = [("n",)]

    def execute(self, sql: str, *args: object) -> _Streamed:
        self._clock.now += 0.25
        return self

    def fetchall(self) -> list[tuple[int]]:
        self._clock.now += 1.0
        return [(1,)]


def test_a_statement_s_rows_fetched_are_charged_to_it_not_to_python() -> None:
    clock = _Clock()
    con = bench_audit.TimedConnection(_Streamed(clock), clock)
    cursor = con.execute("SELECT count(*) AS n FROM episodes")
    assert cursor.description == [("n",)]  # anything else is the connection's own
    assert cursor.fetchall() == [(1,)]
    con.execute("SELECT 1").fetchall()
    assert con.spent == {"SELECT count(*) AS n FROM": 1.25, "SELECT 1": 1.25}
    assert set(con.waited) == set(con.spent)


class _Threads:
    """A clock by thread: the fake connection's work is shared by two threads, unevenly."""

    def __init__(self) -> None:
        self.now = {"main": 0.0, "worker": 0.0}

    def __call__(self) -> dict[str, float]:
        return dict(self.now)


class _TwoThreads(_Streamed):
    def __init__(self, clock: _Clock, threads: _Threads) -> None:
        super().__init__(clock)
        self._threads = threads

    def execute(self, sql: str, *args: object) -> _TwoThreads:
        self._threads.now["main"] += 0.25
        self._threads.now["worker"] += 0.5
        return self

    def fetchall(self) -> list[tuple[int]]:
        self._threads.now["main"] += 1.0
        return [(1,)]


def test_a_statement_s_busiest_thread_is_charged_to_it() -> None:
    # The idle-machine estimate of `--split`: a statement takes its busiest thread's CPU
    clock, threads = _Clock(), _Threads()
    con = bench_audit.TimedConnection(_TwoThreads(clock, threads), clock, threads)
    con.execute("SELECT count(*) AS n FROM episodes").fetchall()
    con.execute("SELECT 1")
    # execute: the worker's 0.5, then the fetch: the main thread's 1.0; the second: 0.5
    assert con.busiest == {"SELECT count(*) AS n FROM": 1.5, "SELECT 1": 0.5}


def test_each_thread_s_cpu_is_read() -> None:
    found = bench_audit.thread_cpu_seconds()
    if not Path("/proc/self/task").is_dir():
        pytest.skip("no /proc")
    assert len(found) >= 1
    assert all(seconds >= 0 for seconds in found.values())
