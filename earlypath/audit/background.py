"""Work done by a thread while the audit's own thread waits on DuckDB (issue 16: wall time).

DuckDB runs a statement without holding Python's lock, so Python work that does not need the
statement's result (importing the output modules during the COPY, the funnel's limits during
the summary's last statements) can run beside it on the core the statement leaves idle.
`InBackground` runs one function on a thread: `finish` waits for it and gives its result or
raises, in the caller's thread, what it raised; as a context manager, leaving waits for the
thread, so an error elsewhere never leaves it running while the staging folder goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar, cast

__all__ = ["InBackground"]

T = TypeVar("T")


class InBackground(Generic[T]):
    """``work()`` run by a thread named ``name``, started at once."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as error:  # raised again by `finish`, in the caller's thread
            self._error = error

    def join(self) -> None:
        """Wait for the work, and leave what it gave or raised for `finish`."""
        self._thread.join()

    def finish(self) -> T:
        """Wait for the work; its result, or what it raised (raised again here)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return cast(T, self._result)  # (set: no error was raised)

    def __enter__(self) -> InBackground[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._thread.join()
