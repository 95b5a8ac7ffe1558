"""A list's unnest that several parts of a DuckDB statement read, written once as a CTE.

ibis writes a relation read by more than one node of a statement once, as a CTE
(`ibis.backends.sql.rewrites.extract_ctes`), but only a select, an aggregate, a join, a set
operation, a limit or a sample: an unnest (``ops.TableUnnest``) read by several nodes is written
in full at each of them. A reading's row spec whose rows are a list's items (`rec.ItemRows`)
unnests that list once in its plan and reads the items from several stages, so the clinical
view of the DiagnosticReports wrote its contained panels' unnest (4,668 characters) five times
and the contained list's (389) ten times, and the Observations' view its items' (4,343) five
times: about a quarter of those views' text (docs/speed.md, FHIR round 36). DuckDB parses
and binds each copy, and runs each.

Written as a CTE the unnest is the same relation read by the same nodes, so the rows are the
same. Only while `unnests_as_ctes` is on: the reading compiles its DuckDB statements so
(`ibis_compile._record_plan`); Spark's SQL, and every other SQL of the process, is written as
ibis writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ibis.expr.operations as ops
from ibis.backends.sql import rewrites
from ibis.common.graph import Graph
from ibis.common.patterns import InstanceOf

__all__ = ["unnests_as_ctes"]

_ON: ContextVar[bool] = ContextVar("earlypath_unnests_as_ctes", default=False)

_extract_ctes = rewrites.extract_ctes


@contextmanager
def unnests_as_ctes(on: bool = True) -> Iterator[None]:
    """Compile an unnest read by more than one node as a CTE (when ``on``)."""
    token = _ON.set(on)
    try:
        yield
    finally:
        _ON.reset(token)


def _with_unnests(node: Any) -> set[Any]:
    ctes = _extract_ctes(node)
    if not _ON.get():
        return ctes
    # counted as ibis counts a relation's readers (a column read through a field is not one)
    graph = Graph.from_bfs(
        node, filter=~InstanceOf((ops.Field, ops.CountStar, ops.CountDistinctStar))
    )
    shared = {
        op
        for op, readers in graph.invert().items()
        if isinstance(op, ops.TableUnnest) and len(readers) > 1
    }
    return ctes | shared


# `sqlize` looks the name up in its module each call
rewrites.extract_ctes = _with_unnests
