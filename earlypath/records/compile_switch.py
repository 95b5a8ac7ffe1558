"""A rewrite of ibis's SQL that is on only while a ``with`` block asks for it.

The record reading changes how ibis writes some of DuckDB's SQL (`sql_star`, `select_unnest`)
by replacing a compiler's ``visit_*`` method for the whole process; every other SQL of the
process (Spark's, the rules' batch engine, a test's) must still be written as ibis writes it.
So each rewrite is guarded by a `Switch`, per context (a `ContextVar`: threads and tasks
compiling at once each see their own), and the reading turns it on around its own compile.

A replaced visit takes ibis's keyword arguments as they come (``**kw``) and hands them on
whole when it writes the SQL as ibis does: the list is ibis's to change between versions,
and is written in one place, ibis's own method.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Switch"]


class Switch:
    """Off unless inside ``with switch():`` (or ``with switch(on):``, ``on`` True)."""

    __slots__ = ("_on",)

    def __init__(self, name: str) -> None:
        self._on: ContextVar[bool] = ContextVar(name, default=False)

    def is_on(self) -> bool:
        return self._on.get()

    @contextmanager
    def __call__(self, on: bool = True) -> Iterator[None]:
        token = self._on.set(on)
        try:
            yield
        finally:
            self._on.reset(token)
