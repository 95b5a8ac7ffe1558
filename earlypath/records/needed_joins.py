"""Which joins a row spec's condition cannot hold without (`earlypath.records.ir.Joined`), read
by both engines: the generated Python reading skips such a spec when a joined table has no row,
and the ibis compiler leaves it out of the plan when every type that fills that table is absent
from the export (`ibis_compile.left_out`): it could give no row."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from earlypath.records import ir as rir
from earlypath.records.spec_memos import by_identity
from earlypath.rules import ir

__all__ = ["empty_tables", "joins_needed", "never_found"]


def joins_needed(e: Any) -> list[rir.Joined]:
    """The `rir.Joined` that must each find a row for ``e`` to be True (a comparison with None
    is None; an And holds only when each item does; IsTrue only of True)."""
    if isinstance(e, ir.IsTrue):
        return joins_needed(e.item)
    if isinstance(e, ir.And):
        return [j for i in e.items for j in joins_needed(i)]
    if isinstance(e, rir.Joined):
        return [e]
    if isinstance(e, ir.Cmp) and e.op in ("==", "!=", "<", "<=", ">", ">="):
        return [side for side in (e.left, e.right) if isinstance(side, rir.Joined)]
    return []


def empty_tables(rows: Iterable[rir.RowSpec], absent: frozenset[str]) -> frozenset[str]:
    """The tables of ``rows`` every spec of which reads a type in ``absent`` (no line to read):
    they hold no row, whatever is compiled."""
    types: dict[str, set[str]] = {}
    for row in rows:
        types.setdefault(row.table, set()).add(row.resource)
    return frozenset(t for t, kinds in types.items() if kinds <= absent)


def _joined_tables(node: Any) -> Iterator[str]:
    """The tables every `rir.Joined` inside ``node`` (an IR node, a row spec, a tuple of them)
    reads."""
    if isinstance(node, rir.Joined):
        yield node.table
    if isinstance(node, tuple):
        for item in node:
            yield from _joined_tables(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _joined_tables(getattr(node, f.name))


def never_found(rows: Iterable[rir.RowSpec], absent: frozenset[str]) -> frozenset[str]:
    """The tables of ``rows`` that hold no row (`empty_tables`) and that some spec joins: a
    `rir.Joined` of one finds nothing, so the ibis compiler reads it as None without a join
    (stop 38: a medicine's record naming a Medication an export without Medications cannot hold
    asks for no join to the empty Medications). Stop 38 took only the tables a spec's condition
    needs a row of (that spec then left out, `ibis_compile.left_out`, so the plan's key told
    them); stop 39's one methotrexate spec per type joins the Medications inside an `Or`, needing
    no row, so every joined table counts (the plan's key holds this set itself)."""
    rows = tuple(rows)
    return empty_tables(rows, absent) & _joined_by(rows)


def _every_joined(rows: tuple[rir.RowSpec, ...]) -> frozenset[str]:
    return frozenset(table for row in rows for table in _joined_tables(row))


# the tables the specs join, by the tuple of specs (``spec.rows``, the same object each reading)
_joined_by = by_identity(_every_joined)
