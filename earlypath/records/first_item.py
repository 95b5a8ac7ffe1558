"""A list's first item, or NULL for an empty or NULL list, written with the list once.

The reading takes a list's first item in two places (a concept's first coding, `FirstCode`; the
first kept item of a filtered list). ``CASE WHEN length(xs) > 0 THEN xs[1] ELSE NULL END``
writes the list twice, and a list is often a whole lambda (a contained Medication's reading), so
the statements carried it twice (docs/speed.md, FHIR round 31c). Each engine has an index that
is NULL past the end and for a NULL list:

- DuckDB: ``list_extract(xs, 1)`` (ibis's ``xs[0]``);
- Spark: ``try_element_at(xs, 1)`` (Spark 3.3 on), NULL past the end under ANSI mode too, where
  ``element_at`` (ibis's ``xs[0]`` on Spark) raises; ibis has no operation for it, so it is
  called by name (a builtin function, one per item type: equal lists give equal expressions,
  which ibis shares).

The engine is chosen while the reading is compiled for it (`ibis_compile._record_plan`);
elsewhere (no engine named) the CASE, safe on both, is written.
`tests/records/test_first_item.py` checks DuckDB's NULLs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir_t

__all__ = ["first_item", "first_items_for"]

_ENGINE: ContextVar[str | None] = ContextVar("earlypath_first_items_for", default=None)


@contextmanager
def first_items_for(engine: str | None) -> Iterator[None]:
    """Build `first_item` with ``engine``'s own bounded index (``"duckdb"``, ``"pyspark"``;
    another name or None: the CASE)."""
    token = _ENGINE.set(engine)
    try:
        yield
    finally:
        _ENGINE.reset(token)


@functools.cache
def _try_element_at(item: dt.DataType) -> Callable[..., Any]:
    def try_element_at(items: Any, index: Any) -> Any: ...  # Spark's own function

    return ibis.udf.scalar.builtin(try_element_at, signature=((dt.Array(item), dt.int64), item))


def first_item(items: ir_t.ArrayValue) -> ir_t.Value:
    """The first item of ``items``, or NULL for an empty or NULL list."""
    item = items.type().value_type
    engine = _ENGINE.get()
    if engine == "duckdb":
        return items[0]
    if engine == "pyspark":
        out: ir_t.Value = _try_element_at(item)(items, 1)
        return out
    return ibis.cases((items.length() > 0, items[0]), else_=ibis.null(item))
