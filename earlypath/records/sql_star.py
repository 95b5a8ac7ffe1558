"""A projection that keeps every column of the relation it reads, written ``*`` in its SQL.

ibis writes ``SELECT *`` only where a projection is exactly its parent's columns; a projection
that keeps them all and adds one (``mutate``, a join adding a column to its left side) names
each of them again, ``"t5"."valueString__str", ...``: the record reading's row stages keep some
40-140 columns through dozens of levels, and these lists were a third of the clinical rows'
statement (205,762 of 622,352 characters with its views written in). DuckDB holds a few
hundred bytes a character of a statement while it parses it (the reading's peak memory) and
parses, binds and plans every name (docs/speed.md, FHIR round 29).

``*`` (a Select reads one relation) or ``"t5".*`` (the first relation of a join) stands for
the same columns in the same order, so the rows and their columns are the same; DuckDB's
``EXCLUDE (...)`` names those of the parent's columns a list leaves out (a join's key). Only
while `columns_as_star` is on: the reading compiles its DuckDB statements so (`ibis_compile.
_record_plan`); Spark has no ``EXCLUDE``, and its SQL, like every other SQL of the process, is
written as ibis writes it.
"""

from __future__ import annotations

from typing import Any

import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.base import SQLGlotCompiler

from earlypath.records.compile_switch import Switch

__all__ = ["columns_as_star"]

columns_as_star = Switch("earlypath_columns_as_star")
"""Compile with a parent's whole column list written as ``*`` (inside ``with``)."""

_select = SQLGlotCompiler.visit_Select
_join_chain = SQLGlotCompiler.visit_JoinChain


def _kept_first(values: Any, parent: Any) -> tuple[int, list[str]]:
    """How many of ``values`` are, first, ``parent``'s own columns in its order and by the same
    names, and which of its columns they leave out (``* EXCLUDE (...)``); (0, []) where a
    star would not be shorter."""
    fields = list(parent.fields.items())
    kept = 0
    at = 0  # the next of the parent's columns that may come
    for item in values.items():
        while at < len(fields) and fields[at] != item:
            at += 1
        if at == len(fields):
            break
        kept += 1
        at += 1
    names = {name for name, _ in list(values.items())[:kept]}
    left_out = [name for name, _ in fields if name not in names]
    if kept < 2 or len(left_out) >= kept:
        return 0, []
    return kept, left_out


def _star(left_out: list[str], table: Any = None) -> Any:
    """``*`` (``"t5".*`` with ``table``), ``EXCLUDE`` naming what is left out."""
    names = [sg.to_identifier(name, quoted=True) for name in left_out]
    star = sge.Star(except_=names) if names else sge.Star()
    return star if table is None else sge.Column(this=star, table=table)


def _visit_select(self: SQLGlotCompiler, op: Any, **kw: Any) -> Any:
    # ibis's arguments: parent, selections, predicates, qualified, sort_keys, distinct (and any
    # it adds)
    kept, left_out = _kept_first(op.selections, op.parent) if columns_as_star.is_on() else (0, [])
    # a star selection (nothing added) and QUALIFY's hidden column: as ibis writes them
    if kept == 0 or op.is_star_selection() or kw["qualified"]:
        return _select(self, op, **kw)
    predicates, sort_keys = kw["predicates"], kw["sort_keys"]
    added = dict(list(kw["selections"].items())[kept:])
    result = sg.select(_star(left_out), *self._cleanup_names(added), copy=False)
    result = result.from_(kw["parent"], copy=False)
    if predicates:
        result = result.where(*predicates, copy=False)
    if sort_keys:
        result = result.order_by(*sort_keys, copy=False)
    if kw["distinct"]:
        result = result.distinct()
    return result


def _visit_join_chain(self: SQLGlotCompiler, op: Any, **kw: Any) -> Any:
    # ibis's arguments: first, rest, values (and any it adds)
    kept, left_out = _kept_first(op.values, op.first) if columns_as_star.is_on() else (0, [])
    if kept == 0:
        return _join_chain(self, op, **kw)
    first, rest, values = kw["first"], kw["rest"], kw["values"]
    # the first relation's alias, as its columns are qualified ("t5"."id")
    table = next(iter(values.values())).args["table"].copy()
    added = dict(list(values.items())[kept:])
    result = sg.select(_star(left_out, table), *self._cleanup_names(added), copy=False)
    result = result.from_(first, copy=False)
    for link in rest:
        if isinstance(link, sge.Alias):
            link = link.this
        result = result.join(link, copy=False)
    return result


SQLGlotCompiler.visit_Select = _visit_select
SQLGlotCompiler.visit_JoinChain = _visit_join_chain
