"""A kept table that is a union of parts, made on DuckDB by its first part and the others
appended, each its own statement.

The reading's row tables of several row specs are ``UNION ALL`` s of them (`ibis_compile.
compile_rows`): the clinical rows, eight parts of 19k-106k characters each, were the audit's
costliest statement. One ``CREATE TABLE AS`` of the first part and one ``INSERT INTO`` each
other part gave the same rows for about a tenth less CPU (docs/speed.md, FHIR rounds 33-34):
DuckDB parses, binds and plans each part on its own, not the whole union at once. A ``UNION
ALL`` gives its parts' rows, all of them, in no order it promises: appended, the table holds
the same rows (the audit reads them by joins and aggregates and writes its rows in the order it
numbers them). Spark keeps its union (each of its steps is one checkpointed statement,
`ibis_compile._store`).
"""

from __future__ import annotations

import ibis.expr.operations as ops
import ibis.expr.types as ir_t

__all__ = ["append_sql", "union_parts"]


def union_parts(table: ir_t.Table) -> list[ir_t.Table]:
    """The parts of ``table`` when it is a ``UNION ALL`` (of any nesting: ibis balances a union
    of many as a tree), in the order its SQL writes them; else ``[table]``. A ``UNION``
    (distinct) is one part: its rows are not the sum of its parts'."""
    parts: list[ir_t.Table] = []
    pending: list[ops.Relation] = [table.op()]
    while pending:
        node = pending.pop()
        if isinstance(node, ops.Union) and not node.distinct:
            pending += [node.right, node.left]  # the left first, as the SQL writes it
        else:
            parts.append(node.to_expr())
    return parts


def append_sql(table: str, sql: str) -> str:
    """The statement that adds the rows of ``sql`` (a part of the union that made the DuckDB
    table ``table``) to it. By name: a union's parts have the same columns, and ibis writes
    them in one order (a part of another order is projected to it, `ops.Set`), but a column
    placed by its name cannot land in another's place."""
    return f'INSERT INTO "{table}" BY NAME {sql}'
