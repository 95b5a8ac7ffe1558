"""Compile the records IR (`earlypath.records.ir`) to ibis: a whole export read at once.

The batch twin of the Python engine: the same `EpisodeSpec` runs over every patient of a FHIR
bulk export, on DuckDB or Spark. Rule-IR nodes are compiled by the rule engine's own compiler
(`earlypath.engines.ibis_compile`, extended here, not copied); this module adds the records
nodes. Three stages:

0. **Reading.** Each resource type's NDJSON files are read once (`load_resources`), keeping only
   what the definition reads (`ReadSchema`, derived from its `Field`, `Concept`, `AnyItem` and
   `FirstItem` paths; a concept's text and displays only where a set with words tests it),
   each value typed as the IR says: a JSON value of another type than the one read is NULL
   (DuckDB: ``json_transform`` to JSON leaves, typed by their first character, each file
   parsed once in one statement; Spark: a VARIANT per line then ``schema_of_variant``; so
   both agree where a plain typed schema would not: Spark reads the number 12 as the text
   "12" into a string column). ``n`` numbers the lines in file order (files in the order
   given). A line is read as the type its ``resourceType`` says, whichever file holds it: a
   file with lines of another type that is read is read again for that type; lines that
   cannot be read are counted (`OtherTypeLines`).
1. **Rows** (`compile_rows`): each `RowSpec` is a select over its resource's table: ``when`` a
   filter, the `Check`s a CASE naming the first that fails (those resources are problems, not
   rows), `Joined` a left join on the other table's ``id`` (and ``patient``, when it has one)
   (of several, the last in input order, or the one its ``order`` ranks first).
2. **Episodes** (`compile_episodes`): the encounters joined to the rows of their patient, each
   `Agg` a grouped aggregate (``where`` as its filter; aggregates that need the same steps are
   computed in one join per table), ``latest`` the greatest (order..., value) struct, `Days` a
   group by (encounter, day) with a window carrying a column's last value, the steps as columns
   in order; `RowProblem`s become rows of the problems table.

Order inside ``latest``: an order value that is None sorts below every other value (as the
Python engine's key ``(x is not None, x)``); ties are resolved by the value itself, which the IR
says cannot matter. `Days`: a row whose day is None has no day to go under and is left out.

Cost: a row spec's subexpressions used more than once are computed once, in stages (DuckDB
views; Spark checkpoints, as its optimizer would inline them again), and so are those the
aggregates of one step share; a concept's value sets are tested once (`_with_masks`: its
codings joined to the sets' codes, one bit per set); a step's rows that none of its
filters' row-only parts takes are left out before the join to the encounters (`_row_only`);
each episode step stores only its aggregates, the episodes so far being a view that joins them; the whole reading is
rendered to SQL once (kept on disk between processes, `plan_cache`) and replayed with each
call's table names (`run_records`), each work table dropped once no later statement reads it.

No code of a value set is written into the SQL: the codes are a table of the engine
(`earlypath.records.value_codes`), joined by a resource's concepts (`_with_masks`, `AtLeast`
too) and, for the concepts of list items that a lambda reads, by the row's codings first
(`_with_found`); a statement's size does not grow with the sets.

Known differences from the Python engine (none reached by the definition's steps):
- every JSON number is a float here: a `Message` shows the JSON integer 12 as "12.0" (Python:
  "12"), and a float is shown as Python's repr on DuckDB ("1e+16") but as "1.0E16" on Spark;
- `Days`: a row whose day is None is left out (it has no day to go under).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir_t

from earlypath.engines.ibis_compile import IR_TYPES, _Compiler, types_by_node
from earlypath.fhir.codes import code_set, load_codes, words_pattern
from earlypath.records import ir as rec
from earlypath.records import plan_cache
from earlypath.records.compile_gc import fewer_collections
from earlypath.records.compile_memos import memoised_ibis_walks
from earlypath.records.duckdb_tables import compiled_sql, duckdb_table
from earlypath.records.first_item import first_item, first_items_for
from earlypath.records.item_rows import items_only
from earlypath.records.needed_joins import empty_tables, joins_needed, never_found
from earlypath.records.own_rows import (
    JoinedKey,
    OwnLine,
    inline_own_rows,
    joined_keys,
    reads_owned,
    repeated_table,
    safe_repeated,
)
from earlypath.records.plain_join import left_join_select
from earlypath.records.plan_choice import input_bytes, specialises
from earlypath.records.select_unnest import unnests_in_select
from earlypath.records.spec_memos import by_identity
from earlypath.records.sql_star import columns_as_star
from earlypath.records.sql_substring import substring as _substr
from earlypath.records.time_zone import configured_time_zone
from earlypath.records.union_parts import append_sql, union_parts
from earlypath.records.value_codes import of_sets, sql_shape, value_codes_table
from earlypath.records.view_schema import new_view
from earlypath.records.women import Women
from earlypath.records.zone_day import zone_day
from earlypath.rules import ir

__all__ = [
    "CompiledRecords",
    "LoadedResources",
    "OtherTypeLines",
    "ReadSchema",
    "compile_episodes",
    "compile_records",
    "compile_rows",
    "left_out",
    "loaded_absent",
    "row_test",
    "specialised",
    "load_resources",
    "read_schema",
    "reference_pattern",
    "repeated_keys",
]

# --- stage 0: what is read of each resource --------------------------------------------------


@dataclass
class ReadSchema:
    """What the definition reads at one level of a resource (the resource, or a list item):
    leaves (path -> JSON types), CodeableConcepts (paths) and lists (path -> item schema).
    ``worded``: the concepts whose words some value set tests (`InSet` of a set with words),
    the only reading of a concept's text and its codings' displays (`_words_of`); the other
    concepts are read as their codings' system and code alone (`concept_schema`)."""

    leaves: dict[str, set[str]] = field(default_factory=dict)
    concepts: set[str] = field(default_factory=set)
    lists: dict[str, ReadSchema] = field(default_factory=dict)
    worded: set[str] = field(default_factory=set)

    def concept_schema(self, path: str) -> ReadSchema:
        """What is read of the concept at ``path``: its codings' system and code, and its text
        and codings' displays when its words are tested (the display is about a third of
        a load's concept typing, and no other reading looks at it)."""
        return _CONCEPT_SCHEMA if path in self.worded else _CODES_SCHEMA

    def columns(self) -> list[tuple[str, str, Any]]:
        """(column name, kind, detail) in a stable order: kind leaf (detail: its JSON type),
        concept, or list (detail: the item's schema)."""
        out: list[tuple[str, str, Any]] = []
        for path in sorted(self.leaves):
            out += [(leaf_name(path, t), "leaf", (path, t)) for t in sorted(self.leaves[path])]
        out += [(concept_name(p), "concept", p) for p in sorted(self.concepts)]
        out += [(list_name(p), "list", (p, self.lists[p])) for p in sorted(self.lists)]
        return out


def _key(path: str) -> str:
    return path.replace(".", "__")


def leaf_name(path: str, kind: str) -> str:
    return f"{_key(path)}__{kind}"


def concept_name(path: str) -> str:
    return f"{_key(path)}__concept"


def list_name(path: str) -> str:
    return f"{_key(path)}__list"


def _children(node: Any) -> Iterator[Any]:
    """The IR nodes (and messages, checks) directly inside a node."""
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, tuple):  # (name, expr) pairs
                yield from (x for x in item if isinstance(x, ir.Expr | rec.Message))
            elif isinstance(item, ir.Expr | rec.Message | rec.Check):
                yield item


def _collect(
    node: Any, schema: ReadSchema, outer: ReadSchema | None = None, depth: int = 0
) -> None:
    """What ``node`` reads, added to ``schema`` (its scope's: the resource's at ``depth`` 0, a
    list item's below); ``outer`` the schema of the scope around it."""
    if isinstance(node, rec.InSet) and node.words and code_set(node.value_set).words:
        _mark_worded(node.concept, schema, outer)
    if isinstance(node, rec.Outer):
        if outer is None:
            raise TypeError("Outer is read only inside AnyItem or FirstItem")
        _collect(node.item, outer, depth=depth - 1)
        return
    if isinstance(node, rec.AnyResourceItem):
        if outer is None or depth != 1:
            raise TypeError(
                "AnyResourceItem is read only inside AnyItem or FirstItem of a resource"
            )
        # a list of the resource (``outer``), read from inside an item of another of its lists
        item = outer.lists.setdefault(node.path, ReadSchema())
        _collect(node.test, item, schema, depth + 1)
        return
    if isinstance(node, rec.Field):
        if node.path == _ITSELF and outer is None:
            raise TypeError('Field("") is read only inside AnyItem or FirstItem')
        schema.leaves.setdefault(node.path, set()).add(node.type)
    elif isinstance(node, rec.Concept):
        if node.path == _ITSELF and outer is None:
            raise TypeError('Concept("") is read only inside AnyItem or FirstItem')
        schema.concepts.add(node.path)
    elif isinstance(node, rec.AnyItem | rec.ItemCount | rec.EveryItem | rec.FirstItem):
        item = schema.lists.setdefault(node.path, ReadSchema())
        _collect(node.test, item, schema, depth + 1)
        if isinstance(node, rec.FirstItem):
            _collect(node.value, item, schema, depth + 1)
        return
    if isinstance(node, rec.Agg | rec.Days | rec.Ctx | rec.Col):
        raise TypeError(f"{type(node).__name__} cannot be read from a resource")
    for child in _children(node):
        _collect(child, schema, outer, depth)


def _mark_worded(concept: ir.Expr, schema: ReadSchema, outer: ReadSchema | None) -> None:
    """The concept(s) an `InSet` of a set with words reads, marked `ReadSchema.worded`."""
    if isinstance(concept, rec.Outer):
        if outer is None:
            raise TypeError("Outer is read only inside AnyItem or FirstItem")
        _mark_worded(concept.item, outer, None)
    elif isinstance(concept, rec.Concept):
        schema.worded.add(concept.path)
    else:
        for child in _children(concept):
            _mark_worded(child, schema, outer)


def read_schema(spec: rec.EpisodeSpec) -> dict[str, ReadSchema]:
    """What each resource type is read for, from the definition's row specs (the caller's own
    copy: worked out once per spec object, `spec_memos`)."""
    return _read_schema_kept(spec)


def _read_schema_of(spec: rec.EpisodeSpec) -> dict[str, ReadSchema]:
    out: dict[str, ReadSchema] = {}
    for row in spec.rows:
        schema = out.setdefault(row.resource, ReadSchema())
        schema.leaves.setdefault("resourceType", set()).add("str")
        schema.leaves.setdefault("id", set()).add("str")
        for node in (row.when, row.patient, *(e for _, e in row.columns), *row.checks):
            if node is not None:
                _collect(node, schema)
    for schema in out.values():
        _items_read_as_concepts(schema)
    for row in spec.rows:
        if row.items is not None and row.items.whole is not None:
            _check_whole(row, row.items.whole)
    for row in spec.rows:
        if row.items is not None and row.items.container is not None:
            _lift_container(out[row.resource], row.items.container)
    for row in spec.rows:
        if row.items is not None and row.items.then is not None:
            # the items' own items (a contained panel's components) are read as the resource's
            # would be: the list is read of the resource, so its items (`_item_schema`) have it
            schema, then = out[row.resource], row.items.then
            schema.lists[then.path] = _merged(
                schema.lists.get(then.path), _item_schema(schema, then)
            )
    for row in spec.rows:
        if row.items is not None:
            schema = out[row.resource]
            schema.lists[row.items.path] = _item_schema(schema, row.items)
    return out


# (copied for each caller: `ReadSchema` is mutable, and `_merged` and the loaders build on it)
_read_schema_kept = by_identity(_read_schema_of, copied=True)


# `rec.Concept` of the list item itself (a reasonCode's concepts, read by `InSet`)
_ITSELF = ""


def _items_read_as_concepts(schema: ReadSchema) -> None:
    """A list whose item is read as a concept (`rec.Concept` ""): the item is read as a concept
    is (`ReadSchema.concept_schema`), its struct has the shape of a concept column, beside what
    else is read of the item (`_RecordsCompiler.other` reads the struct itself)."""
    for path, item in list(schema.lists.items()):
        _items_read_as_concepts(item)
        if _ITSELF in item.concepts:
            shaped = _merged(item, item.concept_schema(_ITSELF))
            shaped.concepts.discard(_ITSELF)
            shaped.worded = item.worded - {_ITSELF}
            schema.lists[path] = shaped


def _check_whole(row: rec.RowSpec, whole: str) -> None:
    """A row spec whose items are put `rec.ItemRows.whole` at a key reads that key only as a
    `rec.Concept` (another row spec of the resource may read it otherwise: a report's
    contained Observation's code, read as an element that may be missing)."""
    mine = ReadSchema()
    for node in (row.when, row.patient, *(e for _, e in row.columns), *row.checks):
        if node is not None:
            _collect(node, mine)
    other = [p for p in (*mine.leaves, *mine.lists) if p.split(".", 1)[0] == whole]
    if other or any(p.startswith(whole + ".") for p in mine.concepts):
        raise TypeError(f"ItemRows.whole {whole!r} is read only as a Concept")


def _lift_container(schema: ReadSchema, container: str) -> None:
    """What an item read with `rec.ItemRows.container` reads of its resource (``_report.status``)
    is read of the resource itself (``status``): its item rows take those columns from it. A list
    read both ways is read as one schema under both names (one struct type for the union)."""
    prefix = container + "."
    schema.leaves.setdefault(prefix + "id", set()).add("str")  # the row's ref
    for path, kinds in list(schema.leaves.items()):
        if path.startswith(prefix):
            schema.leaves.setdefault(path[len(prefix) :], set()).update(kinds)
    for path in list(schema.concepts):
        if path.startswith(prefix):
            schema.concepts.add(path[len(prefix) :])
    for path in list(schema.worded):
        if path.startswith(prefix):
            schema.worded.add(path[len(prefix) :])
    for path, item in list(schema.lists.items()):
        if path.startswith(prefix):
            own = path[len(prefix) :]
            schema.lists[own] = _merged(schema.lists.get(own), item)
            schema.lists[path] = _copied(schema.lists[own])


def _merged(a: ReadSchema | None, b: ReadSchema) -> ReadSchema:
    """A copy of ``a`` with ``b``'s reads added, the concepts whose words are read among them
    (without them, a list read from two places, a contained panel's components, had its item's
    concepts read by their codes alone while the row it stands in for kept their words: Spark
    refuses to cast one struct to the other; DuckDB cast it, the words read as None)."""
    out = _copied(a) if a is not None else ReadSchema()
    for path, kinds in b.leaves.items():
        out.leaves.setdefault(path, set()).update(kinds)
    out.concepts |= b.concepts
    out.worded |= b.worded
    for path, item in b.lists.items():
        out.lists[path] = _merged(out.lists.get(path), item)
    return out


def _item_schema(schema: ReadSchema, items: rec.ItemRows) -> ReadSchema:
    """What is read of each item of `rec.ItemRows`: the resource's reads of the keys it takes
    from the item (so an item's columns have the names and types of the resource's). With
    ``whole``, the item is that key's concept: read as a concept is (`_CONCEPT_SCHEMA`), so the
    item's struct has the shape of the resource's concept column it stands in for (with its
    text and displays only when that concept's words are read)."""
    if items.container is not None:
        # the item is read as the resource is (its own id, status, code...), but for the list
        # itself and what is read of its container; with what else reads the list's items
        def mine(path: str) -> bool:
            return path != items.path and path.split(".", 1)[0] != items.container

        read = ReadSchema(
            leaves={p: set(t) for p, t in schema.leaves.items() if mine(p)},
            concepts={p for p in schema.concepts if mine(p)},
            lists={p: _copied(item) for p, item in schema.lists.items() if mine(p)},
            worded={p for p in schema.worded if mine(p)},
        )
        existing = schema.lists.get(items.path)
        return read if existing is None else _merged(read, existing)
    if items.whole is not None:
        whole = items.whole  # read only as a Concept by its row spec (`_check_whole`)
        # a copy: the shared concept schema is never the one a resource's reads are added to
        return _copied(schema.concept_schema(whole)) if whole in schema.concepts else ReadSchema()

    def own(path: str) -> bool:
        return path.split(".", 1)[0] in items.own

    return ReadSchema(
        leaves={p: set(t) for p, t in schema.leaves.items() if own(p)},
        concepts={p for p in schema.concepts if own(p)},
        lists={p: item for p, item in schema.lists.items() if own(p)},
        worded={p for p in schema.worded if own(p)},
    )


def _copied(schema: ReadSchema) -> ReadSchema:
    return ReadSchema(
        leaves={p: set(t) for p, t in schema.leaves.items()},
        concepts=set(schema.concepts),
        lists={p: _copied(item) for p, item in schema.lists.items()},
        worded=set(schema.worded),
    )


# --- stage 0 on DuckDB: json_transform to JSON leaves, then typed ------------------------------


@dataclass
class _Tree:
    """The JSON shape json_transform is asked for: an object's keys, a list's item, or a JSON
    leaf (a key read both ways is a JSON leaf and its inside is read from that JSON)."""

    keys: dict[str, _Tree] = field(default_factory=dict)
    item: _Tree | None = None
    leaf: bool = False
    # why a leaf is read whole: as a concept (is it an object?) and as the schema's leaf kinds
    # (`_DuckSql.leaf`); `_objects_typed` types it as the struct of its keys when these ask
    # only whether it is there
    concept: bool = False
    kinds: set[str] = field(default_factory=set)

    def at(self, path: str) -> _Tree:
        node = self
        if path == _ITSELF:  # a list item read as itself (`rec.Field` ""): a JSON leaf
            return node
        for key in path.split("."):
            node = node.keys.setdefault(key, _Tree())
        return node

    def spec(self) -> Any:
        shapes = bool(self.keys) + (self.item is not None) + self.leaf
        if shapes != 1:
            return "JSON"
        if self.item is not None:
            return [self.item.spec()]
        if self.keys:
            return {k: v.spec() for k, v in self.keys.items()}
        return "JSON"


# a concept whose words are read (`ReadSchema.concept_schema`), and one read by its codes alone
_CONCEPT_SCHEMA = ReadSchema(
    leaves={"text": {"str"}},
    lists={"coding": ReadSchema(leaves={"system": {"str"}, "code": {"str"}, "display": {"str"}})},
)
_CODES_SCHEMA = ReadSchema(
    lists={"coding": ReadSchema(leaves={"system": {"str"}, "code": {"str"}})}
)


def _tree_of(schema: ReadSchema) -> _Tree:
    tree = _Tree()
    for path, kinds in schema.leaves.items():
        node = tree.at(path)
        node.leaf = True
        node.kinds |= kinds
    for path in schema.concepts:
        node = tree.at(path)
        node.leaf = True  # read as JSON too: a concept is None unless a JSON object
        node.concept = True
        _merge(node, _tree_of(schema.concept_schema(path)))
    for path, item in schema.lists.items():
        node = tree.at(path)
        node.item = _merge(node.item, _tree_of(item))
    return tree


def _flat_object_read_whole(node: _Tree) -> bool:
    """A JSON leaf that is also read by its keys, each of them a leaf (not a list, not an
    object read by keys: a concept is shaped by `_DuckSql.items`)."""
    return (
        node.leaf
        and bool(node.keys)
        and node.item is None
        and all(not c.keys and c.item is None for c in node.keys.values())
    )


def _merge(a: _Tree | None, b: _Tree) -> _Tree:
    if a is None:
        return b
    for k, v in b.keys.items():
        a.keys[k] = _merge(a.keys.get(k), v)
    a.leaf = a.leaf or b.leaf
    a.concept = a.concept or b.concept
    a.kinds |= b.kinds
    if b.item is not None:
        a.item = _merge(a.item, b.item)
    return a


def _objects_typed(tree: _Tree) -> _Tree:
    """``tree`` with each object read by its keys and whole only to ask whether it is there (a
    concept: is it an object? or a leaf of kind "any": `Observation.valueQuantity`) asked for
    as the object of its keys, not as a JSON leaf. Read by ``read_json`` typed
    (`_objects_by_key`), it is parsed once into a struct, NULL where the key is absent or JSON
    null (the reader refuses any other value that is not an object, and `_load_duckdb` then
    reads the lines as before), instead of written out as JSON text and parsed again by a
    json_transform of its own; "is it there" is then "is the struct there" (`_DuckSql`). A key
    of the resource whose struct type DuckDB could not name (two keys differing by case:
    `_shape_type`) is kept as it was: json_transform'ing it would read a value that is not an
    object as an object."""

    def typed(node: _Tree) -> _Tree:
        keys = {k: typed(v) for k, v in node.keys.items()}
        item = None if node.item is None else typed(node.item)
        whole = node.leaf and not (keys and item is None and node.kinds <= {"any"})
        return _Tree(keys=keys, item=item, leaf=whole, concept=node.concept, kinds=node.kinds)

    out = _Tree(item=tree.item, leaf=tree.leaf, concept=tree.concept, kinds=tree.kinds)
    for key, node in tree.keys.items():
        mine = typed(node)
        same = mine.spec() == node.spec() or _shape_type(mine.spec()) is not None
        out.keys[key] = mine if same else node
    return out


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# a path into the outer value ``j`` alone (not into a hoisted column): what the middle select
# of a load may compute
_ON_ROOT = re.compile(r"(?:(?:struct|json)_extract\()*j(?:, '(?:[^']|'')*'\))*")


class _DuckSql:
    """SQL reading a `ReadSchema` from a json_transform'ed value (see `_Tree`).

    A concept of the resource itself (not of a list item) is kept as a JSON leaf (it is None
    unless a JSON object) and shaped by a second json_transform; that transform is a column of
    its own (`hoisted`, computed once in a middle select), not repeated for each of its parts."""

    ROOT = "j"  # the outer value: what a hoisted column may be computed from

    def __init__(self) -> None:
        self.depth = 0
        self.hoisted: list[tuple[str, str]] = []  # (column, SQL on the outer value ``j``)

    def navigate(self, sql: str, tree: _Tree, path: str) -> tuple[str, _Tree | None]:
        """The SQL of the value at ``path`` and its tree (None once inside a JSON leaf)."""
        node: _Tree | None = tree
        may_hoist = self.depth == 0 and sql == self.ROOT
        for key in path.split(".") if path != _ITSELF else ():
            if may_hoist and node is not None and _flat_object_read_whole(node):
                # an object of the resource read both whole (is it there?) and by its keys
                # (Observation.valueQuantity, subject.identifier): shaped once, a column of its
                # own, instead of a json_extract of its JSON for each use of each key. The same
                # values: a key's JSON, or None where json_extract gives None or JSON null (not
                # an object, no such key), and every leaf reads a JSON null as None
                node = _Tree(keys=node.keys)
                sql = self.hoist(f"json_transform({sql}, {_sql_text(json.dumps(node.spec()))})")
                may_hoist = False  # a hoisted column is computed from the outer value only
            if node is None or node.spec() == "JSON":
                sql = f"json_extract({sql}, {_sql_text('$.' + json.dumps(key))})"
                node = None
                may_hoist = False
            else:
                node = node.keys[key]
                sql = f"struct_extract({sql}, {_sql_text(key)})"
        if node is not None and node.spec() == "JSON":
            node = None
        return sql, node

    def hoist(self, sql: str) -> str:
        """The column computing ``sql`` (on the outer value) once, in the middle select."""
        for column, hoisted in self.hoisted:
            if hoisted == sql:
                return column
        column = f"_shaped{len(self.hoisted)}"
        self.hoisted.append((column, sql))
        return column

    def leaf(self, json_sql: str, kind: str) -> str:
        # json_transform writes a JSON leaf as minified JSON text: its first character says its
        # type (a string '"', a number '-' or a digit, true/false), with no second parse of it
        text = f"CAST({json_sql} AS VARCHAR)"
        if self.depth == 0 and _ON_ROOT.fullmatch(json_sql):
            # a leaf of the resource itself: its text a column of the middle select, so the
            # statement names its path once, not four times (the load's SQL, bound for every
            # reading, was 76k characters for Observation; each path written out is bound
            # again, and `common_subexpressions` is off for the reading: `reading_passes`)
            text = self.hoist(text)
        head = f"left({text}, 1)"
        if kind == "str":
            # a string with no escape is its text between the quotes (no second parse); one
            # with a backslash is unescaped by the JSON reader (the same from its JSON text)
            return (
                f"CASE WHEN {head} = '\"' THEN CASE WHEN contains({text}, '\\') "
                f"THEN json_extract_string({text}, '$') "
                f"ELSE substr({text}, 2, length({text}) - 2) END END"
            )
        if kind == "num":
            # a one-character range, not an IN list: DuckDB plans an IN of many constants as a
            # join of the whole load against them
            return (
                f"CASE WHEN {head} = '-' OR {head} BETWEEN '0' AND '9' "
                f"THEN CAST({json_sql} AS DOUBLE) END"
            )
        if kind == "bool":
            return f"CASE WHEN {text} IN ('true', 'false') THEN {text} = 'true' END"
        return f"CASE WHEN {json_sql} IS NOT NULL AND CAST({json_sql} AS VARCHAR) <> 'null' THEN true END"

    def shaped(self, sql: str, node: _Tree | None, want: _Tree) -> str:
        """``sql`` in the shape ``want`` (json_transform'ed again when it is still JSON)."""
        if node is None:
            return f"json_transform({sql}, {_sql_text(json.dumps(want.spec()))})"
        return sql

    def struct(self, sql: str, tree: _Tree, schema: ReadSchema) -> list[tuple[str, str]]:
        """(name, SQL) of every column of ``schema`` read from ``sql`` (shaped as ``tree``)."""
        out = []
        for name, kind, detail in schema.columns():
            if kind == "leaf":
                path, t = detail
                at, node = self.navigate(sql, tree, path)
                if node is not None and t == "any":
                    # an object typed by the reader (`_objects_typed`): NULL unless one was read
                    out.append((name, f"CASE WHEN {at} IS NOT NULL THEN true END"))
                    continue
                out.append((name, self.leaf(at, t)))
            elif kind == "concept":
                concept = schema.concept_schema(detail)
                out.append((name, self.items(sql, tree, detail, concept, concept=True)))
            else:
                path, item = detail
                out.append((name, self.items(sql, tree, path, item)))
        return out

    def items(
        self, sql: str, tree: _Tree, path: str, schema: ReadSchema, concept: bool = False
    ) -> str:
        at, node = self.navigate(sql, tree, path)
        if concept and node is not None:
            # typed by the reader (`_objects_typed`): a struct, NULL unless an object was read
            body = self.pack(self.struct(at, node, schema))
            return f"CASE WHEN {at} IS NOT NULL THEN {body} END"
        if concept:
            # the concept's own shape (its node in the tree is a JSON leaf: is it an object?)
            want = _tree_of(schema)
            shaped = self.shaped(at, node, want)
            if self.depth == 0 and node is None:
                shaped = self.hoist(shaped)
            body = self.pack(self.struct(shaped, node or want, schema))
            # an object's minified JSON text starts with '{' (no second parse to ask its type)
            return f"CASE WHEN left(CAST({at} AS VARCHAR), 1) = '{{' THEN {body} END"
        want = _Tree(item=_tree_of(schema))
        at = self.shaped(at, node, want)
        node = node or want
        assert node.item is not None
        self.depth += 1
        var = f"x{self.depth}"
        body = self.pack(self.struct(var, node.item, schema))
        self.depth -= 1
        # the same value without the CASE, but DuckDB runs a lambda's body for every row even
        # where the list is NULL (a key most resources lack, e.g. Observation.component:
        # 0.15 -> 0.02 CPU s over 348k Observations)
        return f"CASE WHEN {at} IS NOT NULL THEN list_transform({at}, lambda {var}: {body}) END"

    @staticmethod
    def pack(columns: list[tuple[str, str]]) -> str:
        if not columns:
            columns = [("_", "true")]
        return "struct_pack(" + ", ".join(f'"{n}" := {s}' for n, s in columns) + ")"


def _duckdb_source(files: Sequence[Path]) -> str:
    if not files:
        return "(SELECT NULL::JSON AS json WHERE false)"
    paths = "[" + ", ".join(_sql_text(str(p)) for p in files) + "]"
    return f"read_json_objects({paths}, format = 'newline_delimited')"


def _transformed_lines(files: Sequence[Path], tree: _Tree) -> str:
    """Each line as ``j``, shaped as ``tree`` by one json_transform of the whole line: reads
    any line that is JSON (a line that is not an object is a row of NULLs; of a key given
    twice, the first)."""
    spec = _sql_text(json.dumps(tree.spec()))
    return f"SELECT json_transform(json, {spec}) AS j FROM {_duckdb_source(files)}"


def _objects_by_key(files: Sequence[Path], tree: _Tree, typed: bool = True) -> str | None:
    """Each line as ``j`` as `_transformed_lines` gives it, but read by ``read_json`` with the
    top-level keys as columns (no JSON text of the whole line written and parsed again: about
    a third of a load's CPU). With ``typed``, a key read as an object or a list is a column of
    its shape (`_shape_type`: a struct, a list, JSON at its leaves), parsed once by the reader;
    otherwise, and for every other key, a JSON column, each key holding an object or list
    shaped by its own json_transform. A JSON column takes any value, so no value is refused;
    DuckDB refuses the file at a line that is not an object or has a key twice, and with
    ``typed`` at a value of another shape than its column's (a string for an object, a key
    twice inside one), which `_load_duckdb` then reads untyped (or, at the first two, with
    `_transformed_lines`): json_transform would have given the same values (None for a
    value of another shape; of a key given twice, the first). None when there is no file, or
    two keys DuckDB would take for one column (its names ignore case)."""
    keys = list(tree.keys)
    if not files or len({k.lower() for k in keys}) < len(keys):
        return None
    paths = "[" + ", ".join(_sql_text(str(p)) for p in files) + "]"
    types, parts = [], []
    for key in keys:
        spec, column = tree.keys[key].spec(), '"' + key.replace('"', '""') + '"'
        shape = _shape_type(spec) if typed and spec != "JSON" else None
        if shape is None and spec != "JSON":
            column = f"json_transform({column}, {_sql_text(json.dumps(spec))})"
        types.append(f"{_sql_text(key)}: {_sql_text(shape or 'JSON')}")
        parts.append(f"{_sql_text(key)}: {column}")
    return (
        f"SELECT {{{', '.join(parts)}}} AS j FROM read_json({paths}, "
        f"format = 'newline_delimited', records = true, auto_detect = false, "
        f"columns = {{{', '.join(types)}}})"
    )


def _shape_type(spec: Any) -> str | None:
    """The DuckDB type of a json_transform shape (`_Tree.spec`): an object a struct of its keys,
    a list a list of its item, a leaf JSON; None where two keys of an object differ only by
    case (a struct's names ignore it, json_transform's do not)."""
    if spec == "JSON":
        return "JSON"
    if isinstance(spec, list):
        item = _shape_type(spec[0])
        return None if item is None else f"{item}[]"
    if len({k.lower() for k in spec}) < len(spec):
        return None
    fields = [(_duckdb_name(k), _shape_type(v)) for k, v in spec.items()]
    if any(t is None for _, t in fields):
        return None
    return "STRUCT(" + ", ".join(f"{n} {t}" for n, t in fields) + ")"


# the DuckDB type of each kind of JSON leaf as `_DuckSql.leaf` reads it ("any": True or None)
_DUCK_LEAF_TYPES = {"str": "VARCHAR", "num": "DOUBLE", "bool": "BOOLEAN", "any": "BOOLEAN"}


def duckdb_columns(schema: ReadSchema) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column `_DuckSql.struct` reads of ``schema``: a concept is
    a struct of its own columns, a list a list of its item's (a struct of none holds ``_``,
    as `_DuckSql.pack` makes it)."""
    out = []
    for name, kind, detail in schema.columns():
        if kind == "leaf":
            out.append((name, _DUCK_LEAF_TYPES[detail[1]]))
        elif kind == "concept":
            out.append((name, _duckdb_struct(schema.concept_schema(detail))))
        else:
            out.append((name, _duckdb_struct(detail[1]) + "[]"))
    return out


def _duckdb_struct(schema: ReadSchema) -> str:
    fields = duckdb_columns(schema) or [("_", "BOOLEAN")]
    return "STRUCT(" + ", ".join(f"{_duckdb_name(n)} {t}" for n, t in fields) + ")"


def _duckdb_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load_duckdb(con: Any, resource: str, files: Sequence[Path], schema: ReadSchema, name: str):
    import duckdb

    if not any(map(_has_lines, files)):
        # no line to read: the typed table made empty by its columns' types alone. Its typed
        # SELECT, bound and optimized for no row, was most of a small export's loads (a
        # scan report's 63k characters of SQL: 0.07 of 1.6 CPU s at 50 patients, stop 36)
        typed = ", ".join(f"{_duckdb_name(n)} {t}" for n, t in duckdb_columns(schema))
        con.raw_sql(f'CREATE OR REPLACE TABLE "{name}_typed" ({typed})')
        con.raw_sql(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT rowid + 1 AS n, * FROM "{name}_typed"'
        )
        return duckdb_table(con, name)
    tree = _tree_of(schema)

    def load(lines: str, shape: _Tree) -> None:
        # one statement, no table of the JSON values kept (its memory grew with the export); a
        # table keeps the files' order (DuckDB preserves insertion order): rowid numbers the
        # lines
        sql = _DuckSql()
        columns = sql.struct("j", shape, schema)
        select = ", ".join(f'{s} AS "{n}"' for n, s in columns)
        shaped = "".join(f", {s} AS {n}" for n, s in sql.hoisted)
        con.raw_sql(
            f'CREATE OR REPLACE TABLE "{name}_typed" AS SELECT {select} FROM '
            f"(SELECT j{shaped} FROM ({lines}))"
        )

    # by key with the shapes typed by the reader, the objects read whole as "is it there?"
    # too (`_objects_typed`, stop 55; a concept that is not an object refuses it), then with
    # those as JSON (stop 40), then by key untyped (a value of another shape than the
    # definition reads, e.g. a string where an object is read), then by the forgiving reading
    # (a line that is not an object, a key twice, or not JSON at all, which it refuses as the
    # audit reports)
    tried: list[str] = []
    for shape, shapes_typed in ((_objects_typed(tree), True), (tree, True), (tree, False)):
        by_key = _objects_by_key(files, shape, shapes_typed)
        if by_key is None or by_key in tried:
            continue
        tried.append(by_key)
        try:
            load(by_key, shape)
            break
        except duckdb.InvalidInputException:
            continue
    else:
        load(_transformed_lines(files, tree), tree)
    con.raw_sql(f'CREATE OR REPLACE VIEW "{name}" AS SELECT rowid + 1 AS n, * FROM "{name}_typed"')
    return duckdb_table(con, name)


# --- stage 0 on Spark: a VARIANT per line, typed by schema_of_variant --------------------------


class _SparkSql:
    """Spark SQL reading a `ReadSchema` from a VARIANT (every level is read from the variant)."""

    def __init__(self) -> None:
        self.depth = 0

    @staticmethod
    def at(sql: str, path: str) -> str:
        if path == _ITSELF:  # a list item read as itself (`rec.Field` "")
            return sql
        steps = "".join(f"[{json.dumps(k)}]" for k in path.split("."))
        return f"variant_get({sql}, {_spark_text('$' + steps)})"

    @staticmethod
    def leaf(v: str, kind: str) -> str:
        t = f"schema_of_variant({v})"
        if kind == "str":
            return f"CASE WHEN {t} = 'STRING' THEN variant_get({v}, '$', 'string') END"
        if kind == "num":
            return (
                f"CASE WHEN {t} IN ('BIGINT', 'DOUBLE', 'FLOAT') OR {t} LIKE 'DECIMAL%' "
                f"THEN variant_get({v}, '$', 'double') END"
            )
        if kind == "bool":
            return f"CASE WHEN {t} = 'BOOLEAN' THEN variant_get({v}, '$', 'boolean') END"
        return f"CASE WHEN {v} IS NOT NULL AND NOT is_variant_null({v}) THEN true END"

    def struct(self, v: str, schema: ReadSchema) -> list[tuple[str, str]]:
        out = []
        for name, kind, detail in schema.columns():
            if kind == "leaf":
                path, t = detail
                out.append((name, self.leaf(self.at(v, path), t)))
            elif kind == "concept":
                at = self.at(v, detail)
                body = self.pack(self.struct(at, schema.concept_schema(detail)))
                # "None unless a JSON object", as DuckDB's json_transform reads any other value
                out.append(
                    (name, f"CASE WHEN schema_of_variant({at}) LIKE 'OBJECT%' THEN {body} END")
                )
            else:
                path, item = detail
                self.depth += 1
                var = f"x{self.depth}"
                body = self.pack(self.struct(var, item))
                self.depth -= 1
                items = f"try_variant_get({self.at(v, path)}, '$', 'array<variant>')"
                out.append((name, f"transform({items}, {var} -> {body})"))
        return out

    @staticmethod
    def pack(columns: list[tuple[str, str]]) -> str:
        if not columns:
            columns = [("_", "true")]
        return "named_struct(" + ", ".join(f"'{n}', {s}" for n, s in columns) + ")"


def _spark_text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _load_spark(con: Any, resource: str, files: Sequence[Path], schema: ReadSchema, name: str):
    from pyspark.sql import functions as F  # noqa: N812 (Spark's usual name)

    session = con._session
    columns = _SparkSql().struct("v", schema)
    if files:
        frames = []
        for index, path in enumerate(files):
            text = session.read.text(str(path)).where(F.length(F.trim("value")) > 0)
            frames.append(text.select(F.lit(index).alias("file"), F.col("value")))
        lines = frames[0]
        for frame in frames[1:]:
            lines = lines.unionByName(frame)
        # the line's place: file, then monotonically_increasing_id (increasing within a file
        # read as one text source); numbered 1.. in that order
        lines = lines.select("file", F.monotonically_increasing_id().alias("m"), "value")
        lines.createOrReplaceTempView(f"{name}_lines")
        body = ", ".join(f"{s} AS `{n}`" for n, s in columns)
        df = session.sql(
            f"SELECT row_number() OVER (ORDER BY file, m) AS n, {body} FROM "
            f"(SELECT file, m, try_parse_json(value) AS v FROM {name}_lines)"
        )
    else:
        body = ", ".join(f"{s} AS `{n}`" for n, s in columns)
        df = session.sql(
            f"SELECT CAST(1 AS BIGINT) AS n, {body} FROM "
            "(SELECT parse_json('{}') AS v) WHERE false"
        )
    df.createOrReplaceTempView(name)
    return con.table(name)


@dataclass(frozen=True)
class OtherTypeLines:
    """Lines of one file whose ``resourceType`` is not the type the file holds (by its name or
    the export's manifest): counted by file and type, never their content."""

    file: str  # the file's name
    filed_as: str  # the type the file holds
    resource_type: str | None  # what the lines say they are (None: no resourceType string)
    lines: int
    read: bool  # read as their own type (False: that type is not read, or there is none)


class LoadedResources(dict[str, ir_t.Table]):
    """The tables `load_resources` made, by resource type, and ``absent``: the types no file
    holds a line of (an export without DiagnosticReport, or with an empty file of it). Their
    tables are empty, so the row specs of those types give nothing: `run_records` leaves them
    out of its plan (an empty part of a union still costs its plan: about 0.45 CPU s at 5,000
    patients for a scan report's contained findings, stop 22). ``input_bytes``: the size of the
    files read (None: not known), which decides whether the plan is specialised (`plan_choice`).
    """

    def __init__(
        self,
        tables: Mapping[str, ir_t.Table],
        absent: frozenset[str],
        input_bytes: int | None = None,
    ) -> None:
        super().__init__(tables)
        self.absent = absent
        self.input_bytes = input_bytes


def specialised(resources: Mapping[str, ir_t.Table]) -> bool:
    """Is the reading of ``resources`` given a plan specialised to them (`plan_choice`: not
    below `EARLYPATH_SPECIALISE_FROM_BYTES` of input files; tables made by hand are)?"""
    return not isinstance(resources, LoadedResources) or specialises(resources.input_bytes)


def _absent(resources: Mapping[str, ir_t.Table]) -> frozenset[str]:
    """The types of ``resources`` known to have no line (`LoadedResources`; none otherwise, and
    none for a small export: its general plan leaves no type out, `plan_choice`)."""
    if not isinstance(resources, LoadedResources) or not specialised(resources):
        return frozenset()
    return resources.absent


def load_resources(
    con: Any,
    files: Mapping[str, Sequence[Path]],
    spec: rec.EpisodeSpec,
    prefix: str,
    other_types: list[OtherTypeLines] | None = None,
) -> LoadedResources:
    """Each resource type the definition reads, its NDJSON files read once into a table
    ``{prefix}_{type}`` (``n`` and the typed columns of `read_schema`); ``con`` is an ibis
    DuckDB or PySpark backend. A type without files gives an empty table (and is ``absent``, as
    is one whose files are empty).

    A line is read as the type its ``resourceType`` says, whichever file holds it (an exporter
    may write mixed files, or mislabel one): a file holding lines of another type that is read
    is read again for that type too (each row spec takes only its own type's lines), so a
    Condition inside Observation.ndjson is seen. Lines of a type that is not read, or with no
    ``resourceType``, cannot be read as anything: they are left out, and counted. Every such
    line is added to ``other_types`` (by file and type), for the caller to report."""
    load = _load_spark if con.name == "pyspark" else _load_duckdb
    schemas = read_schema(spec)
    tables = {
        resource: load(con, resource, files.get(resource, ()), schema, f"{prefix}_{resource}")
        for resource, schema in schemas.items()
    }
    found: list[OtherTypeLines] = []
    with_files = [r for r in schemas if files.get(r)]
    # one query for every type (on Spark, one job: its tables are views of the files)
    every_count = (
        _rows_of(
            con, ibis.union(*(_other_types_of(tables[r], r) for r in with_files), distinct=False)
        )
        if with_files
        else []
    )
    for resource in with_files:
        paths = files[resource]
        counts = [(kind, lines) for filed, kind, lines in every_count if filed == resource]
        if len(paths) == 1:  # the table's counts are its file's
            found += _other_type_lines_of(paths[0], resource, counts, schemas)
        elif counts:  # which file holds which: each read again for its resourceType
            found += _other_type_lines(con, load, resource, paths, schemas, prefix)
    # each type that is read, with the files of other types that hold lines of it
    extra: dict[str, list[Path]] = {}
    for lines in found:
        kind = lines.resource_type
        if lines.read and kind is not None:
            path = next(p for p in files[lines.filed_as] if p.name == lines.file)
            if path not in files.get(kind, ()) and path not in extra.get(kind, []):
                extra.setdefault(kind, []).append(path)
    for resource, paths in extra.items():
        if con.name == "duckdb":
            drop_input(con, tables[resource])
        every = [*files.get(resource, ()), *paths]
        tables[resource] = load(con, resource, every, schemas[resource], f"{prefix}_{resource}")
    if other_types is not None:
        other_types += found
    absent = frozenset(
        r for r in schemas if not any(map(_has_lines, (*files.get(r, ()), *extra.get(r, ()))))
    )
    # the size that chooses the plan (`plan_choice`); Spark keeps the specialised plan: its test
    # readings are one export a module (no compile to share), and Spark analyses each statement
    # of a reading on its own: the general plan's version tables would add to them (unmeasured)
    read = [p for r in schemas for p in (*files.get(r, ()), *extra.get(r, ()))]
    size = input_bytes(read) if con.name != "pyspark" else None
    return LoadedResources(tables, absent, size)


def _has_lines(path: Path) -> bool:
    """May the file hold a line? Not when it is empty or blank (an exporter writes a file for
    every type, most of them empty: `earlypath.synth.fhir_export` does); a larger file is not
    read to know."""
    size = path.stat().st_size
    return size > 4096 or (size > 0 and bool(path.read_bytes().strip()))


_RESOURCE_TYPE = leaf_name("resourceType", "str")


def _rows_of(con: Any, table: ir_t.Table) -> list[tuple[Any, ...]]:
    """The (few) rows of ``table`` (on DuckDB by its cursor: no pandas loaded)."""
    if con.name == "duckdb":
        return con.raw_sql(compiled_sql(con, table)).fetchall()
    return [tuple(r.values()) for r in table.to_pyarrow().to_pylist()]


def _other_types_of(table: ir_t.Table, resource: str) -> ir_t.Table:
    """(filed, kind, lines): the table's lines that are not of ``resource`` by resourceType
    (kind None: a line with no resourceType string, or not an object)."""
    kind = table[_RESOURCE_TYPE]
    other = table.filter(kind.isnull() | (kind != resource))
    counts = other.group_by(kind=kind).aggregate(lines=other.count().cast("int64"))
    return counts.select(filed=ibis.literal(resource, "string"), kind="kind", lines="lines")


def _other_type_counts(con: Any, table: ir_t.Table, resource: str) -> list[tuple[Any, ...]]:
    """(resourceType, lines) of the table's lines that are not of ``resource``."""
    return [(kind, lines) for _, kind, lines in _rows_of(con, _other_types_of(table, resource))]


def _other_type_lines(
    con: Any,
    load: Callable[..., ir_t.Table],
    resource: str,
    paths: Sequence[Path],
    schemas: Mapping[str, ReadSchema],
    prefix: str,
) -> list[OtherTypeLines]:
    """The lines of another type in each of ``resource``'s files (only run when its table
    holds some: each file is read again for its resourceType alone)."""
    only_type = ReadSchema(leaves={"resourceType": {"str"}})
    out = []
    for index, path in enumerate(paths):
        name = f"{prefix}_{resource}_types{index}"
        table = load(con, resource, [path], only_type, name)
        out += _other_type_lines_of(
            path, resource, _other_type_counts(con, table, resource), schemas
        )
        if con.name == "duckdb":
            drop_input(con, table)
    return out


def _other_type_lines_of(
    path: Path, resource: str, counts: Iterable[tuple[Any, ...]], schemas: Mapping[str, Any]
) -> list[OtherTypeLines]:
    return [
        OtherTypeLines(path.name, resource, kind, int(lines), kind is not None and kind in schemas)
        for kind, lines in sorted(counts, key=str)
    ]


# --- expressions ----------------------------------------------------------------------------

# ``Field`` JSON types -> IR types
_FIELD_TYPES = {"str": "str", "num": "float", "bool": "bool", "any": "bool"}


def reference_pattern(kind: str) -> str:
    """A reference to a ``kind`` resource, its id in group 1: relative (``Patient/1``), absolute
    (``https://host/fhir/Patient/1``), either with ``/_history/n``, or ``urn:uuid:1``: the
    pattern of `json_values.ref_id`, anchored. (RE2 and Python read it alike.)"""
    return rf"^(?:(?:[^/]*/)*{kind}/|urn:uuid:)([^/]+)(?:/_history/[^/]+)?$"


def _python_type(value: Any) -> str | None:
    return _rule_type(ir.Const(value))


def _rule_type(e: ir.Expr) -> str | None:
    from earlypath.engines.ibis_compile import type_of

    return type_of(e)


class _Env:
    """What names mean while compiling one expression: the columns of the scope (a resource's
    table or a list item's struct), of the row being aggregated, of the encounter."""

    def __init__(
        self,
        scope: Callable[[str], ir_t.Value] | None = None,
        scope_types: Mapping[str, str] | None = None,
        col: Callable[[str], ir_t.Value] | None = None,
        col_types: Mapping[str, str] | None = None,
        ctx: Callable[[str], ir_t.Value] | None = None,
        ctx_types: Mapping[str, str] | None = None,
        joined: Mapping[ir.Expr, ir_t.Value] | None = None,
        table_types: Mapping[str, Mapping[str, str]] | None = None,
        aggs: Mapping[int, ir_t.Value] | None = None,
        outer: _RecordsCompiler | None = None,
        masks: Mapping[ir.Expr, tuple[str, Mapping[str, int]]] | None = None,
        least: Mapping[tuple[ir.Expr, str], str] | None = None,
        found: Mapping[str, ir_t.Value] | None = None,
        itself: ir_t.StructValue | None = None,
    ) -> None:
        self.scope, self.scope_types = scope, scope_types or {}
        # a concept's value sets tested once (`_code_masks`): concept -> (column, set -> bit)
        self.masks = masks or {}
        # `AtLeast` of a resource's concept, by the same join: (concept, set) -> column
        self.least = least or {}
        # a set tested inside list items: the row's codings listed in it (`_with_found`)
        self.found = found or {}
        self.col, self.col_types = col, col_types or {}
        self.ctx, self.ctx_types = ctx, ctx_types or {}
        self.joined = joined or {}
        self.table_types = table_types or {}
        self.aggs = aggs or {}
        self.outer = outer
        # the list item in scope itself (`rec.Concept` ""): its struct, None at a resource
        self.itself = itself

    def read(self, kind: Literal["scope", "col", "ctx"], name: str) -> ir_t.Value:
        """A name of the resource in scope, of the row aggregated, or of the encounter; a node
        read where there is no such thing is a defect of the definition."""
        source = {"scope": self.scope, "col": self.col, "ctx": self.ctx}[kind]
        if source is None:
            raise TypeError(f"{kind} {name!r} read where there is none")
        return source(name)

    def item(self, value: ir_t.StructValue, schema: ReadSchema, outer: _RecordsCompiler) -> _Env:
        types = {n: _column_type(k, d) for n, k, d in schema.columns()}
        return _Env(
            scope=lambda name: value[name],
            scope_types=types,
            col=self.col,
            col_types=self.col_types,
            ctx=self.ctx,
            ctx_types=self.ctx_types,
            table_types=self.table_types,
            outer=outer,
            found=self.found,
            itself=value,
        )


def _column_type(kind: str, detail: Any) -> str:
    if kind == "leaf":
        return _FIELD_TYPES[detail[1]]
    return kind


class _RecordsCompiler(_Compiler):
    """The rule compiler with the records nodes (see `earlypath.records.ir`)."""

    def __init__(
        self,
        env: _Env,
        schema: ReadSchema | None = None,
        shared: Mapping[ir.Expr, ir_t.Value] | None = None,
    ) -> None:
        super().__init__(self._no_fact)
        self.env = env
        self.schema = schema or ReadSchema()
        self.shared = shared or {}

    @staticmethod
    def _no_fact(name: str) -> ir_t.Value:
        raise TypeError(f"a record reading has no episode fact {name!r}")

    # -- types --
    def type_of(self, e: ir.Expr) -> str | None:
        from earlypath.engines.ibis_compile import type_of

        return type_of(e, self.records_type)

    def records_type(self, e: ir.Expr) -> str | None:  # noqa: C901
        fixed = _RECORD_TYPES.get(type(e))
        if fixed is not None:
            return fixed
        if isinstance(e, rec.Field):
            return _FIELD_TYPES[e.type]
        if isinstance(e, rec.Concept):
            return "concept"
        if isinstance(e, rec.Outer):
            if self.env.outer is None:
                raise TypeError("Outer is read only inside AnyItem or FirstItem")
            return self.env.outer.type_of(e.item)
        if isinstance(e, rec.Lookup):
            return next((_python_type(v) for _, v in e.pairs if v is not None), None)
        if isinstance(e, rec.FirstItem):
            item = self.schema.lists.get(e.path, ReadSchema())
            return _RecordsCompiler(_Env(), item).type_of(e.value)
        if isinstance(e, rec.Joined):
            return self.env.table_types.get(e.table, {}).get(e.column)
        if isinstance(e, rec.Ctx):
            return self.env.ctx_types.get(e.name)
        if isinstance(e, rec.Col):
            return self.env.col_types.get(e.name)
        if isinstance(e, rec.Agg):
            if e.op in ("any", "all"):
                return "bool"
            if e.op == "count_distinct":
                return "int"
            if e.op == "collect":
                return "list"
            inner = _RecordsCompiler(
                _Env(col_types=self.env.table_types.get(e.table, {}), ctx_types=self.env.ctx_types)
            )
            return inner.type_of(e.value)
        if isinstance(e, rec.Days):
            return "days"
        raise TypeError(f"the records compiler has no rule for IR node {type(e).__name__}")

    # -- values --
    def expr(self, e: ir.Expr, expected: str | None = None) -> ir_t.Value:
        if self.shared and not isinstance(e, _LEAVES):
            done = self.shared.get(e)
            if done is not None:
                return done
        if isinstance(e, ir.Or):
            e = _merge_in_sets(e, self.shared)
        if isinstance(e, ir.AddDays):
            # a date, as in Python: DuckDB's date + interval is a timestamp (and ibis, typing it
            # a date, drops a cast to date), so the day is taken from the timestamp. Days that
            # are a float (a JSON number) count whole, floored, as date + timedelta(days=x).
            days = self.expr(e.days, "float" if self.type_of(e.days) == "float" else "int")
            if self.type_of(e.days) == "float":
                days = days.floor()
            start = self.expr(e.date, "date").cast("timestamp")
            return (start + days.cast("int64").as_interval("D")).date()
        return super().expr(e, expected)

    def other(self, e: ir.Expr, expected: str | None) -> ir_t.Value:  # noqa: C901
        env = self.env
        if isinstance(e, rec.Field):
            return env.read("scope", leaf_name(e.path, e.type))
        if isinstance(e, rec.Concept):
            if e.path == _ITSELF:
                if env.itself is None:
                    raise TypeError('Concept("") is read only inside AnyItem or FirstItem')
                return env.itself
            return env.read("scope", concept_name(e.path))
        if isinstance(e, rec.InSet):
            return self.in_sets(e.concept, (e.value_set,), words=e.words)
        if isinstance(e, _InSets):
            return self.in_sets(e.concept, e.value_sets)
        if isinstance(e, rec.TextInSet):
            return _words_in(self.expr(e.text, "str").fill_null("").lower(), e.value_set)
        if isinstance(e, rec.LocalId):
            text = self.expr(e.reference, "str")
            return ibis.cases(
                (text.startswith("#"), _substr(text, 1).nullif("")), else_=ibis.null("string")
            )
        if isinstance(e, rec.Left):
            return _substr(self.expr(e.text, "str"), 0, e.length)
        if isinstance(e, rec.Outer):
            assert env.outer is not None
            return env.outer.expr(e.item, expected)
        if isinstance(e, rec.FirstCode):
            return first_item(self.expr(e.concept)[_CODING])[_CODE]
        if isinstance(e, rec.AtLeast):
            column = env.least.get((e.concept, e.value_set))
            if column is None:
                raise TypeError("AtLeast is read only of a resource's own concept")
            return env.read("scope", column)
        if isinstance(e, rec.Day):
            return _zone_day(self.expr(e.text, "str"))
        if isinstance(e, rec.SpanDay):
            return _span_day(self.expr(e.text, "str"), e.last)
        if isinstance(e, rec.NormText):
            text = self.expr(e.text, "str")
            stripped = text.re_replace(r"^[ \t\n\r\x0b\x0c]+|[ \t\n\r\x0b\x0c]+$", "")
            return stripped.lower() if e.fold_case else stripped
        if isinstance(e, rec.NhsNumber):
            return _nhs_number(self.expr(e.text, "str"))
        if isinstance(e, rec.OneOf):
            kind = self.type_of(e.item) or next(
                (_python_type(v) for v in e.values if v is not None), None
            )
            item = self.expr(e.item, kind)
            # as a function call (NULL stays NULL): Spark SQL cannot parse the "x IN (..) = FALSE"
            # a Not around a bare IN renders as
            return ibis.ifelse(
                item.isnull(),
                ibis.null("boolean"),
                item.isin([v for v in e.values if v is not None]),
            )
        if isinstance(e, rec.Lookup):
            kind = self.type_of(e)
            item = self.expr(e.item)
            if not e.pairs:
                return ibis.null(IR_TYPES[kind or "str"])
            # a simple CASE (`CASE item WHEN k THEN v ...`): the item is written once, not once
            # a pair (a unit's normalised text is ~100 characters, a lookup has up to 8 pairs)
            return item.cases(
                *((k, ibis.literal(v, type=IR_TYPES[kind or "str"])) for k, v in e.pairs),
                else_=ibis.null(IR_TYPES[kind or "str"]),
            )
        if isinstance(e, rec.Round2):
            return round2(self.expr(e.item, "float"))
        if isinstance(e, rec.RefId):
            return _ref_id(self.expr(e.reference, "str"), e.kind)
        if isinstance(e, rec.AnyItem):
            items, item_schema = env.read("scope", list_name(e.path)), self.schema.lists[e.path]
            test = self.item_test(item_schema, e.test)
            return (items.filter(test).length() > 0).fill_null(False)
        if isinstance(e, rec.ItemCount):
            items, item_schema = env.read("scope", list_name(e.path)), self.schema.lists[e.path]
            test = self.item_test(item_schema, e.test)
            return items.filter(test).length().fill_null(0)
        if isinstance(e, rec.EveryItem):
            items, item_schema = env.read("scope", list_name(e.path)), self.schema.lists[e.path]

            def rank(x: ir_t.Value) -> ir_t.Value:
                # False 0, None 1, True 2: the test written once, the least rank the AND
                item = _RecordsCompiler(env.item(x, item_schema, self), item_schema)
                return (item.expr(e.test, "bool").cast("int8") * 2).fill_null(1)

            least = items.map(rank).mins()  # None for no list or an empty one
            return least.cases((0, False), (2, True), else_=ibis.null("boolean"))
        if isinstance(e, rec.AnyResourceItem):
            return self.any_resource_item(e)
        if isinstance(e, rec.FirstItem):
            items, item_schema = env.read("scope", list_name(e.path)), self.schema.lists[e.path]
            keep = self.item_test(item_schema, e.test)

            def value(x: ir_t.Value) -> ir_t.Value:
                return _RecordsCompiler(env.item(x, item_schema, self), item_schema).expr(
                    e.value, expected
                )

            if e.test == ir.Not(ir.IsNull(e.value)):
                # the first item's value that is given: each value mapped once, then the nulls
                # left out (filtered on the test, then mapped, it would be written twice)
                return first_item(items.map(value).filter(lambda given: given.notnull()))
            return first_item(items.filter(keep).map(value))
        if isinstance(e, rec.Joined):
            return env.joined[e]
        if isinstance(e, OwnLine):
            return env.read("scope", "n")
        if isinstance(e, rec.Ctx):
            return env.read("ctx", e.name)
        if isinstance(e, rec.Col):
            return env.read("col", e.name)
        if isinstance(e, rec.Agg | rec.Days):
            return env.aggs[id(e)]
        raise TypeError(f"the records compiler has no rule for IR node {type(e).__name__}")

    def item_test(
        self, item_schema: ReadSchema, test: ir.Expr
    ) -> Callable[[ir_t.Value], ir_t.Value]:
        """A list item's ``test`` (`rec.AnyItem`, `rec.FirstItem`) as the function of the item
        that ibis's ``filter`` takes, False where Unknown: an item is taken only when it holds.
        Its parameter is named ``x``: ibis names the lambda's variable after it, and an inner
        `rec.AnyResourceItem` reads the item as ``x`` (it names its own ``inner``)."""

        def holds(x: ir_t.Value) -> ir_t.Value:
            item = _RecordsCompiler(self.env.item(x, item_schema, self), item_schema)
            return item.expr(test, "bool").fill_null(False)

        return holds

    def any_resource_item(self, e: rec.AnyResourceItem) -> ir_t.BooleanValue:
        """`rec.AnyResourceItem`, compiled in the scope of the enclosing list item: a lambda
        over the resource's list inside the item's lambda, as `rec.AnyItem`'s (DuckDB and
        Spark read the enclosing item's variable from inside it)."""
        resource = self.env.outer
        if resource is None or resource.env.outer is not None:
            raise TypeError(
                "AnyResourceItem is read only inside AnyItem or FirstItem of a resource"
            )
        items = resource.env.read("scope", list_name(e.path))
        item_schema = resource.schema.lists[e.path]

        # its own variable name: ibis names a lambda's variable after the function's parameter,
        # and the enclosing item's (``x``) is read inside it
        def test(inner: ir_t.Value) -> ir_t.Value:
            return (
                _RecordsCompiler(self.env.item(inner, item_schema, self), item_schema)
                .expr(e.test, "bool")
                .fill_null(False)
            )

        return (items.filter(test).length() > 0).fill_null(False)

    def in_sets(
        self, concept: ir.Expr, names: Sequence[str], words: bool = True
    ) -> ir_t.BooleanValue:
        """`CodeSet.matches` of any of the sets: a listed system|code of any coding (a
        resource's concept: its mask column, `_with_masks`; a list item's: the row's listed
        codings, `_with_found`), or one of a set's words in the concept's text or a coding's
        display (lower-cased, as the words stand alone)."""
        mask = self.env.masks.get(concept)
        if mask is not None and all(name in mask[1] for name in names):
            column, bits = mask
            wanted = sum(1 << bits[name] for name in set(names))
            test = (self.env.read("scope", column) & wanted) != 0  # never None: 0 when no coding
        elif all(name in self.env.found for name in names):
            test = _found_in(self.expr(concept), [self.env.found[name] for name in names])
        else:
            raise TypeError(f"value sets {sorted(names)} tested where no code table is joined")
        if words and any(code_set(name).words for name in names):
            test = test | _words_of(self.expr(concept), names)
        return test.fill_null(False)

    def message(self, message: rec.Message) -> ir_t.StringValue:
        """The message's text, each expression as Python's ``str`` shows it."""
        out: ir_t.StringValue = ibis.literal("")
        for part in message.parts:
            if isinstance(part, str):
                text: ir_t.Value = ibis.literal(part)
            else:
                kind = self.type_of(part)
                value = self.expr(part, kind)
                if kind == "bool":
                    text = ibis.cases((value, "True"), (~value, "False"))
                else:
                    text = value.cast("string")
                text = text.fill_null("(none)")
            out = out + text
        return out


# a concept's columns (`ReadSchema.concept_schema`: text and display only when its words are read)
_CODING, _TEXT = list_name("coding"), leaf_name("text", "str")
_SYSTEM, _CODE, _DISPLAY = (leaf_name(k, "str") for k in ("system", "code", "display"))


def _coding_key(c: ir_t.StructValue) -> ir_t.StructValue:
    """A coding's (system, code), a missing one read as "" (as `CodeSet.matches` reads it)."""
    return ibis.struct({"system": c[_SYSTEM].fill_null(""), "code": c[_CODE].fill_null("")})


def _found_in(concept: ir_t.StructValue, found: Sequence[ir_t.Value]) -> ir_t.BooleanValue:
    """Is a coding of the concept one of ``found`` (lists of (system, code) of the row's codings
    that a set lists: a coding is listed exactly when it is among them)?"""

    def listed(c: ir_t.StructValue) -> ir_t.BooleanValue:
        out: ir_t.BooleanValue = ibis.literal(False)
        for codes in found:
            out = out | codes.contains(_coding_key(c)).fill_null(False)
        return out

    return (concept[_CODING].filter(listed).length() > 0).fill_null(False)


def _words_of(concept: ir_t.StructValue, names: Sequence[str]) -> ir_t.BooleanValue:
    """Does the concept's text or a coding's display hold one of the sets' words?"""
    codings = concept[_CODING]
    displays = codings.map(lambda c: c[_DISPLAY].fill_null("")).join(" ").fill_null("")
    text = (concept[_TEXT].fill_null("") + " " + displays).lower()
    return _words_in(text, *names)


def _words_in(text: ir_t.StringValue, *names: str) -> ir_t.BooleanValue:
    """Does the (lower-case) text hold a word of a set standing on its own?"""
    words = tuple(sorted(set().union(*(code_set(name).words for name in names))))
    if not words:
        return ibis.literal(False)
    # one search of the text for all the words (`words_pattern`), not one a word (stop 46)
    return text.re_search(words_pattern(words)).fill_null(False)


def _day(text: ir_t.StringValue) -> ir_t.DateValue:
    """The first ten characters as a date when they are a real calendar date (year 1 on)."""
    head = _substr(text, 0, 10)
    ok = text.re_search(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}") & (_substr(head, 0, 4) != "0000")
    return ibis.cases((ok, head.try_cast("date")), else_=ibis.null("date"))


def _span_day(text: ir_t.StringValue, last: bool) -> ir_t.DateValue:
    """`rec.SpanDay`: a full date's day; of "YYYY-MM" its month's first day, or its last (the
    first day, 31 days on, back to the first of that month, one day back); of "YYYY" the 1st of
    January or the 31st of December."""
    known = _substr(text, 0, 4) != "0000"
    # the length asked first: a CASE's WHEN stops an AND at its first false part, so the two
    # searches run only on texts that could match (4 and 7 characters: most dates are full,
    # and each was searched twice for each of a row's dates; stop 55). The same value: each
    # pattern matches only texts of that length, and a NULL text is NULL either way
    year = (text.length() == 4) & text.re_search(r"^[0-9]{4}$") & known
    month = (text.length() == 7) & text.re_search(r"^[0-9]{4}-(0[1-9]|1[0-2])$") & known
    first = text.concat("-01").try_cast("date")
    if last:
        start = first.cast("timestamp")
        next_month = (start + ibis.literal(31).cast("int64").as_interval("D")).truncate("M")
        in_month = (next_month - ibis.literal(1).cast("int64").as_interval("D")).date()
    else:
        in_month = first
    in_year = text.concat("-12-31" if last else "-01-01").try_cast("date")
    return ibis.cases((year, in_year), (month, in_month), else_=_zone_day(text))


def _zone_day(text: ir_t.StringValue) -> ir_t.DateValue:
    """`rec.Day`: the day written (`_day`), an instant's moved into the configured time zone
    (`zone_day`; `EARLYPATH_TIME_ZONE`, read when compiling: a plan is kept per zone)."""
    return zone_day(text, _day(text), configured_time_zone())


def _nhs_number(text: ir_t.StringValue) -> ir_t.StringValue:
    """`NhsNumber` (`json_values.nhs_number`): the digits without spaces and hyphens when they
    are ten with a right modulus 11 check digit, else NULL."""
    digits = text.re_replace(r"[ -]", "")
    ten = digits.re_search(r"^[0-9]{10}$").fill_null(False)
    # the sum read from ten digits only (a CAST of a letter is an error in DuckDB)
    safe = ibis.ifelse(ten, digits, "0000000000")
    total = sum(_substr(safe, i, 1).cast("int64") * (10 - i) for i in range(9))
    check = (11 - total % 11) % 11
    right = ten & (check == _substr(safe, 9, 1).cast("int64"))
    return ibis.ifelse(right, digits, ibis.null("string"))


def _ref_id(reference: ir_t.StringValue, kind: str) -> ir_t.StringValue:
    # the usual relative reference "Kind/id" and "urn:uuid:id" (no other "/") need no regular
    # expression (what `reference_pattern` finds in them is the rest, "id"): about 7x cheaper per
    # row on DuckDB. Any other "/" goes to the pattern, as in the card's Python (`ref_id`): a
    # "urn:uuid:id/_history/2" is "id" there, and was "id/_history/2" here (stop 50).
    uuid = _substr(reference, 9)
    by_uuid = reference.startswith("urn:uuid:") & (uuid.find("/") == -1)
    prefix = f"{kind}/"
    rest = _substr(reference, len(prefix))
    plain = reference.startswith(prefix) & (rest.find("/") == -1)
    found = reference.re_extract(reference_pattern(kind), 1).nullif("")
    return ibis.cases((by_uuid, uuid.nullif("")), (plain, rest.nullif("")), else_=found)


def round2(x: ir_t.FloatingValue) -> ir_t.FloatingValue:
    """Python's round(x, 2): the exact value times 100 rounded half to even, divided by 100.

    SQL's round() rounds ties away from zero and sees the decimal, not the binary, value. The
    exact value of |x| is hi / 2**a + lo / 2**s with integer hi, lo (a double below 2**k has no
    bits under 2**(k-53)): s = 70, a = 40 below 1000, s = 43, a = 0 below 2**52 (above, x is a
    whole number). Everything then stays within 64-bit integers on every backend.
    """
    # x is written once and bound as the lambda's one value (a list of one, mapped): the rounding
    # reads it ~20 times, and x is often long (a dose frequency of each dosage: ~5k characters)
    return ibis.array([x]).map(_round2_of)[0]


def _round2_of(r2: ir_t.FloatingValue) -> ir_t.FloatingValue:
    x = r2
    ax = x.abs()
    small = _round2_exact(ax, 70, 40)
    large = _round2_exact(ax, 43, 0)
    whole = ax >= 2.0**52
    rounded = ibis.cases(
        (ax < 0.001, ibis.literal(0.0)),
        (ax < 1000, small),
        (~whole, large),
        else_=ax,
    )
    signed = ibis.cases((x < 0, -rounded), else_=rounded)
    return ibis.cases((x.isnull(), ibis.null("float64")), else_=signed)


def _round2_exact(ax: ir_t.FloatingValue, s: int, a: int) -> ir_t.FloatingValue:
    scaled = ax * float(2**a)
    hi = scaled.floor().cast("int64")
    lo = ((scaled - hi.cast("float64")) * float(2 ** (s - a))).cast("int64")
    low_bits = 2 ** (s - a)
    b = lo * 100
    c = hi * 100 + b // low_bits  # the exact value * 100 / 2**(s-a), floored
    r1 = b % low_bits
    if a > 0:
        hundredths = c // (2**a)
        upper = c % (2**a)  # the remainder's upper part: compared with half of 2**a
        half = 2 ** (a - 1)
        above = (upper > half) | ((upper == half) & (r1 > 0))
        tie = (upper == half) & (r1 == 0)
    else:
        hundredths = c
        half = 2 ** (s - 1)
        above = r1 > half
        tie = r1 == half
    up = above | (tie & (hundredths % 2 == 1))
    k = hundredths + ibis.cases((up, 1), else_=0)
    return k.cast("float64") / 100.0


# --- stage 1: rows -------------------------------------------------------------------------------


@dataclass
class CompiledRecords:
    """The rows of every table, the problems (patient, encounter, ref, message) and, when
    encounters were given, the episodes (one row per encounter, a column per step)."""

    rows: Mapping[str, ir_t.Table]
    problems: ir_t.Table
    episodes: ir_t.Table | None = None
    types: dict[str, dict[str, str]] = field(default_factory=dict)


# the problems table: ``stage`` 0 for the row checks, i + 1 for the i-th `RowProblem`; ``n`` a
# row's position (a day record's day) orders them within a stage
_PROBLEM_SCHEMA = {
    "patient": "string",
    "encounter": "int64",
    "ref": "string",
    "message": "string",
    "stage": "int64",
    "n": "int64",
}


@dataclass(frozen=True, slots=True)
class _InSets(ir.Expr):
    """Compile-time only: ``Or`` of `rec.InSet` s of one concept, as one test of the union of
    their value sets (a coding listed in any, or a word of any): one pass over the codings
    instead of one per set. The same value: each InSet is never None, so Kleene OR is plain."""

    concept: ir.Expr
    value_sets: tuple[str, ...]


# the records IR's nodes whose type is the same whatever their children, looked up as the
# rule IR's are (`types_by_node`)
_RECORD_TYPES = types_by_node(
    {
        "bool": (
            rec.InSet,
            _InSets,
            rec.TextInSet,
            rec.OneOf,
            rec.AnyItem,
            rec.EveryItem,
            rec.AnyResourceItem,
        ),
        "str": (rec.FirstCode, rec.NormText, rec.RefId, rec.LocalId, rec.Left, rec.NhsNumber),
        "int": (rec.AtLeast, OwnLine, rec.ItemCount),
        "date": (rec.Day, rec.SpanDay),
        "float": (rec.Round2,),
    }
)


def _merge_in_sets(e: ir.Or, shared: Mapping[ir.Expr, Any]) -> ir.Or:
    """``e`` with its InSets of one concept (not computed already: ``shared``) as one
    `_InSets`, kept in the place of the first; the other items as they are, in order."""
    by_concept: dict[ir.Expr, list[str]] = {}
    for item in e.items:
        if isinstance(item, rec.InSet) and item.words and item not in shared:
            by_concept.setdefault(item.concept, []).append(item.value_set)
    merged = {c: sets for c, sets in by_concept.items() if len(sets) > 1}
    if not merged:
        return e
    items: list[ir.Expr] = []
    placed: set[ir.Expr] = set()
    for item in e.items:
        if (
            isinstance(item, rec.InSet)
            and item.words
            and item.concept in merged
            and item not in shared
        ):
            if item.concept not in placed:
                items.append(_InSets(item.concept, tuple(merged[item.concept])))
                placed.add(item.concept)
            continue
        items.append(item)
    return ir.Or(tuple(items))


def _no_problems(con: Any = None, name: str = "") -> ir_t.Table:
    """An empty problems table: on ``con``, a view ``name`` (an ibis memtable loads pandas,
    ~0.7 s of a reading), or a memtable when there is no backend yet."""
    if con is None:
        return ibis.memtable({k: [] for k in _PROBLEM_SCHEMA}, schema=_PROBLEM_SCHEMA)
    types = {"string": "STRING", "int64": "BIGINT"}
    cells = ", ".join(f"CAST(NULL AS {types[t]}) AS {k}" for k, t in _PROBLEM_SCHEMA.items())
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cells} WHERE 1 = 0")
    return con.table(name)


class _TablesByName(Mapping[str, ir_t.Table]):
    """Stored tables by key, each looked up (a schema query) only when read."""

    def __init__(self, con: Any, names: Mapping[str, str]) -> None:
        self.con, self.names = con, dict(names)
        self.found: dict[str, ir_t.Table] = {}

    def __getitem__(self, key: str) -> ir_t.Table:
        if key not in self.found:
            self.found[key] = self.con.table(self.names[key])
        return self.found[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _walk(node: Any, stop: tuple[type, ...] = ()) -> Iterator[Any]:
    yield node
    if isinstance(node, stop):
        return
    for child in _children(node):
        yield from _walk(child, stop)


def _joins(row: rec.RowSpec) -> list[rec.Joined]:
    nodes = [row.when, *(e for _, e in row.columns), *row.checks]
    if row.patient is not None:
        nodes.append(row.patient)
    found = [j for n in nodes for j in _walk(n) if isinstance(j, rec.Joined)]
    return list(dict.fromkeys(found))


Keep = Callable[[ir_t.Table, str], ir_t.Table]
# a kept table whose name starts so is a view, not stored (`_store`)
_VIEW = "view_"


def _as_is(table: ir_t.Table, name: str) -> ir_t.Table:
    return table


def materializer(con: Any, prefix: str) -> Keep:
    """Store an intermediate table once (a DuckDB temp table, a cached Spark view) so that the
    steps read it instead of recomputing its whole plan each time they refer to it."""
    names = itertools.count()

    def keep(table: ir_t.Table, name: str) -> ir_t.Table:
        full = f"{prefix}_{name}_{next(names)}"
        _store(con, full, compiled_sql(con, table))
        return duckdb_table(con, full)

    return keep


def compile_rows(
    spec: rec.EpisodeSpec,
    resources: Mapping[str, ir_t.Table],
    keep: Keep = _as_is,
    absent: frozenset[str] = frozenset(),
    unique: frozenset[str] = frozenset(),
    repeated: frozenset[str] = frozenset(),
    women: Women = Women(),
    part_of: dict[Any, int] | None = None,
) -> tuple[dict[str, ir_t.Table], list[ir_t.Table], dict[str, dict[str, str]]]:
    """Each table of the row specs (``ref``, ``n``, ``patient``, its columns; several specs
    giving one table are its union), the problems their checks report, and every table's
    column types (a column's type is the first its specs tell, of every spec). The specs of
    the types in ``absent`` (no line to read) are left out of a table's union, unless no other
    spec gives that table (it is then made, empty, by the first). A `Joined` of a table in
    ``unique`` (no (patient, id) of its key repeated in this export: `kept_count.
    unique_joined_tables`) is read as the resource's own row of it, without a join
    (`own_rows`); a table in ``repeated`` (some pairs repeat) holds the rows of those pairs
    only, and is joined only by them, the other rows reading their own row. With ``women``
    (the export's merges and identifier ties), a `Joined` with a patient compares the woman,
    not the patient as written, and the repeated pairs are counted per woman (`Women`). With
    ``part_of``, each spec's compiled rows (their ibis node, the part of its table's union) are
    noted there with the spec's position in ``spec.rows`` (`_Plan.part_rows`)."""
    schemas = read_schema(spec)
    tables: dict[str, ir_t.Table] = {}
    value_codes = _value_codes(resources)
    problems: list[ir_t.Table] = []
    types: dict[str, dict[str, str]] = {}
    repeated = safe_repeated(spec, repeated)
    keys = joined_keys(spec)
    for key in dict.fromkeys(keys[t] for t in sorted(repeated)):
        name = repeated_table(t for t in repeated if keys[t] == key)
        pairs = repeated_keys(spec, resources, key, women)
        pairs = pairs.select(id=pairs["_k"], patient=pairs["_p"], n=ibis.literal(0, type="int64"))
        tables[name] = keep(pairs, name)
        types[name] = {"id": "str", "patient": "str", "n": "int"}
    pending = [inline_own_rows(r, spec, unique, repeated, keys) for r in spec.rows]
    # which specs are compiled is asked of the specs as written, as `left_out` asks it
    written = {id(p): r for p, r in zip(pending, spec.rows, strict=True)}
    empty = empty_tables(spec.rows, absent)
    nulled = never_found(spec.rows, absent)
    # the resources of the repeated pairs, kept once a pairs' table for every row spec that
    # reads only them (`_of_pairs`)
    pair_rows: dict[tuple[str, rec.Joined], ir_t.Table] = {}
    while pending:
        ready = {r.table for r in pending} - {
            r.table for r in pending if any(j.table not in tables for j in _joins(r))
        }
        if not ready:
            raise ValueError("row specs join each other in a circle")
        for name in sorted(ready):
            specs = [r for r in pending if r.table == name]
            pending = [r for r in pending if r.table != name]
            kinds: dict[str, str] = {"ref": "str", "n": "int", "patient": "str"}
            for r in specs:
                c = _RecordsCompiler(_Env(table_types=types), schemas[r.resource])
                for column, e in r.columns:
                    if kinds.get(column) is None:
                        kinds[column] = c.type_of(e)  # type: ignore[assignment]
            types[name] = {k: v or "str" for k, v in kinds.items()}
            read = [specs[i] for i in _kept([written[id(r)] for r in specs], absent, empty)]
            parts = [
                _compile_row(
                    r,
                    resources[r.resource],
                    schemas[r.resource],
                    tables,
                    types,
                    keep,
                    value_codes,
                    women,
                    pair_rows,
                    nulled,
                )
                for r in read
            ]
            if part_of is not None:
                positions = {id(r): i for i, r in enumerate(spec.rows)}
                for r, p in zip(read, parts, strict=True):
                    # (its rows, and the problems its checks find in them)
                    for made in (t for t in p if t is not None):
                        part_of[made.op()] = positions[id(written[id(r)])]
            table = ibis.union(*(p[0] for p in parts)) if len(parts) > 1 else parts[0][0]
            tables[name] = keep(table, name)
            problems += [p[1] for p in parts if p[1] is not None]
    return tables, problems, types


def row_test(table: ir_t.Table, column_types: Mapping[str, str], test: ir.Expr) -> ir_t.Value:
    """``test``, an IR expression of `rec.Col`s, over each row of ``table`` (a table of
    `compile_rows`, whose column types are ``column_types``): a filter written once as IR."""
    env = _Env(col=lambda name: table[name], col_types=column_types)
    return _RecordsCompiler(env).expr(test, "bool")


def repeated_keys(
    spec: rec.EpisodeSpec,
    resources: Mapping[str, ir_t.Table],
    key: JoinedKey,
    women: Women = Women(),
) -> ir_t.Table:
    """The (patient, id) pairs of ``key`` (`own_rows.joined_keys`: a resource type, its
    patient and id as ``spec`` reads them) that two resources of that type or more share: the
    pairs a `Joined` of its tables must rank. An id of None is left out (it joins nothing); a
    patient of None is "", as the join compares it. With ``women``, the patient is the woman
    (`Women.of`): a pair that repeats only across her merged records, or between her literal
    reference and her identifier, is repeated; two women's identifier-only resources are not."""
    resource, patient, key_id = key
    schema = read_schema(spec)[resource]
    source = resources[resource]
    rows = source.filter(source[leaf_name("resourceType", "str")] == resource)
    types = {n: _column_type(k, d) for n, k, d in schema.columns()}
    compiler = _RecordsCompiler(_Env(rows.__getitem__, types), schema)
    if women.none:
        keyed = rows.select(
            _p=compiler.expr(patient, "str").fill_null(""), _k=compiler.expr(key_id, "str")
        )
    else:
        keyed = rows.select(
            _p=compiler.expr(patient, "str"),
            _k=compiler.expr(key_id, "str"),
            _r=_ref_of(rows, resource, None),
            _n=rows["n"],
        )
        keyed = women.of(keyed, "_p", "_r", "_n")
        keyed = keyed.select(_p=keyed["_p"].fill_null(""), _k=keyed["_k"])
    keyed = keyed.filter(keyed["_k"].notnull())
    pairs = keyed.group_by(["_p", "_k"]).aggregate(_c=keyed.count())
    return pairs.filter(pairs["_c"] > 1)


def loaded_absent(resources: Mapping[str, ir_t.Table]) -> frozenset[str]:
    """The types of ``resources`` with no line to read (`LoadedResources`), for `compile_rows`."""
    return _absent(resources)


def _kept(
    specs: Sequence[rec.RowSpec], absent: frozenset[str], empty: frozenset[str] = frozenset()
) -> list[int]:
    """Of one table's row specs (in order), the positions compiled: those of a type with lines
    or `compiled_when_absent`, and whose condition needs no row of a table in ``empty``
    (`needed_joins`: a methotrexate request's exported Medication, in an export without
    Medications), or, when none is, the first (it makes the table, empty)."""
    return [
        i
        for i, r in enumerate(specs)
        if (r.resource not in absent or r.compiled_when_absent)
        and not any(j.table in empty for j in joins_needed(r.when))
    ] or [0]


def left_out(spec: rec.EpisodeSpec, absent: frozenset[str]) -> tuple[int, ...]:
    """The positions in ``spec.rows`` of the row specs `compile_rows` leaves out when the types
    ``absent`` have no line: all that a plan depends on of ``absent``. A type whose specs are
    each the only one of its table (AllergyIntolerance in the audit's reading) is compiled
    whether it has lines or not, so its absence must not ask for a plan of its own (generated
    exports draw a new set of absent types almost every time: a compile of seconds each)."""
    by_table: dict[str, list[int]] = {}
    for i, row in enumerate(spec.rows):
        by_table.setdefault(row.table, []).append(i)
    empty = empty_tables(spec.rows, absent)
    out: list[int] = []
    for positions in by_table.values():
        kept = _kept([spec.rows[i] for i in positions], absent, empty)
        out += [i for k, i in enumerate(positions) if k not in kept]
    return tuple(sorted(out))


def _value_codes(resources: Mapping[str, ir_t.Table]) -> Callable[[], ir_t.Table]:
    """The value sets' code table on the backend of ``resources`` (`value_codes_table`),
    registered when first asked for."""

    @functools.cache
    def table() -> ir_t.Table:
        backend = next(iter(resources.values()))._find_backend()
        return value_codes_table(backend)

    return table


# nodes not worth a column of their own, and nodes whose inside is read in another scope
_LEAVES = (rec.Field, rec.Concept, ir.Const, ir.Fact, rec.Col, rec.Ctx, OwnLine)
_SCOPES = rec.SCOPES


def _shared_stages(roots: Iterable[Any]) -> list[list[ir.Expr]]:
    """The subexpressions a row spec uses more than once, by stage: each reads only shared
    nodes of earlier stages. The definition builds its expressions from shared parts (where a
    finding is placed, what a value says); written out as one SQL expression each would be
    repeated hundreds of times (a megabyte of SQL for the clinical rows)."""
    count: dict[ir.Expr, int] = {}
    order: list[ir.Expr] = []

    def visit(node: Any) -> None:
        if isinstance(node, ir.Expr) and not isinstance(node, _LEAVES):
            if node in count:
                count[node] += 1
                return
            count[node] = 1
            order.append(node)
            if isinstance(node, _SCOPES):
                return
        for child in _children(node):
            visit(child)

    for root in roots:
        visit(root)
    shared = {n for n in order if count[n] > 1}
    level: dict[ir.Expr, int] = {}

    def level_of(node: Any) -> int:
        """1 + the deepest shared node inside (0 when none)."""
        if isinstance(node, ir.Expr) and node in level:
            return level[node]
        inner = 0
        if not isinstance(node, _SCOPES):
            for child in _children(node):
                below = level_of(child)
                if isinstance(child, ir.Expr) and child in shared:
                    below += 1
                inner = max(inner, below)
        if isinstance(node, ir.Expr) and not isinstance(node, _LEAVES):
            level[node] = inner
        return inner

    stages: dict[int, list[ir.Expr]] = {}
    for node in order:
        if node in shared:
            stages.setdefault(level_of(node), []).append(node)
    return [stages[k] for k in sorted(stages)]


# a mask column holds one bit per value set of its concept: at most 62 sets a column (int64)
_MASK_BITS = 62


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(x: int) -> int:  # type: ignore[empty-body]
    """SQL's bit_or (DuckDB and Spark alike): ibis's own BitOr has no Spark rule."""


@ibis.udf.agg.builtin(name="min_by")
def _min_by(value: int, key: int) -> int:  # type: ignore[empty-body]
    """SQL's min_by (Spark's; DuckDB's name for arg_min): ``value`` of the row with the least
    ``key``. Its state is two integers, which DuckDB writes out under a memory cap; ibis's own
    ArgMin is an ordered first() on DuckDB, which keeps every row of its group."""


def _row_roots(row: rec.RowSpec) -> list[Any]:
    return [e for e in (row.when, row.patient, *(e for _, e in row.columns), *row.checks) if e]


def _code_masks(row: rec.RowSpec) -> dict[ir.Expr, dict[str, int]]:
    """The value sets each concept of the resource itself is tested against (`InSet` and
    `AtLeast`, outside list items), each given a bit: concept -> set -> bit (`_with_masks`)."""
    sets: dict[ir.Expr, list[str]] = {}
    for root in _row_roots(row):
        for node in _walk(root, (rec.AnyItem, rec.ItemCount, rec.EveryItem, rec.FirstItem)):
            if isinstance(node, rec.InSet | rec.AtLeast):
                names = sets.setdefault(node.concept, [])
                if node.value_set not in names:
                    names.append(node.value_set)
    if any(len(names) > _MASK_BITS for names in sets.values()):
        raise ValueError(f"a concept of {row.resource} is tested against over {_MASK_BITS} sets")
    return {c: {n: i for i, n in enumerate(names)} for c, names in sets.items()}


def _at_least_pairs(row: rec.RowSpec) -> list[tuple[ir.Expr, str]]:
    """(concept, set) of each `AtLeast` of the resource's own concepts, in a stable order."""
    pairs = [
        (node.concept, node.value_set)
        for root in _row_roots(row)
        for node in _walk(root, (rec.AnyItem, rec.ItemCount, rec.EveryItem, rec.FirstItem))
        if isinstance(node, rec.AtLeast)
    ]
    return list(dict.fromkeys(pairs))


def _code_table(
    value_codes: ir_t.Table,
    masks: Sequence[tuple[ir.Expr, Mapping[str, int]]],
    least: Sequence[tuple[ir.Expr, str]],
) -> ir_t.Table:
    """(k, system, code, bits, _cl0...): each listed code of the k-th concept's sets with the
    bits of the sets that list it, and for the j-th `AtLeast` of that concept the code's
    "at least n" (1 when the set gives none). Read from the engine's table of every value set's
    codes (`value_codes_table`): the SQL names the sets and bits, never a code."""
    parts = []
    for k, (concept, sets) in enumerate(masks):
        mine = of_sets(value_codes, sets)
        bit = ibis.cases(
            *(
                (mine["value_set"] == name, ibis.literal(1 << b, "int64"))
                for name, b in sets.items()
            ),
            else_=ibis.literal(0, "int64"),
        )
        counts = {
            f"_cl{j}": ibis.cases(
                (mine["value_set"] == name, mine["at_least"].fill_null(1)),
                else_=ibis.null("int64"),
            )
            if c == concept
            else ibis.null("int64")
            for j, (c, name) in enumerate(least)
        }
        parts.append(
            mine.select(
                _ck=ibis.literal(k, "int64"),
                _cs=mine["system"],
                _cc=mine["code"],
                _bit=bit,
                **counts,
            )
        )
    every = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    return every.group_by("_ck", "_cs", "_cc").aggregate(
        _cb=_bit_or(every["_bit"]), **{f"_cl{j}": every[f"_cl{j}"].max() for j in range(len(least))}
    )


def _with_masks(
    t: ir_t.Table,
    masks: Sequence[tuple[ir.Expr, Mapping[str, int]]],
    least: Sequence[tuple[ir.Expr, str]],
    compiler: _RecordsCompiler,
    codes: ir_t.Table,
    source: ir_t.Table | None = None,
) -> ir_t.Table:
    """``t`` with a column ``_mask{k}`` per concept: the bits of the value sets any of its
    codings is listed in (0 when none); and ``_least{j}`` per `AtLeast`: the count of the
    first coding its set lists (None when none). Each coding is looked up once, by a join of
    the unnested codings to ``codes`` (`_code_table`), instead of once per set by a list test
    (the ~28 sets of an Observation's code and value: about 5x less CPU on DuckDB). A coding's
    missing system or code is read as "", as `CodeSet.matches` reads it. With ``source`` (the
    same rows, before columns were added to them; ``compiler`` reads it), the codings are
    unnested from ``source``."""
    parts = []
    keys = _row_keys(t)
    rows = t if source is None else source
    counted = {c for c, _ in least}
    for k, (concept, _) in enumerate(masks):
        codings = compiler.expr(concept)[_CODING]
        # only the rows with codings are unnested (the same rows out): DuckDB's unnest costs
        # per input row even where the list is NULL or empty (most Observations have no
        # valueCodeableConcept)
        coded = rows.filter(codings.length() > 0)
        if concept in counted:
            # `AtLeast` reads the first listed coding: each coding carries its place into the
            # unnest. Not ibis's unnest(offset=): on DuckDB it unnests a list_zip(...), which
            # DuckDB plans as a lateral join, its hash tables holding every row's codings
            # (under the flattening's memory cap they did not fit: docs/speed.md, round 8)
            codings = codings.map(
                lambda c, i: ibis.struct({_SYSTEM: c[_SYSTEM], _CODE: c[_CODE], "o": i})
            )
        u = coded.select(
            *(coded[c].name(f"_mkey{i}") for i, c in enumerate(keys)),
            _mk=ibis.literal(k, type="int64"),
            _mc=codings,
        ).unnest("_mc")
        place = u["_mc"]["o"] if concept in counted else ibis.null("int64")
        parts.append(
            u.select(
                *(u[f"_mkey{i}"] for i in range(len(keys))),
                _mk=u["_mk"],
                _mo=place.cast("int64"),
                _ms=u["_mc"][_SYSTEM].fill_null(""),
                _mcode=u["_mc"][_CODE].fill_null(""),
            )
        )
    codings = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    found = codings.join(
        codes,
        [
            codings["_mk"] == codes["_ck"],
            codings["_ms"] == codes["_cs"],
            codings["_mcode"] == codes["_cc"],
        ],
    )
    concept_k = {c: k for k, (c, _) in enumerate(masks)}
    firsts = {
        # the count of the first coding (by its place in the list) the set lists
        f"_ml{j}": _min_by(
            found[f"_cl{j}"],
            found["_mo"],
            where=(found["_mk"] == concept_k[c]) & found[f"_cl{j}"].notnull(),
        )
        for j, (c, _) in enumerate(least)
    }
    bits = found.group_by(
        *(found[f"_mkey{i}"].name(f"_mrow{i}") for i in range(len(keys)))
    ).aggregate(
        **{f"_mb{k}": _bit_or(found["_cb"], where=found["_mk"] == k) for k in range(len(masks))},
        **firsts,
    )
    return left_join_select(
        t,
        bits,
        [t[c] == bits[f"_mrow{i}"] for i, c in enumerate(keys)],
        t.columns,
        {
            **{f"_mask{k}": bits[f"_mb{k}"].fill_null(0) for k in range(len(masks))},
            **{f"_least{j}": bits[f"_ml{j}"] for j in range(len(least))},
        },
    )


def _item_concepts(row: rec.RowSpec) -> tuple[list[tuple[tuple[str, ...], str]], list[str]]:
    """The concepts tested by `InSet` inside list items, each as (the lists it is inside, from
    the resource down; its path in the innermost item), and the sets they are tested against."""
    places: list[tuple[tuple[str, ...], str]] = []
    names: list[str] = []

    def visit(node: Any, scope: tuple[str, ...]) -> None:
        if isinstance(node, rec.AnyItem | rec.ItemCount | rec.EveryItem | rec.FirstItem):
            for child in (node.test, getattr(node, "value", None)):
                if child is not None:
                    visit(child, (*scope, node.path))
            return
        if isinstance(node, rec.Outer):
            visit(node.item, scope[:-1])
            return
        if isinstance(node, rec.AnyResourceItem):
            # its items are not an item's: no place here names them (`rec.AnyResourceItem`)
            if any(isinstance(n, rec.InSet | rec.AtLeast) for n in _walk(node.test)):
                raise TypeError("a value set is not read inside AnyResourceItem")
            return
        if isinstance(node, rec.InSet | rec.AtLeast) and scope:
            if not isinstance(node, rec.InSet) or not isinstance(node.concept, rec.Concept):
                raise TypeError("a list item's value set is read only by InSet of a Concept")
            places.append((scope, node.concept.path))
            names.append(node.value_set)
        for child in _children(node):
            visit(child, scope)

    for root in _row_roots(row):
        visit(root, ())
    return list(dict.fromkeys(places)), list(dict.fromkeys(names))


def _with_found(
    t: ir_t.Table,
    places: Sequence[tuple[tuple[str, ...], str]],
    names: Sequence[str],
    value_codes: ir_t.Table,
    source: ir_t.Table | None = None,
) -> ir_t.Table:
    """``t`` with a column ``_found{j}`` per set tested inside list items: the (system, code)
    of the row's codings (at ``places``) that the j-th set lists. A lambda over a list item
    cannot join a table; it tests its coding against this short list of the row instead (a
    coding of the row is listed exactly when it is in it). With ``source`` (the same rows as
    ``t``, before columns were added to them), the items are unnested from ``source``."""
    keys = _row_keys(t)
    key_names = [f"_fkey{i}" for i in range(len(keys))]

    def unnested(u: ir_t.Table) -> ir_t.Table:
        # only rows with items are unnested (DuckDB's unnest costs per row, NULL lists too)
        return u.filter(u["_fv"].length() > 0).unnest("_fv")

    parts = []
    rows = t if source is None else source
    for scope, concept in places:
        named = (rows[c].name(key_names[i]) for i, c in enumerate(keys))
        u = unnested(rows.select(*named, _fv=rows[list_name(scope[0])]))
        for path in scope[1:]:
            u = unnested(u.select(*key_names, _fv=u["_fv"][list_name(path)]))
        of = u["_fv"] if concept == _ITSELF else u["_fv"][concept_name(concept)]
        u = unnested(u.select(*key_names, _fv=of[_CODING]))
        parts.append(
            u.select(
                *key_names,
                _fs=u["_fv"][_SYSTEM].fill_null(""),
                _fc=u["_fv"][_CODE].fill_null(""),
            )
        )
    codings = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    listed = of_sets(value_codes, names)
    hits = codings.join(
        listed, [codings["_fs"] == listed["system"], codings["_fc"] == listed["code"]]
    )
    pair = ibis.struct({"system": hits["_fs"], "code": hits["_fc"]})
    found = hits.group_by(*(hits[k].name(f"_frow{i}") for i, k in enumerate(key_names))).aggregate(
        **{f"_fd{j}": pair.collect(where=hits["value_set"] == name) for j, name in enumerate(names)}
    )
    on = [t[c] == found[f"_frow{i}"] for i, c in enumerate(keys)]
    added = {f"_found{j}": found[f"_fd{j}"] for j in range(len(names))}
    return left_join_select(t, found, on, t.columns, added)


# which row of a resource a row is (0: the resource's own, i: its i-th item of `rec.ItemRows`);
# with ``n``, a row's key
# which item of its resource a row is (0: the resource itself), and which of that item's own
# items (`rec.ItemRows.then`: a contained panel's components)
_ITEM = "_item"
_SUBITEM = "_subitem"


def _row_keys(t: ir_t.Table) -> list[str]:
    """The columns that tell a table's rows apart: ``n``, and which item when items are rows."""
    return [k for k in ("n", _ITEM, _SUBITEM) if k == "n" or k in t.columns]


def _item_rows(
    t: ir_t.Table, items: rec.ItemRows, schema: ReadSchema, key: str = _ITEM
) -> tuple[ir_t.Table, ir_t.Table]:
    """The resources, and one row per item of their list ``items.path`` (unnested), each read
    as a resource of its own (`rec.ItemRows`): the columns of the keys it takes from the item
    are the item's (same names and types), the others the resource's, ``n`` included; ``key``
    numbers the items (0: the resource). Two tables of one schema, for a union."""
    listed = list_name(items.path)
    taken = {name for name, _, _ in _item_schema(schema, items).columns()}
    base = [c for c in t.columns if c != listed]
    own = t.select(*base, **{key: ibis.literal(0, type="int64")})
    # only the resources that have items are unnested: DuckDB's unnest costs per input row even
    # when the list is empty (~0.6 CPU s at 20k patients for an export without panels)
    with_items = t.filter(t[listed].length() > 0)
    # each item carries its place into the unnest (a lambda's index: 0-based on every backend,
    # ibis shifts DuckDB's). Not ibis's unnest(offset=): on DuckDB it unnests a list_zip(...),
    # planned as a lateral join whose hash tables hold every row's list (the shape that did
    # not fit under the flattening's memory cap: docs/speed.md, FHIR rounds 8 and 9)
    placed = with_items[listed].map(lambda item, i: ibis.struct({"v": item, "i": i}))
    u = with_items.select(*base, _it=placed).unnest("_it")
    value = u["_it"]["v"]
    if items.container is not None:
        # the item's own columns; its container's (``_report__status__str``) the resource's
        # (``status__str``, `_lift_container`); the rest (``n``) the resource's
        prefix, read = _key(items.container) + "__", {name for name, _, _ in schema.columns()}
        cells = [
            u[c[len(prefix) :]].name(c)
            if c.startswith(prefix)
            else value[c].name(c)
            if c in taken
            else ibis.null(u[c].type()).name(c)
            if c in read
            else u[c]
            for c in base
        ]
    elif items.whole is not None:
        # the item is the concept itself (`_item_schema`): its struct is that concept's column
        # (another row spec's reads of that key are not this one's: None, not the resource's)
        whole = concept_name(items.whole)
        at_whole = {
            name
            for name, kind, detail in schema.columns()
            if (detail if kind == "concept" else detail[0]).split(".", 1)[0] == items.whole
        }
        cells = [
            value.name(c)
            if c == whole
            else ibis.null(u[c].type()).name(c)
            if c in at_whole
            else u[c]
            for c in base
        ]
    else:
        cells = [value[c].name(c) if c in taken else u[c] for c in base]
    item = u.select(*cells, **{key: (u["_it"]["i"] + 1).cast("int64")})
    return own, item.cast(own.schema())


def _with_item_rows(
    t: ir_t.Table, items: rec.ItemRows, schema: ReadSchema
) -> list[tuple[ir_t.Table, bool]]:
    """The parts of a row spec with `rec.ItemRows`: (rows, whether they are the resources
    themselves), the items' own items (``items.then``) unnested from the items."""
    own, listed = _item_rows(t, items, schema)
    parts = [] if items_only(items) else [(own, True)]
    if items.then is None:
        return [*parts, (listed, False)]
    item_own, nested = _item_rows(listed, items.then, schema, key=_SUBITEM)
    parts = [(p.mutate(**{_SUBITEM: ibis.literal(0, type="int64")}), b) for p, b in parts]
    if not items_only(items.then):
        parts.append((item_own, False))
    return [*parts, (nested, False)]


def _compile_row(
    row: rec.RowSpec,
    source: ir_t.Table,
    schema: ReadSchema,
    tables: Mapping[str, ir_t.Table],
    types: Mapping[str, Mapping[str, str]],
    keep: Keep = _as_is,
    value_codes: Callable[[], ir_t.Table] | None = None,
    women: Women = Women(),
    pair_rows: dict[tuple[str, rec.Joined], ir_t.Table] | None = None,
    nulled: frozenset[str] = frozenset(),
) -> tuple[ir_t.Table, ir_t.Table | None]:
    scope_types = {n: _column_type(k, d) for n, k, d in schema.columns()}

    shared: dict[ir.Expr, str] = {}
    masks: dict[ir.Expr, tuple[str, Mapping[str, int]]] = {}
    least: dict[tuple[ir.Expr, str], str] = {}
    found: dict[str, str] = {}

    def compiler(t: ir_t.Table, joined: Mapping[ir.Expr, str]) -> _RecordsCompiler:
        env = _Env(
            t.__getitem__,
            scope_types,
            joined={k: t[v] for k, v in joined.items()},
            table_types=types,
            masks=masks,
            least=least,
            found={name: t[column] for name, column in found.items()},
        )
        return _RecordsCompiler(env, schema, {e: t[name] for e, name in shared.items()})

    resources = source.filter(source[leaf_name("resourceType", "str")] == row.resource)
    repeated = _repeated_test(row, tables)
    if repeated is not None:
        # only the resources of a repeated (patient, id) give rows: kept before their items
        # are unnested, masked and joined (the test is then True of every row: dropped)
        test, pairs = repeated
        kept = pair_rows.get((row.resource, pairs)) if pair_rows is not None else None
        if kept is None:
            kept = _of_pairs(
                resources, row.resource, pairs, tables[pairs.table], compiler(resources, {}), women
            )
            if pair_rows is not None:
                # stored once, read by each version table and panel length table of the type
                # (stop 34): each had read, and semi-joined, every resource of the export
                kept = keep(kept, f"{pairs.table}_{row.resource}")
                pair_rows[(row.resource, pairs)] = kept
        resources = kept
        rest = tuple(p for p in row.when.items if p != test)  # type: ignore[attr-defined]
        row = dataclasses.replace(row, when=rest[0] if len(rest) == 1 else ir.And(rest))
    joined: dict[ir.Expr, str] = {}
    concept_sets = list(_code_masks(row).items())
    least_pairs = _at_least_pairs(row)
    places, item_sets = _item_concepts(row)
    if (concept_sets or places) and value_codes is None:
        raise ValueError("a row spec that tests value sets needs the code table")

    # with merges or ties in the export, a `Joined` with a patient compares the woman (`Women`):
    # each joined table's rows made hers once, and each part's rows (one column per patient
    # expression, `hers`)
    as_woman: dict[str, ir_t.Table] = {}
    container = row.items.container if row.items is not None else None

    def womens(name: str) -> ir_t.Table:
        other = tables[name]
        if women.none or "ref" not in other.columns:  # (the repeated pairs: hers already)
            return other
        if name not in as_woman:
            as_woman[name] = women.of(other, "patient", "ref", "n")
        return as_woman[name]

    def prepared(t: ir_t.Table) -> ir_t.Table:
        """``t`` with the other tables' rows it joins and the masks of its concepts (the
        joins' columns named alike in every part: ``joined`` is made again for each)."""
        joined.clear()
        rows = t
        hers: dict[ir.Expr, str] = {}
        if not women.none:
            t = t.mutate(_wref=_ref_of(t, row.resource, container))
        for i, j in enumerate(_joins(row)):
            if j.table in nulled:
                # a table no row can fill (`never_found`): its row is never found, no join
                kind = types[j.table].get(j.column) or "str"
                t = t.mutate(**{f"_j{i}": ibis.null(IR_TYPES.get(kind, "string"))})
                joined[j] = f"_j{i}"
                continue
            # the other table's row of that id; of several, the last in input order (with
            # ``order``: the greatest order, then the last; ``least``: the smallest, then the
            # first), as one struct's max or min
            other = womens(j.table) if j.patient is not None else tables[j.table]
            ranked = {f"o{k}": other[c] for k, c in enumerate(j.order)}
            last = ibis.struct({**ranked, "n": other["n"], "v": other[j.column]})
            # with ``patient``: keyed by (patient, id), a row of no patient under "" (a FHIR
            # id is never empty, `RefId` gives None for one): None equal to None, as in Python
            by = {"_jid": other["id"]}
            if j.patient is not None:
                by["_jpat"] = other["patient"].fill_null("")
            lookup = (
                other.filter(other["id"].notnull())
                .group_by(**by)
                .aggregate(_jv=last.min() if j.least else last.max())
            )
            if j.patient is not None and not women.none and j.patient not in hers:
                hers[j.patient] = f"_jw{len(hers)}"
                t = t.mutate(**{hers[j.patient]: compiler(t, joined).expr(j.patient, "str")})
                t = women.of(t, hers[j.patient], "_wref", "n")
            t = t.mutate(**{f"_jk{i}": compiler(t, joined).expr(j.key, "str")})
            if j.patient is not None and j.patient not in hers:
                t = t.mutate(**{f"_jp{i}": compiler(t, joined).expr(j.patient, "str")})
            # (the predicates read the joined ``t`` itself: `left_join_select`)
            on = [t[f"_jk{i}"] == lookup["_jid"]]
            if j.patient is not None:
                theirs = hers.get(j.patient, f"_jp{i}")
                on.append(t[theirs].fill_null("") == lookup["_jpat"])
            # (built as ibis's node, not dereferenced column by column: `plain_join`)
            kept = [c for c in t.columns if c != f"_jp{i}"]
            t = left_join_select(t, lookup, on, kept, {f"_j{i}": lookup["_jv"]["v"]})
            joined[j] = f"_j{i}"
        if not women.none:
            t = t.drop("_wref", *hers.values())
        # the codings are unnested from the rows as they came, before the joins and the masks:
        # ibis writes an unnest's table out again in its SQL, so unnested from ``t`` each
        # concept and list read gave its own copy of the joins (and, from the masked rows, of
        # the masks' lookups: the held scan finding's row 20, not 16), planned and run again
        own = not any(isinstance(n, rec.Joined) for c, _ in concept_sets for n in _walk(c))
        source = rows if own else t
        if codes is not None:
            reading = compiler(rows, {}) if own else compiler(t, joined)
            t = _with_masks(t, concept_sets, least_pairs, reading, codes, source)
        if places:
            assert value_codes is not None
            t = _with_found(t, places, item_sets, value_codes(), rows)
        return t

    # the codes of the sets the row spec tests, stored once for the row spec (its parts with
    # item rows read it both)
    codes = None
    if concept_sets:
        assert value_codes is not None
        codes = keep(_code_table(value_codes(), concept_sets, least_pairs), "codes")

    # (part, whether its filter may be the bare ``when``)
    parts: list[tuple[ir_t.Table, bool]]
    if row.items is None:
        parts = [(prepared(resources), True)]
    else:
        # the resources and their item rows each prepared, then one union: prepared after the
        # union, DuckDB materialised the union (a CTE read by each mask's unnest and the join
        # back: about a third of the clinical rows' CPU on an export of Observations)
        # (only the items give rows with `rec.ItemRows.whole` and `container`)
        parts = [(prepared(p), own) for p, own in _with_item_rows(resources, row.items, schema)]
    masks.update({c: (f"_mask{k}", sets) for k, (c, sets) in enumerate(concept_sets)})
    least.update({pair: f"_least{j}" for j, pair in enumerate(least_pairs)})
    found.update({name: f"_found{j}" for j, name in enumerate(item_sets)})
    # A filter drops a row whose ``when`` is None as it drops False, so no fill_null (a
    # COALESCE) around it: under one, DuckDB evaluates every part of the condition for every
    # row, where a bare AND / OR tests each part only on the rows still undecided (an
    # Observation's hCG and unit tests only on the rows coded hCG). Not for item rows: there
    # DuckDB pushed the bare condition's parts below their unnest, which it then planned as a
    # lateral join (test_item_rows_plan.py; docs/speed.md, FHIR rounds 8-10).
    filtered = []
    for part, bare in parts:
        when = compiler(part, joined).expr(row.when, "bool")
        filtered.append(part.filter(when if bare else when.fill_null(False)))
    t = filtered[0] if len(filtered) == 1 else ibis.union(*filtered, distinct=False)
    roots = [row.patient, *(e for _, e in row.columns), *row.checks]
    for stage in _shared_stages(r for r in roots if r is not None):
        c = compiler(t, joined)
        named = {f"_s{len(shared) + i}": e for i, e in enumerate(stage)}
        t = t.mutate(**{name: c.expr(e, c.type_of(e)) for name, e in named.items()})
        t = keep(t, f"{_VIEW}{row.table}_{row.resource}")
        shared.update({e: name for name, e in named.items()})
    c = compiler(t, joined)
    patient = c.expr(row.patient, "str") if row.patient is not None else ibis.null("string")
    # the first check that is not True names the problem; those resources give no row. A row
    # spec without checks has no such column, nor a filter on it (always true: it was kept in
    # the SQL of every such table, bound and planned, stop 36)
    checked = {}
    if row.checks:
        checked["_failed"] = ibis.cases(
            *(
                (~c.expr(check.ok, "bool").fill_null(False), ibis.literal(i, type="int64"))
                for i, check in enumerate(row.checks)
            ),
            else_=ibis.null("int64"),
        )
    t = t.mutate(_ref=_ref_of(t, row.resource, container), _patient=patient, **checked)
    c = compiler(t, joined)
    columns = {name: c.expr(e, types[row.table][name]) for name, e in row.columns}
    kinds = types[row.table]
    typed = {
        name: v.cast(IR_TYPES[kinds[name]]) if kinds[name] in IR_TYPES else v
        for name, v in columns.items()
    }
    kept = t.filter(t["_failed"].isnull()) if row.checks else t
    out = kept.select(ref=t["_ref"], n=t["n"].cast("int64"), patient=t["_patient"], **typed)
    if not row.checks:
        return out, None
    message = ibis.cases(
        *((t["_failed"] == i, c.message(check.message)) for i, check in enumerate(row.checks)),
        else_=ibis.null("string"),
    )
    bad = t.filter(t["_failed"].notnull()).select(
        patient=t["_patient"],
        encounter=ibis.null("int64"),
        ref=t["_ref"],
        message=message,
        stage=ibis.literal(0, type="int64"),
        n=t["n"].cast("int64"),
    )
    return out, bad


def _repeated_test(
    row: rec.RowSpec, tables: Mapping[str, ir_t.Table]
) -> tuple[ir.Expr, rec.Joined] | None:
    """Of a row spec, the part of its condition (an `ir.And`) that asks whether the resource's
    (patient, id) is one of a table of repeated pairs (``Not(IsNull(Joined(T, key, "id",
    patient=P)))``, as `own_rows` puts it, T a `repeated_table`), with its join; None when
    there is none. With item rows, only where the key and patient are the resource's own
    elements (the items own neither: the test is the same on every row of the resource).
    Without items (stop 34): the version tables themselves (``observation_tops``,
    ``_items_differ``, ``_chosen``, ``_versions``), whose condition `own_rows.inline_own_rows`
    starts with the pairs' test, had every resource read, joined and filtered at the end."""
    items, when = row.items, row.when
    if not isinstance(when, ir.And):
        return None
    owned: frozenset[str] = frozenset()
    if items is not None:
        if not items.own:
            return None
        if items.whole is not None or items.container is not None or items.then is not None:
            return None
        owned = frozenset(items.own)
    for part in when.items:
        inner = part.item if isinstance(part, ir.Not) else None
        j = inner.item if isinstance(inner, ir.IsNull) else None
        if not isinstance(j, rec.Joined) or j.column != "id" or j.patient is None:
            continue
        if j.order or j.table not in tables or not j.table.endswith("__repeated"):
            continue
        if reads_owned(j.key, owned) or reads_owned(j.patient, owned):
            continue
        return part, j
    return None


def _of_pairs(
    t: ir_t.Table,
    resource: str,
    j: rec.Joined,
    pairs: ir_t.Table,
    reading: _RecordsCompiler,
    women: Women,
) -> ir_t.Table:
    """The resources of ``t`` whose (patient, id), read by ``j``'s key and patient as its look-up
    reads them (the woman, with merges or ties; None as ""), is a row of ``pairs``."""
    assert j.patient is not None
    keyed = t.mutate(_rk=reading.expr(j.key, "str"), _rp=reading.expr(j.patient, "str"))
    if not women.none:
        keyed = women.of(keyed.mutate(_rref=_ref_of(t, resource, None)), "_rp", "_rref", "n")
    listed = pairs.filter(pairs["id"].notnull())
    listed = listed.select(_pid=listed["id"], _ppat=listed["patient"].fill_null(""))
    on = [keyed["_rk"] == listed["_pid"], keyed["_rp"].fill_null("") == listed["_ppat"]]
    return keyed.semi_join(listed, on).select(*t.columns)


def _ref_of(t: ir_t.Table, resource: str, container: str | None) -> ir_t.StringValue:
    """The ``ref`` of a row of ``t`` (``Type/id``): an item read with its container is the
    container's row (`rec.ItemRows.container`)."""
    id_path = "id" if container is None else f"{container}.id"
    return ibis.literal(resource + "/") + t[leaf_name(id_path, "str")].fill_null("(no id)")


# --- stage 2: episodes -----------------------------------------------------------------------


def _aggs_of(e: Any) -> list[rec.Agg | rec.Days]:
    """The aggregates in a step, outermost only (an aggregate's own parts read rows)."""
    return [n for n in _walk(e, (rec.Agg, rec.Days)) if isinstance(n, rec.Agg | rec.Days)]


def _ctx_names(e: Any) -> set[str]:
    return {n.name for n in _walk(e) if isinstance(n, rec.Ctx)}


def _row_only(where: ir.Expr) -> ir.Expr | None:
    """A filter that reads only the row (no context, no aggregate) and is True wherever
    ``where`` is True (None when there is none): the parts of an `And` that have one, an `Or`
    whose every item has one, what `IsTrue` holds."""
    if not any(isinstance(n, rec.Ctx | rec.Agg | rec.Days) for n in _walk(where)):
        return where
    if isinstance(where, ir.IsTrue):
        return _row_only(where.item)
    if isinstance(where, ir.And | ir.Or):
        parts = [_row_only(x) for x in where.items]
        kept = tuple(x for x in parts if x is not None)
        if not kept or (isinstance(where, ir.Or) and len(kept) < len(parts)):
            return None
        return kept[0] if len(kept) == 1 else type(where)(kept)
    return None


def _latest_key(values: Sequence[ir_t.Value], value: ir_t.Value) -> ir_t.StructValue:
    """A struct whose greatest is the latest row: each order value after a flag that puts None
    below every value (the same on every backend), then the value itself."""
    fields: dict[str, ir_t.Value] = {}
    for i, v in enumerate(values):
        fields[f"f{i}"] = v.notnull()
        fields[f"o{i}"] = v
    fields["value"] = value
    return ibis.struct(fields)


class _Episodes:
    """The steps of an `EpisodeSpec` over a table of encounters, as columns in order."""

    def __init__(
        self,
        rows: Mapping[str, ir_t.Table],
        types: Mapping[str, Mapping[str, str]],
        encounters: ir_t.Table,
        unscoped: set[str],
        whole: bool,
        keep: Keep = _as_is,
        merged: ir_t.Table | None = None,
        own_record: tuple[str, ...] = (),
        by_identifier: ir_t.Table | None = None,
    ) -> None:
        self.keep = keep
        self.unscoped, self.whole = unscoped, whole
        self.merged, self.own_record = merged, set(own_record)
        self.by_identifier = by_identifier
        self.rows = dict(rows)
        self.types = {k: dict(v) for k, v in types.items()}
        self.by_encounter: set[str] = set()  # tables of Days: keyed by encounter, not patient
        self.e = encounters
        self.ctx_types = {"assessed_on": "date", "encounter": "str", "patient": "str"}
        self.done: dict[int, str] = {}  # id(Agg) -> column of self.e
        self.count = 0

    def compiler(self, table: ir_t.Table, col: ir_t.Table | None = None) -> _RecordsCompiler:
        env = _Env(
            ctx=lambda name: table[f"_ctx_{name}"] if col is not None else table[name],
            ctx_types=self.ctx_types,
            col=(lambda name: col[f"_col_{name}"]) if col is not None else None,
            col_types={},
            table_types=self.types,
            aggs={k: table[v] for k, v in self.done.items()} if col is None else {},
        )
        return _RecordsCompiler(env)

    def joined(self, table: str, ctx: set[str], rows_taken: Sequence[ir.Expr] = ()) -> ir_t.Table:
        """Encounters (key and the context read) x the rows of their patient (a table of days:
        of the encounter; a table without patients, or one record read whole: every row),
        columns prefixed ``_ctx_`` and ``_col_``; with ``rows_taken`` (filters that read only
        the row), only the rows one of them takes."""
        e = self.e.select(
            _key=self.e["_key"],
            _link=self.e["patient"],
            **{f"_ctx_{c}": self.e[c] for c in sorted(ctx)},
        )
        r = self._as_hers(table)
        link = {"_rlink": r["_key"]} if table in self.by_encounter else {}
        r = r.select(**link, **{f"_col_{c}": r[c] for c in r.columns})
        if rows_taken:
            c = self.compiler(r, r)
            c.env.col_types = self.types[table]
            taken = (c.expr(w, "bool").fill_null(False) for w in dict.fromkeys(rows_taken))
            r = r.filter(functools.reduce(operator.or_, taken))
        if table in self.by_encounter:
            return e.join(r, e["_key"] == r["_rlink"])
        if table in self.unscoped or self.whole:
            return e.cross_join(r)
        return e.join(r, e["_link"] == r["_col_patient"])

    def _as_hers(self, table: str) -> ir_t.Table:
        """The rows of ``table``, those of a record merged into another read as the surviving
        record's (``merged``: ``merged_id`` -> ``survivor``, `earlypath.records.merges`): the
        one place the audit ties a merged record's resources to her encounters. Her own
        Patient's tables (``own_record``) are not remapped: her sex and age are the survivor's.
        Before that, a row with no patient whose resource names her by an identifier only is
        the Patient's that carries it (``by_identifier``: ``ref``, ``n`` -> ``tied``, already
        the survivor, `earlypath.records.identifiers`); a literal reference is kept."""
        r = self.rows[table]
        if (
            self.whole
            or table in self.by_encounter
            or table in self.unscoped
            or table in self.own_record
        ):
            return r
        # the one rule, as the row stage's look-ups use it (`Women.of`)
        return Women(self.merged, self.by_identifier).of(r, "patient", "ref", "n")

    def shared(
        self, j: ir_t.Table, table: str, roots: Sequence[ir.Expr]
    ) -> tuple[ir_t.Table, _RecordsCompiler]:
        """The joined rows ``j`` and their compiler, each subexpression used more than once in
        ``roots`` a column of ``j`` computed once per row (where a row's day falls against the
        assessment, written out in the filter of every aggregate otherwise)."""
        shared: dict[ir.Expr, str] = {}
        for stage in _shared_stages(roots):
            c = self.compiler(j, j)
            c.env.col_types = self.types[table]
            c.shared = {e: j[n] for e, n in shared.items()}
            named = {f"_s{len(shared) + i}": e for i, e in enumerate(stage)}
            j = j.mutate(**{n: c.expr(e, c.type_of(e)) for n, e in named.items()})
            shared.update({e: n for n, e in named.items()})
        c = self.compiler(j, j)
        c.env.col_types = self.types[table]
        c.shared = {e: j[n] for e, n in shared.items()}
        return j, c

    def aggregate(self, aggs: Sequence[rec.Agg], table: str) -> None:
        ctx = set().union(*(_ctx_names(a) for a in aggs))
        # the rows no aggregate can take are left out before the join: each filter's part
        # that reads only the row (when every filter has one). An encounter left with no
        # rows gets what `_attach` gives one without rows (None; 0 and [] filled there).
        # (Filtering the joined rows again by the OR of the whole filters before the
        # grouping was measured and cost more than it saved: docs/speed.md, round 5.)
        parts = [_row_only(a.where) for a in aggs]
        every = None in parts or ir.Const(True) in parts
        rows_taken = [] if every else [p for p in parts if p is not None]
        j = self.joined(table, ctx, rows_taken)
        j, c = self.shared(j, table, [x for a in aggs for x in (a.where, a.value, *a.order)])
        metrics = {}
        for a in aggs:
            self.count += 1
            name = f"_a{self.count}"
            where = c.expr(a.where, "bool").fill_null(False)
            metrics[name] = _agg(c, a, where, j)
            self.done[id(a)] = name
        grouped = j.group_by("_key").aggregate(**metrics)
        self._attach(grouped, {k: a for k, a in zip(metrics, aggs, strict=True)})

    def _attach(self, grouped: ir_t.Table, aggs: Mapping[str, rec.Agg | rec.Days]) -> None:
        # the aggregates are stored (one small row per encounter); the episodes so far are a
        # view joining them, not a copy of the growing table after every step (stored once,
        # at the end)
        grouped = self.keep(grouped, "aggregates")
        e = self.e.left_join(grouped, self.e["_key"] == grouped["_key"])
        fill = {}
        for name, a in aggs.items():
            if isinstance(a, rec.Agg) and a.op == "count_distinct":
                fill[name] = e[name].fill_null(0)
            elif isinstance(a, rec.Days) or (isinstance(a, rec.Agg) and a.op == "collect"):
                # no rows is an empty list, as the Python engine gives it
                fill[name] = ibis.coalesce(e[name], ibis.literal([], type=e[name].type()))
            else:
                fill[name] = e[name]
        self.e = self.keep(e.select(*self.e.columns, **fill), f"{_VIEW}episodes")

    def days(self, d: rec.Days, name: str) -> None:
        ctx = _ctx_names(d.where) | _ctx_names(d.day)
        j = self.joined(d.table, ctx)
        c = self.compiler(j, j)
        c.env.col_types = self.types[d.table]
        j = j.filter(c.expr(d.where, "bool").fill_null(False)).mutate(_day=c.expr(d.day, "date"))
        j = j.filter(j["_day"].notnull())
        c = self.compiler(j, j)
        c.env.col_types = self.types[d.table]
        true = ibis.literal(True)
        columns = {col: _agg(c, a, true, j) for col, a in d.columns}
        g = j.group_by(["_key", "_day"]).aggregate(**columns)
        # carry: a column None on a day takes the value of the latest earlier day that has one
        w = ibis.window(group_by=g["_key"], order_by=g["_day"], rows=(None, -1))
        carried = {}
        for col in d.carry:
            last = ibis.cases(
                (g[col].notnull(), ibis.struct({"d": g["_day"], "v": g[col]})),
                else_=ibis.null(ibis.struct({"d": g["_day"], "v": g[col]}).type()),
            )
            carried[col] = ibis.coalesce(g[col], last.max().over(w)["v"])
        g = g.mutate(**carried)
        # derived columns, in order, from the day's record (and the context)
        inner = _RecordsCompiler(_Env(col_types=self.types[d.table], ctx_types=self.ctx_types))
        day_types = {"day": "date"} | {col: inner.type_of(a) or "str" for col, a in d.columns}
        t = g.select(
            _key=g["_key"], _col_day=g["_day"], **{f"_col_{col}": g[col] for col, _ in d.columns}
        )
        ctx = set().union(*(_ctx_names(e) for _, e in d.derived))
        if ctx:
            e = self.e.select(_key=self.e["_key"], **{f"_ctx_{c}": self.e[c] for c in ctx})
            t = t.join(e, "_key")
        names = [col for col, _ in d.columns]
        for col, expr in d.derived:
            c = self.compiler(t, t)
            c.env.col_types = day_types
            kind = c.type_of(expr)
            t = t.mutate(**{f"_col_{col}": c.expr(expr, kind)})
            day_types[col] = kind or "str"
            names.append(col)
        table = t.select(_key=t["_key"], day=t["_col_day"], **{n: t[f"_col_{n}"] for n in names})
        table = self.keep(table, "days")
        self.rows[name] = table
        self.by_encounter.add(name)
        self.types[name] = day_types
        record = ibis.struct({"day": table["day"], **{n: table[n] for n in names}})
        as_list = table.group_by("_key").aggregate(_v=_ordered(table["day"], record, None))
        self.count += 1
        column = f"_a{self.count}"
        as_list = as_list.rename({column: "_v"})
        self.done[id(d)] = column
        self._attach(as_list, {column: d})

    def step(self, name: str, e: ir.Expr, steps: Sequence[tuple[str, ir.Expr]]) -> None:
        if isinstance(e, rec.Days):
            self.days(e, name)
            self.e = self.e.mutate(**{name: self.e[self.done[id(e)]]})
            self.ctx_types[name] = "days"
            return
        for d in (a for a in _aggs_of(e) if isinstance(a, rec.Days) and id(a) not in self.done):
            self.days(d, f"_days{id(d)}")
        # every aggregate not yet computed whose context is known, in one join per table
        known = set(self.e.columns)
        pending: dict[str, list[rec.Agg]] = {}
        for _, later in steps:
            for a in _aggs_of(later):
                if not isinstance(a, rec.Agg) or id(a) in self.done:
                    continue
                if _ctx_names(a) <= known and a.table in self.rows:
                    batch = pending.setdefault(a.table, [])
                    if all(x is not a for x in batch):
                        batch.append(a)
        for a in _aggs_of(e):
            if isinstance(a, rec.Agg) and id(a) not in self.done and _ctx_names(a) - known:
                raise ValueError(
                    f"step {name!r} reads steps not yet known: {_ctx_names(a) - known}"
                )
        for table, aggs in pending.items():
            self.aggregate(aggs, table)
        c = self.compiler(self.e)
        kind = c.type_of(e)
        self.e = self.e.mutate(**{name: c.expr(e, kind)})
        self.ctx_types[name] = kind or "str"

    def problems(self, problems: Sequence[rec.RowProblem]) -> list[ir_t.Table]:
        out = []
        for i, p in enumerate(problems):
            parts = [*p.message.parts, *(p.ref.parts if p.ref is not None else ())]
            ctx = _ctx_names(p.where).union(
                *(_ctx_names(x) for x in parts if isinstance(x, ir.Expr))
            )
            j = self.joined(p.table, ctx)
            c = self.compiler(j, j)
            c.env.col_types = self.types[p.table]
            j = j.filter(c.expr(p.where, "bool").fill_null(False))
            c = self.compiler(j, j)
            c.env.col_types = self.types[p.table]
            if p.table in self.by_encounter:  # day records: in day order
                order = j["_col_day"].delta(ibis.date(1970, 1, 1), unit="day").cast("int64")
            else:
                order = j["_col_n"].cast("int64")
            ref = c.message(p.ref) if p.ref is not None else j["_col_ref"]
            out.append(
                j.select(
                    patient=j["_link"],
                    encounter=j["_key"].cast("int64"),
                    ref=ref,
                    message=c.message(p.message),
                    stage=ibis.literal(i + 1, type="int64"),
                    n=order,
                )
            )
        return out


def _ordered(
    order: ir_t.Value, value: ir_t.Value, where: ir_t.BooleanValue | None
) -> ir_t.ArrayValue:
    """The values as a list in ``order`` (unique per group): (order, value) pairs collected,
    sorted, then unpaired, as Spark's collect_list has no ORDER BY."""
    pairs = ibis.struct({"o": order, "v": value}).collect(where=where)
    return pairs.sort().map(lambda p: p["v"])


def _agg(c: _RecordsCompiler, a: rec.Agg, where: ir_t.BooleanValue, j: ir_t.Table) -> ir_t.Value:
    kind = c.type_of(a.value)
    value = c.expr(a.value, kind)
    if isinstance(value, ir_t.Scalar):  # a constant, made a column to aggregate
        value = ibis.cases((j["_key"].notnull(), value), else_=value)
    if a.op == "any":
        return value.any(where=where)
    if a.op == "all":
        return value.all(where=where)
    if a.op == "max":
        return value.max(where=where)
    if a.op == "min":
        return value.min(where=where)
    if a.op == "count_distinct":
        return value.nunique(where=where)
    if a.op == "collect":
        return _ordered(j["_col_n"], value, where & value.notnull())
    order = [c.expr(o) for o in a.order]
    return _latest_key(order, value).max(where=where)["value"]


def compile_episodes(
    spec: rec.EpisodeSpec,
    rows: Mapping[str, ir_t.Table],
    types: Mapping[str, Mapping[str, str]],
    encounters: ir_t.Table,
    whole: bool = False,
    keep: Keep = _as_is,
    merged: ir_t.Table | None = None,
    by_identifier: ir_t.Table | None = None,
) -> tuple[ir_t.Table, list[ir_t.Table]]:
    """One row per encounter (``encounters``: ``_key`` unique, ``encounter``, ``patient``,
    ``assessed_on``), a column per step; and the problems its `RowProblem`s report.

    An encounter reads the rows of its patient, and every row of a table whose specs name no
    patient (Medication); ``whole``: every row (the export is one record, as a CDS call's).
    ``merged`` (``merged_id``, ``survivor``): the rows of a record merged into another are the
    survivor's (its encounters' ``patient`` must be the survivor already); ``by_identifier``
    (``ref``, ``n``, ``tied``): the rows of a resource naming its patient by an identifier only
    are the Patient's that carries it (`_Episodes._as_hers`)."""
    unscoped = {r.table for r in spec.rows} - {r.table for r in spec.rows if r.patient is not None}
    ep = _Episodes(
        rows, types, encounters, unscoped, whole, keep, merged, spec.own_record, by_identifier
    )
    for name, e in spec.steps:
        ep.step(name, e, spec.steps)
    problems = ep.problems(spec.problems)
    # the encounter and its steps: the aggregates' working columns (``_a1`` ...) are not kept.
    # They were half the stored table's columns (57 of 109 for the audit's reading, among them a
    # copy of each Days list), and writing them was about a third of its statement's CPU
    kept = dict.fromkeys([*encounters.columns, *(name for name, _ in spec.steps)])
    return ep.e.select(*kept), problems


def compile_records(
    spec: rec.EpisodeSpec,
    resources: Mapping[str, ir_t.Table],
    encounters: Callable[[Mapping[str, ir_t.Table]], ir_t.Table] | None = None,
    whole: bool = False,
    keep: Keep = _as_is,
    merged: ir_t.Table | None = None,
    absent: frozenset[str] = frozenset(),
    by_identifier: ir_t.Table | None = None,
    unique: frozenset[str] = frozenset(),
    repeated: frozenset[str] = frozenset(),
    part_of: dict[Any, int] | None = None,
) -> CompiledRecords:
    """The whole reading: rows (none of the ``absent`` types: `compile_rows`, noting each
    spec's part in ``part_of``), then (when ``encounters`` makes the encounters table from the
    rows) the episodes, with ``merged`` records read as their survivor's (`compile_episodes`);
    the problems of both in one table."""
    women = Women(merged, by_identifier)
    rows, problems, types = compile_rows(
        spec, resources, keep, absent, unique, repeated, women, part_of
    )
    episodes = None
    if encounters is not None:
        episodes, more = compile_episodes(
            spec, rows, types, encounters(rows), whole, keep, merged, by_identifier
        )
        problems += more
    all_problems = ibis.union(*problems) if problems else _no_problems()
    return CompiledRecords(rows, all_problems, episodes, types)


# --- compiled once per process -----------------------------------------------------------------


@dataclass
class _Plan:
    """The statements a reading stores, with the names of its inputs and of its own tables as
    placeholders, and which of its tables are the rows, the episodes and the problems."""

    statements: list[tuple[str, str]]  # (table, SQL)
    rows: dict[str, str]
    episodes: str
    problems: str | None
    types: dict[str, dict[str, str]]
    # the statements (by index) that add their rows to the table an earlier one made: DuckDB's
    # unions of parts (`union_parts`)
    appends: list[int] = field(default_factory=list)
    # (an append's index, the position in ``spec.rows`` of the row spec it is the part of):
    # the appends a replay may leave out when that spec gives no row (`_parts_without_rows`)
    part_rows: list[tuple[int, int]] = field(default_factory=list)


_PLANS: dict[tuple[Any, ...], _Plan] = {}
# the name of the value sets' code table in a kept plan (`value_codes_table` names it per codes)
_VALUE_CODES = "@value_codes@"
_BY_IDENTIFIER = "@by_identifier@"


def _quoted(con: Any, name: str) -> list[str]:
    return [f"`{name}`", f'"{name}"'] if con.name == "pyspark" else [f'"{name}"']


def _store(con: Any, table: str, sql: str) -> None:
    """A table computed once; or, named as a `_VIEW`, a view (the SQL of the next step stays
    small and the database computes the shared columns once in its plan)."""
    view = _VIEW in table
    if con.name == "pyspark":
        # Spark inlines views and collapses projections (expressions repeated again): every
        # step is computed and its lineage cut, so the next plan starts from stored rows
        with _no_constraint_propagation(con._session):
            con._session.sql(sql).localCheckpoint(eager=True).createOrReplaceTempView(table)
    elif view:
        con.raw_sql(f'CREATE OR REPLACE TEMP VIEW "{table}" AS {sql}')
    else:
        _run_planned(con, sql, f'CREATE OR REPLACE TEMP TABLE "{table}" AS {sql}')


def _append(con: Any, table: str, sql: str) -> None:
    """Add the rows of ``sql`` to the DuckDB table ``table`` (`union_parts`)."""
    _run_planned(con, sql, append_sql(table, sql))


def _run_planned(con: Any, query: str, statement: str) -> None:
    """Run ``statement`` (on DuckDB), planned without `_PULLUP` when its ``query`` reads a
    stored view."""
    if _VIEW_READ in query:
        _without_pullup(con, statement)
    else:
        con.raw_sql(statement)


# Catalyst's constraint propagation (the predicates a plan's rows are known to meet, inferred
# through every alias of every projection) grows with the aliases stacked in one statement: the
# reading's row stages alias each column again and again, and `localCheckpoint` asks for the
# constraints of the whole optimised plan to carry them onto the stored rows
# (`LogicalRDD.rewriteStatsAndConstraints`). With the tied-panel lengths (stop 31, HAZ-20
# C20.22) the malformed-Observation stage never finished: a 2.5 GB driver in GC inside
# `getAllValidConstraints` (docs/speed.md, Spark, stop 32). The constraints only let the
# optimizer add filters it can prove (`InferFiltersFromConstraints`): never a different result.
_CONSTRAINTS = "spark.sql.constraintPropagation.enabled"


@contextmanager
def _no_constraint_propagation(session: Any) -> Iterator[None]:
    """Plan and store a statement of the reading with Spark's constraint propagation off, the
    session's own setting restored after (a caller's session is not changed for its own
    queries)."""
    before = session.conf.get(_CONSTRAINTS, None)
    session.conf.set(_CONSTRAINTS, "false")
    try:
        yield
    finally:
        if before is None:
            session.conf.unset(_CONSTRAINTS)
        else:
            session.conf.set(_CONSTRAINTS, before)


# a stored view's name as the SQL of a statement that reads it names it (`materializer`'s
# "{prefix}_view_...", quoted)
_VIEW_READ = f"_{_VIEW}"
# DuckDB's optimizer that moves projections up the plan: a table made from views (a row
# spec's stages, each a projection of the one before, inlined) has dozens of projections of
# hundreds of columns, and this pass was the largest of the optimizer's on the clinical rows
# (docs/speed.md, FHIR round 14); it changes how a plan is laid out, never what it gives
_PULLUP = "projection_pullup"


def _without_pullup(con: Any, sql: str) -> None:
    """Run ``sql`` on DuckDB with `_PULLUP` disabled, the connection's own setting restored."""
    before = con.raw_sql("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    names = [n for n in str(before or "").split(",") if n.strip()]
    if _PULLUP in (n.strip().lower() for n in names):
        con.raw_sql(sql)
        return
    con.raw_sql(f"SET disabled_optimizers = '{','.join([*names, _PULLUP])}'")
    try:
        con.raw_sql(sql)
    finally:
        con.raw_sql(f"SET disabled_optimizers = '{before or ''}'")


def run_records(
    con: Any,
    spec: rec.EpisodeSpec,
    resources: Mapping[str, ir_t.Table],
    encounters: str,
    prefix: str,
    whole: bool = False,
    drop_inputs: bool = False,
    merged: str | None = None,
    by_identifier: str | None = None,
    unique: frozenset[str] = frozenset(),
    repeated: frozenset[str] = frozenset(),
) -> CompiledRecords:
    """The reading of every encounter of table ``encounters`` (``_key``, ``encounter``,
    ``patient``, ``assessed_on``), each intermediate table stored as ``{prefix}_...``; with
    ``merged`` (a table: ``merged_id``, ``survivor``), the resources of a merged record are
    read as the surviving record's (`compile_episodes`); with ``by_identifier`` (a table: ``ref``,
    ``n``, ``tied``), a resource naming its patient by an identifier only is the Patient's that
    carries it; the `Joined` of the tables in ``unique`` are read without a join (`compile_rows`:
    the caller has counted that no (patient, id) of theirs repeats, `kept_count.
    unique_joined_tables`), and those in ``repeated`` only by the rows whose pair repeats.

    Compiling the definition to SQL takes seconds (ibis builds and renders a large plan); it
    depends only on the definition, the backend and the input tables' schemas, so it is done once
    (kept in the process, and on disk between processes: `plan_cache`) and replayed with this
    call's table names.

    On DuckDB, each stored table the result does not name is dropped once the statements that
    read it have run (and with ``drop_inputs`` the tables of ``resources``, made by
    `load_resources`, too): the memory a reading holds does not add up step after step."""
    inputs = {r: t.get_name() for r, t in resources.items()}
    # the value sets' codes are a table of the engine, named by the SQL, not written in it
    value_codes = value_codes_table(con).get_name()
    # the types with no line are not read (`LoadedResources`): a plan per set of the row specs
    # that leaves out (`left_out`), not per set of types
    absent = _absent(resources)
    key = (
        id(spec),
        con.name,
        whole,
        left_out(spec, absent),
        # (the tables whose `Joined` is read as None: told by ``left_out`` already, kept explicit)
        tuple(sorted(never_found(spec.rows, absent))),
        tuple(sorted((r, tuple(t.schema().items())) for r, t in resources.items())),
        tuple(duckdb_table(con, encounters).schema().items()),
        sql_shape(load_codes()),
        tuple(con.table(merged).schema().items()) if merged is not None else None,
        tuple(con.table(by_identifier).schema().items()) if by_identifier is not None else None,
        tuple(sorted(unique)),
        tuple(sorted(repeated)),
        configured_time_zone(),  # the zone its instants are dated in (`_zone_day`)
    )
    plan = _PLANS.get(key)
    stored = False
    if plan is None:
        # the key on disk: the definition by value, and what of the value sets its SQL holds
        disk_key = plan_cache.plan_key(spec, key[1:])
        kept = plan_cache.load_plan(disk_key)
        if kept is not None:
            plan = _Plan(**kept)
        else:
            # one process compiles a plan at a time; one that waited for it reads it kept
            with plan_cache.compiling(disk_key):
                kept = plan_cache.load_plan(disk_key)
                if kept is not None:
                    plan = _Plan(**kept)
                else:
                    # compiling stores every table as it goes: this call's tables exist already
                    plan = _record_plan(
                        con,
                        spec,
                        resources,
                        encounters,
                        prefix,
                        whole,
                        merged,
                        absent,
                        by_identifier,
                        unique,
                        repeated,
                    )
                    plan_cache.save_plan(disk_key, dataclasses.asdict(plan))
                    stored = True
        _PLANS[key] = plan
    names = {f"@in_{r}@": name for r, name in inputs.items()}
    names |= {"@encounters@": encounters, "@prefix@": prefix, _VALUE_CODES: value_codes}
    if merged is not None:
        names["@merged@"] = merged
    if by_identifier is not None:
        names[_BY_IDENTIFIER] = by_identifier

    def real(text: str) -> str:
        for placeholder, name in names.items():
            text = text.replace(placeholder, name)
        return text

    outputs = {*plan.rows.values(), plan.episodes, plan.problems}
    done = _done_after(
        plan.statements, outputs, {f"@in_{r}@" for r in inputs} if drop_inputs else set()
    )
    replayed = _views_inlined(plan.statements) if con.name == "duckdb" else None
    appends = set(plan.appends)
    # (DuckDB's appends only: a table is always made, by its first part)
    no_rows = _parts_without_rows(plan, spec, resources) if replayed is not None else frozenset()
    for i, (table, sql) in enumerate(plan.statements):
        if i in no_rows:
            pass
        elif replayed is not None and not stored:
            inlined = replayed[i]
            if inlined is not None:  # (a view: written into the statements reading it)
                made = _append if i in appends else _store
                made(con, real(table), real(inlined))
        elif not stored:
            _store(con, real(table), real(sql))
        if con.name != "pyspark":
            for name in done.get(i, ()):
                _drop(con, real(name), name.startswith("@in_"))
    problems = (
        duckdb_table(con, real(plan.problems))
        if plan.problems is not None
        else _no_problems(con, f"{prefix}_no_problems")
    )
    return CompiledRecords(
        _TablesByName(con, {k: real(v) for k, v in plan.rows.items()}),
        problems,
        duckdb_table(con, real(plan.episodes)),
        plan.types,
    )


def _views_inlined(statements: Sequence[tuple[str, str]]) -> list[str | None]:
    """Each statement of a DuckDB plan with the views it reads written into it as subqueries,
    each opened by a comment naming its view (so `_store` still sees that it reads one, and
    plans it without `_PULLUP`); a view's own statement None: it is not created. DuckDB binds a view's query when the view is created and again
    in each statement that reads it (a view is expanded where it is read, so its rows and plan
    are the same either way): created, the 41 views of the audit's plan cost about a fifth of
    the CPU its statements take on a small export (docs/speed.md, FHIR round 17). ibis always
    reads a table under an alias (``FROM "v" AS "t0"``), so the name gives way to the
    subquery."""
    bodies: dict[str, str] = {}
    out: list[str | None] = []
    for table, sql in statements:
        for name, body in bodies.items():
            quoted = f'"{name}"'
            if quoted in sql:
                sql = sql.replace(quoted, f"(/* {name} */ {body})")
        if _VIEW in table:
            bodies[table] = sql
            out.append(None)
        else:
            out.append(sql)
    return out


def _done_after(
    statements: Sequence[tuple[str, str]], outputs: set[str | None], inputs: set[str]
) -> dict[int, list[str]]:
    """For each statement, the stored tables (and ``inputs``) no later statement reads: the
    statement that last reads them, through the views it reads too (a view is read when a
    table is made from it); an input none reads, the first. Views and ``outputs`` are kept."""
    names = {t for t, _ in statements} | inputs
    named = _names_in(names)
    reads: dict[str, set[str]] = {}  # a view -> the stored tables it reads
    last: dict[str, int] = {}
    for i, (table, sql) in enumerate(statements):
        used: set[str] = set()
        for name in set(named(sql)):
            used |= reads.get(name, {name})
        if _VIEW in table:
            reads[table] = used
            continue
        last[table] = max(last.get(table, i), i)
        for name in used:
            last[name] = i
    out: dict[int, list[str]] = {}
    for name, i in last.items():
        if name not in outputs and (name in inputs or _VIEW not in name):
            out.setdefault(i, []).append(name)
    # an input no statement reads (a type with no line: `LoadedResources.absent`) after the first
    out.setdefault(0, []).extend(sorted(n for n in inputs if n not in last and n not in outputs))
    return out


def _names_in(names: Iterable[str]) -> Callable[[str], list[str]]:
    """The ``names`` a statement's SQL names, quoted as DuckDB (``"name"``) or Spark
    (`` `name` ``) quotes them, found in one pass over the SQL: a search for each name was
    0.03-0.04 s of every DuckDB reading (some 90 names over a plan of a million characters:
    docs/speed.md, FHIR round 18).
    The closing quote is only looked at, never taken, so a name right after another is found
    too (and of two names, one the start of the other, the one the quote closes)."""
    alternatives = "|".join(re.escape(n) for n in sorted(names))
    if not alternatives:
        return lambda sql: []
    pattern = re.compile(f'"({alternatives})(?=")|`({alternatives})(?=`)')
    return lambda sql: [a or b for a, b in pattern.findall(sql)]


def drop_input(con: Any, table: ir_t.Table) -> None:
    """Free a resource table `load_resources` made on DuckDB (its view and the typed table)."""
    _drop(con, table.get_name(), is_input=True)


def _drop(con: Any, name: str, is_input: bool) -> None:
    if is_input:  # `_load_duckdb`'s view and its table
        con.raw_sql(f'DROP VIEW IF EXISTS "{name}"')
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}_typed"')
    else:
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


def _record_plan(
    con: Any,
    spec: rec.EpisodeSpec,
    resources: Mapping[str, ir_t.Table],
    encounters: str,
    prefix: str,
    whole: bool,
    merged: str | None = None,
    absent: frozenset[str] = frozenset(),
    by_identifier: str | None = None,
    unique: frozenset[str] = frozenset(),
    repeated: frozenset[str] = frozenset(),
) -> _Plan:
    """Compile the reading once, storing its tables, and note each statement as a template."""
    placeholders = {name.get_name(): f"@in_{r}@" for r, name in resources.items()}
    placeholders[encounters] = "@encounters@"
    if merged is not None:
        placeholders[merged] = "@merged@"
    if by_identifier is not None:
        placeholders[by_identifier] = _BY_IDENTIFIER
    placeholders[value_codes_table(con).get_name()] = _VALUE_CODES
    statements: list[tuple[str, str]] = []
    appends: list[int] = []
    # each row spec's part (its ibis node) -> its position in ``spec.rows``; and each append
    # made of one, with that position (`_Plan.part_rows`)
    part_of: dict[Any, int] = {}
    part_rows: list[tuple[int, int]] = []
    names = itertools.count()

    def template(text: str) -> str:
        for name, placeholder in placeholders.items():
            for quoted in _quoted(con, name):
                text = text.replace(quoted, quoted.replace(name, placeholder))
        return text.replace(f"{prefix}_", "@prefix@_")

    def keep(table: ir_t.Table, name: str) -> ir_t.Table:
        full = f"{prefix}_{name}_{next(names)}"
        # DuckDB's statements with a kept column list as `*` (`sql_star`) and a list unnested
        # in the select list, not as a lateral join (`select_unnest`); Spark's as ibis writes
        # them. On DuckDB a stored union is made by its first part, the others appended
        # (`union_parts`); Spark's, and a view, is one statement.
        duckdb = con.name == "duckdb"
        parts = union_parts(table) if duckdb and _VIEW not in full else [table]
        for i, part in enumerate(parts):
            with columns_as_star(duckdb), unnests_in_select(duckdb):
                sql = str(con.compile(part))
            if i == 0:
                _store(con, full, sql)
            else:
                _append(con, full, sql)
                appends.append(len(statements))
                row = part_of.get(part.op())
                if row is not None:
                    part_rows.append((len(statements), row))
            statements.append((template(full), template(sql)))
        if duckdb and _VIEW in full:
            return new_view(con, full)  # (not bound again through the views under it)
        return con.table(full)

    merged_table = con.table(merged) if merged is not None else None
    tied_table = con.table(by_identifier) if by_identifier is not None else None
    # a list's first item by the engine's index that is NULL past the end (`first_item`);
    # three of ibis's per-node answers remembered for the compile (`compile_memos`); the
    # garbage collector run less often (`compile_gc`: a fifth of the compile's CPU)
    with first_items_for(con.name), memoised_ibis_walks(), fewer_collections():
        out = compile_records(
            spec,
            resources,
            lambda rows: con.table(encounters),
            whole,
            keep,
            merged_table,
            absent,
            tied_table,
            unique,
            repeated,
            part_of,
        )
        assert out.episodes is not None
        episodes = keep(out.episodes, "episodes").get_name()
        rows = {k: template(t.get_name()) for k, t in out.rows.items()}
        problems = None
        if spec.problems or any(r.checks for r in spec.rows):
            problems = template(keep(out.problems, "problems").get_name())
    return _Plan(statements, rows, template(episodes), problems, out.types, appends, part_rows)


def _gives_no_row(row: rec.RowSpec, absent: frozenset[str], empty: frozenset[str]) -> bool:
    """Does the row spec ``row`` give no row, whatever its SQL: its type has no line (each of
    its rows is a resource of that type, or an item of one), or its condition needs a row of a
    table in ``empty`` (`needed_joins`)? `_kept` leaves such specs out of a specialised plan,
    but for `compiled_when_absent`."""
    return row.resource in absent or any(j.table in empty for j in joins_needed(row.when))


def _parts_without_rows(
    plan: _Plan, spec: rec.EpisodeSpec, resources: Mapping[str, ir_t.Table]
) -> frozenset[int]:
    """The appends of ``plan`` that a replay on ``resources`` leaves out: each the part of a row
    spec that gives no row of this export (`_gives_no_row`, by the types with no line,
    `LoadedResources.absent`, known whichever plan is read). Its INSERT would add nothing and
    cost DuckDB its parse, bind and plan: a small export reads the general plan (`plan_choice`),
    every type's parts in it (an export without scan reports spent about 0.6 CPU s of a 2.8 s
    audit on them, stop 54). An append adds rows only, so the table is the same."""
    absent = resources.absent if isinstance(resources, LoadedResources) else frozenset()
    if not absent or not plan.part_rows:
        return frozenset()
    empty = empty_tables(spec.rows, absent)
    return frozenset(i for i, k in plan.part_rows if _gives_no_row(spec.rows[k], absent, empty))
