"""A left join and its select built as ibis's own node, without ibis's dereferencing (issue 16:
a cold plan's compile).

`ibis_compile._compile_row` joins each looked-up table to the rows with
``t.left_join(lookup, on).select(*t.columns, _j=...)``. ibis binds the predicates and then
every selected column through three ``DerefMap``s (``prepare_predicates``) and a fourth
(``Join.select``), each of which traces every column of ``t`` back through every relation
under it: ``t`` is new at each join, so none is asked twice, and with hundreds of columns and
a chain of joins that grows with each one it was the largest part of building a plan's
expressions (stop 47, docs/speed.md).

The values given here are fields of the two tables themselves (``t[name]``, ``lookup[name]``,
and expressions of them), so their dereferenced form is known without a search: each field of
``t`` becomes the same field of ``t``'s join reference (identifier 0), each of ``lookup`` of
its reference (identifier 1), which is what ibis's maps give for such a field. The node made
is the one ibis makes (`JoinChain` of one `JoinLink`), so the SQL is the same. A value that
reads any other relation is refused by ibis's own check (`JoinChain`'s integrity check: an
``IntegrityError``), never joined wrongly: that join is then left to ibis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir_t
from ibis.common.exceptions import IntegrityError

__all__ = ["left_join_select"]


def left_join_select(
    left: ir_t.Table,
    right: ir_t.Table,
    on: Sequence[ir_t.BooleanValue],
    columns: Sequence[str],
    added: Mapping[str, ir_t.Value],
) -> ir_t.Table:
    """``left.left_join(right, on).select(*columns, **added)``, for ``on`` and ``added`` made
    of ``left``'s and ``right``'s own fields."""

    def as_ibis_joins() -> ir_t.Table:
        return left.left_join(right, list(on)).select(*columns, **added)

    left_op, right_op = left.op(), right.op()
    if isinstance(left_op, ops.JoinChain) or isinstance(right_op, ops.Reference):
        # ibis extends a chain, and joins a reference as it is: its own way then
        return as_ibis_joins()
    first = ops.JoinReference(left_op, identifier=0)
    other = ops.JoinReference(right_op, identifier=1)
    references = {left_op: first, right_op: other}

    def rebased(value: ir_t.Value) -> Any:
        def swap(node: Any, children: Mapping[str, Any] | None) -> Any:
            if isinstance(node, ops.Field) and node.rel in references:
                return ops.Field(references[node.rel], node.name)
            return node.__recreate__(children) if children else node

        # (only value nodes are walked: a field's relation, and all under it, is not)
        return value.op().replace(swap, filter=ops.Value)

    predicates = tuple(rebased(p) for p in on)
    values = {name: ops.Field(first, name) for name in columns}
    values.update({name: rebased(v) for name, v in added.items()})
    link = ops.JoinLink("left", table=other, predicates=predicates)
    try:
        return ops.JoinChain(first, rest=(link,), values=values).to_expr()
    except IntegrityError:
        # a value reads a relation under ``left`` (ibis maps such a field through the
        # projections between): left to ibis
        return as_ibis_joins()
