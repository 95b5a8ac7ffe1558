"""A list unnested in the select list on DuckDB, not as a lateral join.

ibis writes ``t.unnest("xs")`` for DuckDB as ``SELECT "t5".* REPLACE ("c" AS "xs") FROM (...) AS
"t5" CROSS JOIN UNNEST("t5"."xs") AS "u"("c")``: a join whose right side reads the left one.
DuckDB binds that as a dependent join, decorrelates it into a delim join and then rewrites that
back into its UNNEST operator (the ``unnest_rewriter`` pass). The reading's clinical statement
holds some 70 of them (each concept's codings, a panel's items), and planning them was about
half of that statement's CPU: ~1.5 s whatever the export's size (docs/speed.md, FHIR round 32).

``SELECT "t5".* REPLACE (UNNEST("t5"."xs") AS "xs") FROM (...) AS "t5"`` gives the same rows:
each row once an item, the row's other columns repeated, no row for an empty or NULL list (as
the CROSS JOIN), and it is planned as the UNNEST operator directly. Only one list is unnested a
select (ibis's ``unnest`` takes one column), so DuckDB's zipping of several select-list
unnests never arises. An unnest that keeps empty lists (a LEFT JOIN) or numbers its items
(``offset=``) is written as ibis writes it.

Only while `unnests_in_select` is on: the reading compiles its DuckDB statements so
(`ibis_compile._record_plan`); Spark's compiler has its own unnest (``explode``), untouched.
"""

from __future__ import annotations

from typing import Any

import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

from earlypath.records.compile_switch import Switch

__all__ = ["unnests_in_select"]

unnests_in_select = Switch("earlypath_unnests_in_select")
"""Compile DuckDB's unnests of a list as a select-list ``UNNEST`` (inside ``with``)."""

_table_unnest = DuckDBCompiler.visit_TableUnnest


def _visit_table_unnest(self: DuckDBCompiler, op: Any, **kw: Any) -> Any:
    # ibis's arguments: parent, column, column_name, offset, keep_empty (and any it adds)
    if not unnests_in_select.is_on() or kw["offset"] is not None or kw["keep_empty"]:
        return _table_unnest(self, op, **kw)
    parent, column_name = kw["parent"], kw["column_name"]
    table = sg.to_identifier(parent.alias_or_name, quoted=self.quoted)
    unnested = sge.Anonymous(this="UNNEST", expressions=[kw["column"]]).as_(
        column_name, quoted=self.quoted
    )
    if column_name in op.parent.schema:
        # the list's own column, its items in its place
        return sg.select(sge.Column(this=sge.Star(replace=[unnested]), table=table)).from_(parent)
    return sg.select(sge.Column(this=sge.Star(), table=table), unnested).from_(parent)


DuckDBCompiler.visit_TableUnnest = _visit_table_unnest
