"""Progress bars for synth and audit: rows done of rows total on a terminal, never "0/?"."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from earlypath.audit import progress
from earlypath.audit.run import run_audit
from earlypath.synth import write_cohort


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr as a terminal 200 columns wide, captured."""
    screen = io.StringIO()
    monkeypatch.setattr(
        progress,
        "make_console",
        lambda: Console(file=screen, force_terminal=True, width=200, color_system=None),
    )
    return screen


def _frames(screen: io.StringIO) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())


def test_synth_shows_rows_written_of_rows_asked_for(tmp_path: Path, terminal) -> None:
    write_cohort(25_000, 3, "csv", tmp_path / "c.csv", progress=True)
    frames = _frames(terminal)
    assert "25000/25000 rows" in frames
    assert "/?" not in frames


def test_audit_shows_rows_judged_of_rows_in(tmp_path: Path, terminal) -> None:
    write_cohort(6000, 3, "csv", tmp_path / "c.csv")
    terminal.truncate(0)
    run_audit(tmp_path / "c.csv", tmp_path / "out", progress=True)
    frames = _frames(terminal)
    assert "checking and judging" in frames
    assert "6000/6000 rows" in frames
    assert "/?" not in frames


def test_the_python_engine_counts_rows_as_it_judges(tmp_path: Path, terminal) -> None:
    write_cohort(6000, 3, "csv", tmp_path / "c.csv")
    run_audit(tmp_path / "c.csv", tmp_path / "out", engine="python", progress=True)
    assert "6000/6000 rows" in _frames(terminal)


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path, capsys) -> None:
    write_cohort(2000, 3, "csv", tmp_path / "c.csv", progress=True)
    run_audit(tmp_path / "c.csv", tmp_path / "out", progress=True)
    captured = capsys.readouterr()
    assert "rows" not in captured.err


def test_the_bar_follows_duckdbs_progress_of_the_running_query(terminal) -> None:
    """While a long query runs, the rows done rise before it ends (read from DuckDB)."""
    import duckdb

    con = duckdb.connect()
    with progress.duckdb_progress(True, con, 1_000_000, "judging"):
        con.execute(
            "CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS h FROM range(6000000) r(i) ORDER BY h"
        )
    done = [int(n) for n in re.findall(r"(\d+)/1000000 rows", _frames(terminal))]
    assert done[-1] == 1_000_000
    assert any(0 < n < 1_000_000 for n in done), done
