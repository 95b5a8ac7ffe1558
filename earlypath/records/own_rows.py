"""A `Joined` read as the resource's own row where no (patient, id) repeats: no join.

Stop 28 ranks every Observation with an id as the versions of its (patient, id): tables of
versions (``observation_versions``, ``_tops``, ``_chosen``) that the clinical rows join back,
one group-by and join each, over every Observation of an export (the FHIR audit: 14.4x the
parse floor's CPU at 100k patients, was 7.3x; 1,003 MB peak, was 460 MB). In an export where no
two resources of the type share a (patient, id) (the usual export: each id sent once), the row
of such a table joined by a resource's own (patient, id) can only be the resource's own row:
the join is the value the table's spec gives that resource. So, once a kept count
(`earlypath.records.kept_count.unique_joined_tables`) has found no (patient, id) repeated, the
ibis compiler reads such a `Joined` as that value (`inline_own_rows`), and no version table is
joined; with one repeated, the plan is stop 28's, joins and all. The same answers: the table's
spec is evaluated on the very row the join would have found.

A `Joined` of table T, read by a row spec of resource type R, is read so when T is given by one
row spec of type R with no items and no checks, whose ``patient`` is the join's and whose
``id`` column is the join's key (`joined_keys`); its value is T's column for that resource
when T's ``when`` holds and the key is not None, else None (`OwnLine` for T's ``n``, the
line). A row spec with item rows reads the join on each item row too: there, the inlined
expression may read only what an item row shares with its resource (no key the items own), and
never for items read as resources of their own (``whole``, ``container``, ``then``).

After inlining, two folds keep the common path short, each giving the same value: ``IsTrue(a ==
a)`` is ``a`` not None, ``IsTrue(a != a)`` False, and ``IsTrue(Or(...))`` of parts each folded
to False is False (the versions' ``alone`` test, and whether tied versions disagree);
``IsTrue(And(...))`` with a part folded to False is False (the panel lengths' compare, asked only
of a repeated id: stop 31), and so is ``And(...)`` with a part folded to False (stop 33: a row
spec whose condition holds `definition._Versions.repeated()`, the panel lengths' tables, gives no
row for a (patient, id) sent once; with some pairs repeated, `_chosen` then puts the pairs'
test in the condition, and the compiler keeps only the repeated pairs' resources before their
items are unnested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from earlypath.records import ir as rec
from earlypath.rules import ir

__all__ = [
    "JoinedKey",
    "OwnLine",
    "inline_own_rows",
    "joined_keys",
    "reads_owned",
    "repeated_table",
    "safe_repeated",
]

# (resource type, patient expression, id expression) of a table a `Joined` may read as the
# resource's own row
JoinedKey = tuple[str, ir.Expr, ir.Expr]

# nodes whose inside is read in another scope (an item, a row aggregated): never inlined into
_SCOPES = rec.SCOPES


@dataclasses.dataclass(frozen=True, slots=True)
class OwnLine(ir.Expr):
    """Compile-time only: the line number (``n``) of the resource read (an item row's is its
    resource's): a table's ``n`` read as the resource's own row."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Inlined(ir.Expr):
    """Rewrite-time only: ``value`` read in the place of ``joined``, kept until the folds have
    run so that an item row can go back to the join (`_settled`)."""

    value: ir.Expr
    # not compared: the greatest and the least row of one key are one row here, so their two
    # joins inlined are equal (and fold, `_folded`)
    joined: rec.Joined = dataclasses.field(compare=False)


def joined_keys(spec: rec.EpisodeSpec) -> dict[str, JoinedKey]:
    """The tables of ``spec`` a `Joined` with a ``patient`` reads that one row spec gives, with
    no items and no checks, an ``id`` column and a patient: each with its key."""
    by_table: dict[str, list[rec.RowSpec]] = {}
    for row in spec.rows:
        by_table.setdefault(row.table, []).append(row)
    read = {j.table for row in spec.rows for j in _joins_in(row) if j.patient is not None}
    keys: dict[str, JoinedKey] = {}
    for table in sorted(read):
        specs = by_table.get(table, [])
        if len(specs) != 1:
            continue
        (row,) = specs
        columns = dict(row.columns)
        if row.items is None and not row.checks and row.patient is not None and "id" in columns:
            keys[table] = (row.resource, row.patient, columns["id"])
    return keys


def repeated_table(tables: Iterable[str]) -> str:
    """The name of the table of the (patient, id) pairs repeated of the key of ``tables``."""
    return f"{min(tables)}__repeated"


def inline_own_rows(
    row: rec.RowSpec,
    spec: rec.EpisodeSpec,
    unique: frozenset[str],
    repeated: frozenset[str] = frozenset(),
    keys: Mapping[str, JoinedKey] | None = None,
) -> rec.RowSpec:
    """``row`` with each `Joined` of a table in ``unique`` (its key, `joined_keys`, repeats
    for no two resources of the export) read as the resource's own row of that table.

    With ``repeated`` (tables whose key some resources share: `repeated_table` names the pairs,
    a table of the compiler's), such a table holds the rows of a repeated (patient, id) only,
    and a row of ``row`` reads its joins only when its own (patient, id) repeats: otherwise it
    reads them as its own row (each expression of ``row`` that joins one is ``If(repeated,
    joined, own)``). Only where no item row would go back to a join (`safe_repeated`).

    ``keys``: ``joined_keys(spec)`` if the caller has it (a caller inlining every row of
    ``spec`` computes it once: it walks every row spec's expressions)."""
    if not unique and not repeated:
        return row
    if keys is None:
        keys = joined_keys(spec)
    plain = _inlined(row, spec, keys, unique, set())
    mine = {keys[t] for t in repeated if keys[t][0] == row.resource}
    joined = {j.table for j in _joins_in(row)} & repeated
    if not mine or (not joined and row.table not in repeated):
        return plain
    by_key: dict[JoinedKey, list[str]] = {}
    for table in repeated:
        by_key.setdefault(keys[table], []).append(table)
    tests = tuple(
        ir.Not(ir.IsNull(rec.Joined(repeated_table(by_key[k]), k[2], "id", patient=k[1])))
        for k in sorted(mine, key=lambda k: min(by_key[k]))
    )
    test = tests[0] if len(tests) == 1 else ir.Or(tests)
    if row.table in repeated:  # the table itself: the rows of a repeated (patient, id) only
        return dataclasses.replace(plain, when=ir.And((test, plain.when)))
    if _own_resources(row):
        # its items are not the rows the test asks of (a panel's members: their panel's pair
        # may repeat where theirs does not), so each join of a table in ``repeated`` stays
        return plain
    own = _inlined(row, spec, keys, unique | repeated, set())
    return _chosen(plain, own, test)


def safe_repeated(spec: rec.EpisodeSpec, repeated: frozenset[str]) -> frozenset[str]:
    """The tables of ``repeated`` whose key's tables may hold only the repeated pairs' rows: not
    those of a key whose join a row spec reads back as a join (an item row, `_settled`; another
    key): such a table could not answer it (that key's plan is then stop 28's, every row
    ranked; a scan report's, whose contained findings read its joins as items)."""
    keys = joined_keys(spec)
    groups: dict[JoinedKey, set[str]] = {}
    for table in repeated:
        groups.setdefault(keys[table], set()).add(table)
    safe = [frozenset(g) for g in groups.values() if _safe(spec, keys, frozenset(g))]
    return frozenset().union(*safe)


def _safe(spec: rec.EpisodeSpec, keys: Mapping[str, JoinedKey], repeated: frozenset[str]) -> bool:
    """May the tables of one key, ``repeated``, hold only the repeated pairs' rows?"""
    back: set[str] = set()
    for row in spec.rows:
        if row.table in repeated:
            # its joins are read on the rows of a repeated pair only: of that same key
            same = all(
                keys[j.table] == keys[row.table] == (row.resource, j.patient, j.key)
                for j in _joins_in(row)
                if j.table in repeated
            )
            if not same:
                return False
            continue
        left = _inlined(row, spec, keys, repeated, back)
        if any(j.table in repeated - set(spec.pairs_only) for j in _joins_in(left)):
            # a join not read as the own row (another key, in an item); one of a table of the
            # repeated pairs only answers alike either way (a panel's members, stop 45)
            return False
    return not back & repeated


def _inlined(
    row: rec.RowSpec,
    spec: rec.EpisodeSpec,
    keys: Mapping[str, JoinedKey],
    unique: frozenset[str],
    back: set[str],
) -> rec.RowSpec:
    """``row`` with each `Joined` of a table in ``unique`` read as the resource's own row (the
    tables read back as joins by item rows added to ``back``)."""
    if not unique:
        return row
    tables = {r.table: r for r in spec.rows if r.table in keys}
    items = row.items
    if _own_resources(row):
        # an item read as a resource of its own is not in the table; a table of the repeated
        # pairs only is empty when no pair repeats, though (stop 46: a panel's members)
        return _without_empty(row, unique & frozenset(spec.pairs_only))
    owned = frozenset(items.own) if items is not None else frozenset()

    def own(j: rec.Joined) -> ir.Expr:
        key = keys.get(j.table)
        if j.table not in unique or key is None or key != (row.resource, j.patient, j.key):
            return j
        source = tables[j.table]
        column = OwnLine() if j.column == "n" else dict(source.columns).get(j.column)
        if column is None:
            return j
        present = ir.And((ir.Not(ir.IsNull(j.key)), source.when))
        return _Inlined(inline(ir.If(present, column, ir.Const(None))), j)

    def inline(e: ir.Expr) -> ir.Expr:
        if isinstance(e, _SCOPES):
            return e
        e = _mapped(e, inline)
        if isinstance(e, rec.Joined):
            return own(e)
        return _folded(e)

    inlined = _mapped(row, inline)
    return _mapped(inlined, lambda e: _settled(e, owned, back))


def _own_resources(row: rec.RowSpec) -> bool:
    """Are ``row``'s items read as resources of their own (not its resource's rows)?"""
    items = row.items
    return items is not None and bool(items.whole or items.container or items.then)


@dataclasses.dataclass(frozen=True, slots=True)
class _NoRow(ir.Expr):
    """Rewrite-time only: a join of a table with no row (None, of the join's column's type)."""


def _without_empty(row: rec.RowSpec, empty: frozenset[str]) -> rec.RowSpec:
    """``row`` with each `Joined` of a table of ``empty`` (of the repeated pairs only, with no
    pair repeated: `EpisodeSpec.pairs_only`) read as no row, where the test it is part of then
    folds away: ``IsNull`` of it is True, an ``Or`` with a part True is True, an ``And`` drops
    its parts True (`_Versions.read_of_chosen`: an id not in the chosen table is read). A join
    left in any other place keeps the row as written: the join of an empty table answers the
    same, and no None is left whose type the compiler would have to be told."""
    if not empty or not any(j.table in empty for j in _joins_in(row)):
        return row

    def fold(e: ir.Expr) -> ir.Expr:
        if isinstance(e, _SCOPES):
            return e
        e = _mapped(e, fold)
        if isinstance(e, rec.Joined) and e.table in empty:
            return _NoRow()
        if isinstance(e, ir.IsNull) and isinstance(e.item, _NoRow):
            return ir.Const(True)
        if isinstance(e, ir.Or) and ir.Const(True) in e.items:
            return ir.Const(True)
        if isinstance(e, ir.And) and ir.Const(True) in e.items:
            kept = tuple(p for p in e.items if p != ir.Const(True))
            return ir.And(kept) if len(kept) > 1 else (kept[0] if kept else ir.Const(True))
        return e

    folded = _mapped(row, fold)
    return row if any(isinstance(n, _NoRow) for n in _nodes(folded)) else folded


def _chosen(joined: rec.RowSpec, own: rec.RowSpec, test: ir.Expr) -> rec.RowSpec:
    """``joined`` where each expression that differs from ``own``'s is ``If(test, joined's,
    own's)`` (``test`` is never None: the row's own (patient, id) repeats)."""

    def pick(a: Any, b: Any) -> Any:
        if isinstance(a, ir.Expr):
            return a if a == b else ir.If(test, a, b)
        if isinstance(a, rec.Check):
            return rec.Check(pick(a.ok, b.ok), pick(a.message, b.message))
        if isinstance(a, rec.Message):
            return rec.Message(pick(a.parts, b.parts))
        if isinstance(a, tuple):
            return tuple(pick(x, y) for x, y in zip(a, b, strict=True))
        return a

    # a row whose own (patient, id) is not repeated gives none: the test is a part of the
    # condition, so the compiler may keep only the repeated pairs' resources before their
    # items are unnested (`ibis_compile._only_repeated`, stop 33)
    # (stop 39: otherwise the If only where the two conditions differ, `_picked_within`)
    if own.when == ir.Const(False):
        when: ir.Expr = ir.And((test, joined.when))
    else:
        when = _picked_within(joined.when, own.when, test)
    return dataclasses.replace(
        joined,
        when=when,
        patient=pick(joined.patient, own.patient),
        columns=pick(joined.columns, own.columns),
        checks=pick(joined.checks, own.checks),
    )


def _picked_within(joined: ir.Expr, own: ir.Expr, test: ir.Expr) -> ir.Expr:
    """``If(test, joined, own)`` for a row spec's condition, the `If` taken inside the And and Or
    the two share: ``And(a, Or(b, c))`` against ``And(a, Or(b, d))`` is ``And(a, Or(b, If(test,
    c, d)))``, the same value. A condition is the rows' filter, and DuckDB's filter tests a bare
    AND / OR part by part on the rows still undecided, where a CASE computes its branch whole,
    as a value, on every row it takes: an Observation's hCG and unit tests, regular expressions
    included, on every Observation of an export with an id sent twice (stop 39, docs/speed.md
    FHIR round 30). Only the parts that differ (the versions' tests) stay a CASE."""
    if joined == own:
        return joined
    same_shape = type(joined) is type(own) and isinstance(joined, ir.And | ir.Or)
    if same_shape and len(joined.items) == len(own.items):  # type: ignore[attr-defined]
        items = tuple(
            _picked_within(a, b, test)
            for a, b in zip(joined.items, own.items, strict=True)  # type: ignore[attr-defined]
        )
        return type(joined)(items)  # type: ignore[call-arg]
    return ir.If(test, joined, own)


def reads_owned(e: Any, owned: frozenset[str]) -> bool:
    """Does ``e`` read an element whose first key is one of ``owned`` (or could it: any path
    inside, an item's own included, counts)?"""
    return any(
        isinstance(getattr(n, "path", None), str) and n.path.split(".")[0] in owned
        for n in _nodes(e)
    )


def _settled(e: ir.Expr, owned: frozenset[str], back: set[str]) -> ir.Expr:
    """``e`` without `_Inlined`: each its value, or its join back where an item row would read
    an element the item owns (the table's row is read from the resource, not the item: its
    table added to ``back``)."""
    if isinstance(e, _Inlined):
        value = _settled(e.value, owned, back)
        if owned and reads_owned(value, owned):
            back.add(e.joined.table)
            return _mapped(e.joined, lambda x: _settled(x, owned, back))
        return value
    if isinstance(e, _SCOPES):
        return e
    return _mapped(e, lambda x: _settled(x, owned, back))


def _folded(e: ir.Expr) -> ir.Expr:
    """``e``, or the same value shorter: ``IsTrue(a == a)`` is ``a`` not None; ``IsTrue(a !=
    a)`` is False; ``IsTrue(Or(...))`` is False when each part's ``IsTrue`` folds to False;
    ``And(...)`` with a part False is False."""
    if isinstance(e, ir.And) and ir.Const(False) in e.items:
        # stop 33: an And with a part folded to False is False (whatever the others, Unknown
        # too): a row spec's condition holding `_Versions.repeated()` (the panel lengths')
        return ir.Const(False)
    if not isinstance(e, ir.IsTrue):
        return e
    inner = e.item
    if inner in (ir.Const(False), ir.Const(None)):  # a part folded already (stop 31)
        return ir.Const(False)
    if isinstance(inner, ir.Cmp) and inner.left == inner.right:
        if inner.op in ("==", "<=", ">="):
            return ir.Not(ir.IsNull(inner.left))
        return ir.Const(False)
    if isinstance(inner, ir.Or):
        parts = [_folded(ir.IsTrue(p)) for p in inner.items]
        if all(p == ir.Const(False) for p in parts):
            return ir.Const(False)
    # stop 31: an And with a part never True is never True
    if isinstance(inner, ir.And) and any(
        _folded(ir.IsTrue(p)) == ir.Const(False) for p in inner.items
    ):
        return ir.Const(False)
    return e


def _mapped(node: Any, f: Callable[[ir.Expr], ir.Expr]) -> Any:
    """``node`` with ``f`` applied to each IR node directly inside it (in tuples, pairs,
    messages and checks too); ``node`` itself when nothing changes."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        new = _mapped_value(value, f)
        if new is not value:
            changes[field.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _mapped_value(value: Any, f: Callable[[ir.Expr], ir.Expr]) -> Any:
    if isinstance(value, ir.Expr):
        return f(value)
    if isinstance(value, rec.Message | rec.Check):
        return _mapped(value, f)
    if isinstance(value, tuple):
        items = tuple(_mapped_value(v, f) for v in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    if not dataclasses.is_dataclass(node):
        return
    for field in dataclasses.fields(node):
        yield from _values(getattr(node, field.name))


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, tuple):
        for v in value:
            yield from _values(v)
    elif isinstance(value, ir.Expr | rec.Message | rec.Check):
        yield from _nodes(value)


def _joins_in(row: rec.RowSpec) -> Iterator[rec.Joined]:
    for node in _nodes(row):
        if isinstance(node, rec.Joined):
            yield node
