"""Three of ibis's answers remembered while a reading plan is compiled (issue 16: a cold plan).

A cold `READING` plan spends most of its CPU inside ibis (docs/speed.md, stop 46 and 47), and
three of ibis's steps redo, for every call, work whose answer depends only on immutable nodes:

- ``merge_select_select`` (the ``fuse_selects`` rewrite, once per pair of stacked selects)
  scores the merged and the unmerged select with ``complexity``, which walks the whole tree
  under each of them again: the walks of one statement grow with the square of its stages.
- ``DerefMap._fill_substitution_mappings`` (each ``select``/``mutate``/``filter``/join
  predicate of the expressions built) traces every field of the relation back through every
  relation under it, once per ``DerefMap`` made, though the same relation is bound again and
  again.
- ``Relation.fields`` (a property, not kept) makes a ``Field`` node, validated, for each column
  each time it is read: by the mappings above, by ``values`` of a ``DropColumns``, by every
  ``mutate`` and the SQL rewrites' star test, over relations of hundreds of columns.

ibis nodes are immutable and compare by value, so a node's score, and a relation's field
mapping, is the same wherever it is asked: kept in a dict for the length of one compile
(`memoised_ibis_walks`), each is computed once. The answers are ibis's own (the same
arithmetic, the same call of ibis's mapping and fields), so the plan's SQL text is the same; the dicts are
dropped when the compile ends (they hold the compile's nodes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis.expr.operations as ops
from ibis.backends.sql import rewrites as sql_rewrites
from ibis.expr.rewrites import DerefMap

__all__ = ["memoised_ibis_walks"]


def _remembered_complexity(scores: dict[Any, int]) -> Any:
    """ibis's ``complexity`` (1 for a field, the largest int for an impure call, else 1 plus
    its children's, a child counted as often as it appears), each node's score kept in
    ``scores``; walked without recursion (a plan's trees are deep)."""

    def complexity(node: Any) -> int:
        if node in scores:
            return scores[node]
        stack = [node]
        while stack:
            top = stack[-1]
            if top in scores:
                stack.pop()
                continue
            if isinstance(top, ops.Field):  # (its relation is not scored: ibis's `accum`)
                scores[top] = 1
                stack.pop()
                continue
            children = top.__children__
            waiting = [c for c in children if c not in scores]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            if isinstance(top, ops.Impure):
                scores[top] = sys.maxsize
            else:
                scores[top] = 1 + sum(scores[c] for c in children)
        return scores[node]

    return complexity


def _remembered_mappings(fill: Any, mappings: dict[tuple[Any, Any], tuple[Any, Any]]) -> Any:
    """``DerefMap._fill_substitution_mappings`` (``fill``), its two mappings kept in
    ``mappings`` by the map's relations and extra substitutions (read only, never changed)."""

    def filled(self: DerefMap) -> None:
        if self.subs is not None and self.ambigs is not None:
            return
        key = (self.rels, self.extra)
        try:
            kept = mappings.get(key)
        except TypeError:  # (extra substitutions that cannot be hashed: not kept)
            fill(self)
            return
        if kept is None:
            fill(self)
            mappings[key] = (self.subs, self.ambigs)
        else:
            self.subs, self.ambigs = kept

    return filled


def _remembered_fields(fields: Any, made: dict[Any, Any]) -> property:
    """``Relation.fields`` (``fields``, ibis's property), each relation's kept in ``made`` (a
    frozen mapping: ibis's readers copy it before they change it)."""

    def remembered(self: ops.Relation) -> Any:
        kept = made.get(self)
        if kept is None:
            kept = made[self] = fields.fget(self)
        return kept

    return property(remembered)


@contextmanager
def memoised_ibis_walks() -> Iterator[None]:
    """Within: ibis's ``complexity``, ``DerefMap``'s field mappings and ``Relation.fields``
    remembered per node;
    after, ibis's own functions back and the memos dropped. Nested use keeps the outer memos."""
    if getattr(sql_rewrites.complexity, "_remembered", False):
        yield
        return
    complexity = sql_rewrites.complexity
    fill = DerefMap._fill_substitution_mappings
    fields = ops.Relation.__dict__["fields"]
    remembered = _remembered_complexity({})
    remembered._remembered = True
    sql_rewrites.complexity = remembered
    DerefMap._fill_substitution_mappings = _remembered_mappings(fill, {})
    ops.Relation.fields = _remembered_fields(fields, {})
    try:
        yield
    finally:
        sql_rewrites.complexity = complexity
        DerefMap._fill_substitution_mappings = fill
        ops.Relation.fields = fields
