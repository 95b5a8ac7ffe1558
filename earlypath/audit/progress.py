"""Progress bars for long work (`earlypath synth`, `earlypath audit`), on stderr, only on a terminal.

A bar shows rows done of rows total; work whose size is not known shows a spinner and the time
taken, never "0/?". While DuckDB judges a cohort in one query, the rows done are read from
DuckDB's own progress of that query (`query_progress`), polled from a second thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Bar", "duckdb_progress", "make_console", "progress_bar"]

POLL_SECONDS = 0.25


def make_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


class Bar:
    """Advance by n rows (``bar(n)``) or set the rows done (``bar.done(n)``); does nothing when
    there is no bar."""

    def __init__(self, progress: Any = None, task: Any = None):
        self._progress, self._task = progress, task

    def __call__(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def done(self, completed: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed)


@contextmanager
def progress_bar(enabled: bool, total: int | None, label: str) -> Iterator[Bar]:
    if not enabled:
        yield Bar()
        return
    console = make_console()
    if not console.is_terminal:
        yield Bar()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = (
        ["[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), "rows"]
        if total is not None
        else [SpinnerColumn(), "[progress.description]{task.description}"]
    )
    with Progress(*columns, TimeElapsedColumn(), transient=True, console=console) as progress:
        yield Bar(progress, progress.add_task(label, total=total))


@contextmanager
def duckdb_progress(enabled: bool, duck: Any, rows: int, label: str) -> Iterator[None]:
    """A bar of `rows` while the block runs a DuckDB query on the connection `duck`; the rows
    done follow DuckDB's percentage of the running query (never going back)."""
    with progress_bar(enabled, rows, label) as bar:
        if bar._progress is None:
            yield
            return
        duck.execute("SET enable_progress_bar = true")
        duck.execute("SET enable_progress_bar_print = false")
        finished = threading.Event()

        def poll() -> None:
            best = 0.0
            while not finished.wait(POLL_SECONDS):
                percent = duck.query_progress()
                if percent is not None and percent > 0:
                    best = max(best, min(percent, 100.0) / 100 * rows)
                    bar.done(best)

        watcher = threading.Thread(target=poll, name="earlypath-progress", daemon=True)
        watcher.start()
        try:
            yield
            bar.done(rows)
        finally:
            finished.set()
            watcher.join()
