"""One patient's whole reading as one generated Python function: the records engine's fast path.

`earlypath.records.python` compiles each node of the definition into a closure (the reference)
and fuses the expressions of each row spec, aggregate and problem table into small generated
functions, glued together per call by a `Scope`, reducers and evidence notes. Here the
definition's nodes are walked once more (per definition and value sets, as the closures are
kept) and written as the source of ONE function of (resources, assessed_on, encounter,
patient) that gives the steps' values, the problems and the evidence:

- layer 1: the resources grouped by type, each row spec's generated row function (the fused
  one of `python_source`, which reads only the fields the definition names and tests value-set
  membership on frozensets of (system, code)) called in a loop written for that spec;
- layer 2: every step in order as straight-line code, the context (``assessed_on``, earlier
  steps) in local variables: consecutive aggregates over one table are one loop over its rows
  with each aggregate's reduction (latest, max, any, count of distinct values, collect) written
  inline, the nodes they share computed once a row (so where a row falls on the pregnancy
  timeline is computed once for all of them); `rir.Days` groups by day inline and reduces
  every column of a day in one pass over its rows; an aggregate inside a step's expression is
  a function written beside the reading (once, not per call), called where the closures would
  call it with the reading's locals it reads as arguments;
- the encounter's problems, per table, and the evidence noted in the order the reference notes
  it (the card shows both, in that order).

A node this module does not know makes the generation fail (`Unsupported`): the definition is
then read by the reference path, never with the node skipped. A call that raises (a value of a
type no rule expects) answers None and the caller reads the record by the reference path.
tests/records/test_generated_reading.py holds this == the closures on generated records.
Nothing here logs: the input is patient data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from earlypath.errors import Problem
from earlypath.records import ir as rir
from earlypath.records import native
from earlypath.records.aggregates import note_rows, note_rows_at
from earlypath.records.inlined_helpers import GLOBALS as INLINED_GLOBALS
from earlypath.records.inlined_helpers import helpers_for
from earlypath.records.item_rows import items_only, ref_source, with_items, with_its_items
from earlypath.records.json_values import show
from earlypath.records.needed_joins import joins_needed
from earlypath.records.python_source import (
    SKIP,
    Fn,
    _children,
    _count_uses,
    _never_none,
    _Source,
    drop_unread_bindings,
)
from earlypath.records.row_guard import necessary
from earlypath.rules import ir

__all__ = ["Unsupported", "generate_reading", "reads_any", "row_roots"]

# (resources, assessed_on, encounter, patient) -> (values, problems, evidence), or None
ReadingFn = Callable[..., tuple[dict[str, Any], list[Problem], dict[str, list[str]]] | None]

_CONTEXT = ("assessed_on", "encounter")
_OPS = ("any", "all", "max", "min", "count_distinct", "latest", "collect")
# What each aggregate gives over no rows (`_finish` of its initial statements), as source; no
# evidence is noted then. A new list for each collect.
_OF_NO_ROWS = {
    "any": "None",
    "all": "None",
    "max": "None",
    "min": "None",
    "count_distinct": "0",
    "latest": "None",
    "collect": "[]",
}


class Unsupported(Exception):
    """A node or shape of the definition this generator does not write: read by the reference."""


def _refuse(e: Any) -> Any:
    raise Unsupported(type(e).__name__)


class _Expr(_Source):
    """The source of expressions over the row being read (``row``) and the context, inside the
    one function: a step is read from its local, an aggregate inside an expression is a call of
    a nested function, and any other node without a rule here is refused."""

    def __init__(
        self,
        gen: _Generator,
        roots: Sequence[ir.Expr],
        rows: str | None = None,
        loop: int | None = None,
        store: bool = True,
        layout: dict[str, int] | None = None,
    ):
        super().__init__("scope", gen.helpers, _refuse, _count_uses(roots))
        # ``row`` is a list (`_Generator.layouts`): a column, or a value kept, read by position
        self.layout = layout
        self.names = gen.names  # one namespace of constants for the whole function
        self.prefix = gen.fresh("v") + "_"
        self.gen = gen
        # a loop of the reading itself over these rows (every row, in order, once): a value of
        # a row that another such loop computes too is kept in the row (`_Generator.memo`);
        # ``store``: this source's statements run for every row (not inside a condition)
        self.rows, self.store = rows, store
        self.loop = gen.fresh_loop() if loop is None and rows is not None else loop

    def ref(self, e: ir.Expr) -> tuple[str, str]:
        key = self.gen.row_value(self, e)
        if key is None or e in self.shared:
            return super().ref(e)
        at = self.at(key)
        if key in self.gen.stored:  # computed by an earlier loop over these rows
            self.gen.read.add(key)
            return self.bound(e, f"row[{at}]")
        # the first loop that computes it: for every row, kept in the row for the later ones
        name = self.fresh()
        self.lines.append(f"    {name} = {self.code(e)}")
        self.lines.append(f"    row[{at}] = {name}")
        self.shared[e] = name
        self.gen.stored.add(key)
        return name, name

    def at(self, name: str) -> str:
        """The subscript of a row's column or kept value: its position in a row held as a list,
        else its name. A name a list row lacks stays a name (the row then raises, as a dict row
        without it does, and the reference reads the record)."""
        if self.layout is not None and name in self.layout:
            return str(self.layout[name])
        return repr(name)

    def true_test(self, e: ir.Expr) -> str:
        if self.gen.row_value(self, e) is None:
            return super().true_test(e)
        first = self.ref(e)[0]
        return f"({first})" if _never_none(e) else f"({first} is True)"

    def code(self, e: ir.Expr) -> str:
        if isinstance(e, rir.Ctx):
            return self.gen.context(e.name)
        if isinstance(e, rir.Agg):
            return self.gen.nested_agg(e)
        if isinstance(e, rir.Days | rir.Field | rir.Concept | ir.Fact):
            raise Unsupported(type(e).__name__)
        if isinstance(e, rir.Col):
            return f"row[{self.at(e.name)}]"
        return super().code(e)

    def block(self, indent: int) -> list[str]:
        """The shared statements, at this indentation."""
        pad = "    " * indent
        return [pad + line.strip() for line in self.lines]


class _RowSource(_Source):
    """The source of a row spec's reading of the resource ``j`` inside the one function
    (`_Generator.row_of_j`): as `python_source` writes it, but a `rir.Joined` written inline,
    a look-up in its index (a local of the type function, fetched once a visit by the
    reading: `_Generator.join_index`), where its closure would fetch the index, read the key
    and the patient again and build the (patient, id) tuple at each probe (stop 28: 24 probes
    a reading, 8 an Observation). The (patient, id) of the probes of one row is built once."""

    def __init__(self, gen: _Generator, roots: Sequence[ir.Expr]):
        assert gen.closure is not None  # noqa: S101 - only for the grouped specs
        super().__init__("json", gen.helpers, gen.closure, _count_uses(roots, _row_children))
        self.gen = gen
        self.names = gen.names  # one namespace of constants for the whole function
        self.prefix = gen.fresh("w") + "_"

    def code(self, e: ir.Expr) -> str:
        table = _repeated(e)
        if table is not None and table in self.gen.tables:
            # where `_State.once` holds for its table (each (patient, id) on one row: the usual
            # record), the two look-ups find one row or none, so the test is False without
            # them; the flag is asked once a reading (``once_<table>``, an argument)
            self.gen.once_here.add(table)
            return f"(not once_{table} and {super().code(e)})"
        if not isinstance(e, rir.Joined):
            return super().code(e)
        index = self.gen.join_index(e)
        found = self.fresh()
        # the index holds no None key (`_State.index` leaves out rows without an id), so a
        # key that is None finds no row: None, as the closure answers it
        return (
            f"(None if ({found} := {index}.get({self.join_key(e)})) is None"
            f" else {self.dict_get(found, repr(e.column))})"
        )

    def dict_get(self, parent: str, key: str) -> str:
        # written as the unbound method: Cython compiles it as a dict look-up, not a method
        # looked up and called (stop 41); the exec'd source reads the same value
        return f"dict.get({parent}, {key})"

    def true_test(self, e: ir.Expr) -> str:
        # "x == <a join>" tests the join first: most joins find no row (an Observation's
        # chosen version, when no id repeats), and then x is not computed (a version's rank)
        if (
            isinstance(e, ir.Cmp)
            and e.op in ("==", "!=")
            and isinstance(e.right, rir.Joined)
            and not isinstance(e.left, rir.Joined)
            and e not in self.shared
            and self.uses.get(e, 0) < 2
        ):
            return super().true_test(ir.Cmp(e.op, e.right, e.left))
        return super().true_test(e)

    def join_key(self, e: rir.Joined) -> str:
        """The key of ``e``'s index: the key, or with ``patient`` the (patient, key) tuple,
        a statement of its own when several probes read it."""
        if e.patient is None:
            return self.ref(e.key)[0]
        at = _hers_key(e)
        found = self.shared.get(at)
        if found is not None:
            return found
        # one woman's record (`_State.one_record`, the CDS call): the patient not compared,
        # as `_State.index` keys her rows then (stop 29: her merged-away ids' versions too)
        code = f"(None if STATE.one_record else {self.ref(e.patient)[0]}, {self.ref(e.key)[0]})"
        if self.uses.get(at, 0) < 2:
            return code
        name = self.fresh()
        self.lines.append(f"    {name} = {code}")
        self.shared[at] = name
        return name


def _hers_key(e: rir.Joined) -> tuple[str, Any, Any]:
    """The (patient, key) a `rir.Joined` with ``patient`` looks up, as a node of the source."""
    return ("hers", e.patient, e.key)


def _row_children(e: Any) -> list[Any]:
    """What `_RowSource` reads of a node: a `rir.Joined`'s key (with ``patient``, the
    (patient, key) tuple, whose parts are the patient and the key), else `_children`."""
    if isinstance(e, rir.Joined):
        return [e.key] if e.patient is None else [_hers_key(e)]
    if isinstance(e, tuple) and e and e[0] == "hers":
        return [e[1], e[2]]
    return _children(e)


Item = Callable[[str, str, list[tuple[str, str]]], list[str]]


def _reduction(op: str, acc: str, rows: bool = True) -> tuple[list[str], Item]:
    """The inline code of one aggregate (`earlypath.records.aggregates.reducer`, same answers):
    its initial statements, and a writer of its per-row statements (from the row's name, its
    value as an expression and its orders as (first, again) pairs, computed only there). After
    the rows, ``{acc}_val`` is the value, by `_finish`, and with ``rows`` ``{acc}_used`` the rows
    it rests on. Without ``rows`` (an aggregate whose evidence is not noted) no row is listed:
    flags for any/all, the best value alone for max/min (only values that are not None are
    kept, so None is "no value yet"), the latest's key and value."""
    if op in ("any", "all"):
        # _f: a row gave a value; _d: a row gave the value that decides (True for any)
        init = (
            [f"{acc}_f = []", f"{acc}_d = []"] if rows else [f"{acc}_f = False", f"{acc}_d = False"]
        )

        def either(row: str, value: str, orders: list[tuple[str, str]]) -> list[str]:
            test = f"{acc}_v" if op == "any" else f"not {acc}_v"  # bool(v) is the stop
            seen, hit = (f"{acc}_f.append({row})", f"{acc}_d.append({row})") if rows else (
                f"{acc}_f = True", f"{acc}_d = True")  # fmt: skip
            return [f"{acc}_v = {value}", f"if {acc}_v is not None:", f"    {seen}",
                    f"    if {test}:", f"        {hit}"]  # fmt: skip

        return init, either
    if op in ("max", "min", "count_distinct", "collect"):
        init = [f"{acc}_f = []"] if rows else []
        init += {
            "max": [f"{acc}_b = None"],
            "min": [f"{acc}_b = None"],
            "count_distinct": [f"{acc}_s = set()"],
            "collect": [f"{acc}_l = []"],
        }[op]

        def item(row: str, value: str, orders: list[tuple[str, str]]) -> list[str]:
            head = [f"{acc}_v = {value}", f"if {acc}_v is not None:"]
            listed = [f"    {acc}_f.append({row})"] if rows else []
            if op in ("max", "min"):
                cmp = ">" if op == "max" else "<"  # max/min keep the first of equal values
                first = f"not {acc}_f" if rows else f"{acc}_b is None"
                return [*head, f"    if {first} or {acc}_v {cmp} {acc}_b:",
                        f"        {acc}_b = {acc}_v", *listed]  # fmt: skip
            if op == "count_distinct":
                return [*head, *listed, f"    {acc}_s.add({acc}_v)"]
            return [*head, *listed, f"    {acc}_l.append({acc}_v)"]

        return init, item
    if op == "latest":
        init = [f"{acc}_k = None", f"{acc}_b = None"] + ([f"{acc}_r = None"] if rows else [])

        def latest(row: str, value: str, orders: list[tuple[str, str]]) -> list[str]:
            # the order key of `aggregates._order_key`: None below every value; of equal keys
            # the first row stays (max keeps its first)
            key = "".join(f"((False, 0) if {o} is None else (True, {a})), " for o, a in orders)
            keep = f"{acc}_k, {acc}_b, {acc}_r = {acc}_n, {acc}_v, {row}" if rows else (
                f"{acc}_k, {acc}_b = {acc}_n, {acc}_v")  # fmt: skip
            return [
                f"{acc}_v = {value}",
                f"{acc}_n = ({key})",
                f"if {acc}_k is None or {acc}_n > {acc}_k:",
                f"    {keep}",
            ]

        return init, latest
    raise Unsupported(f"aggregate {op!r}")


# The value of an aggregate whose evidence is every row it read (``{acc}_f``), written from its
# accumulator; "any", "all" and "latest" choose their evidence (`_finish`).
_FOLDED = {
    "max": "{acc}_b",
    "min": "{acc}_b",
    "count_distinct": "len({acc}_s)",
    "collect": "{acc}_l",
}


def _finish(op: str, acc: str, rows: bool = True) -> list[str]:
    """The lines giving an aggregate's value (``{acc}_val``) and, with ``rows``, the rows it
    used (``{acc}_used``, its evidence); without, the value alone."""
    folded = _FOLDED.get(op)
    if folded is not None:
        value = folded.format(acc=acc)
        return [f"{acc}_val, {acc}_used = {value}, {acc}_f" if rows else f"{acc}_val = {value}"]
    if op == "any" or op == "all":
        stop = op == "any"
        if not rows:
            return [f"{acc}_val = {stop} if {acc}_d else ({not stop} if {acc}_f else None)"]
        return [
            f"if {acc}_d:",
            f"    {acc}_val, {acc}_used = {stop}, {acc}_d",
            f"elif {acc}_f:",
            f"    {acc}_val, {acc}_used = {not stop}, {acc}_f",
            "else:",
            f"    {acc}_val, {acc}_used = None, {acc}_f",
        ]
    if not rows:
        return [f"{acc}_val = None if {acc}_k is None else {acc}_b"]
    return [
        f"if {acc}_k is None:",
        f"    {acc}_val, {acc}_used = None, []",
        "else:",
        f"    {acc}_val, {acc}_used = {acc}_b, [{acc}_r]",
    ]


def _order_needed(op: str) -> bool:
    return op == "latest"  # the other aggregates' answers do not depend on the order


class _Generator:
    """Writes the one function of a compiled definition (see the module's docstring)."""

    def __init__(
        self,
        spec: rir.EpisodeSpec,
        compiled: Any,
        helpers: dict[str, Any],
        closure: Callable[[ir.Expr], Fn] | None = None,
    ):
        self.spec = spec
        self.compiled = compiled
        self.helpers = helpers
        self.closure = closure  # a node's closure (the reference), for the row specs' source
        # a row's ``ref`` as source, for an object of a known type (`ref_of`); None: by REF
        self.ref_code: Callable[[str, str, str], str] | None = None
        self.names: dict[str, Any] = {
            **helpers,
            "EMPTY": frozenset(),
            "SKIP": SKIP,
            "NOTE": note_rows,
            "SHOW": show,
            "PROBLEM": Problem,
            "STATE": compiled.state,
            "NO_ROWS": MappingProxyType({}),  # the index of a table without rows (read only)
        }
        self.count = 0
        self.known: dict[str, str] = {name: f"x_{name}" for name in _CONTEXT}
        self.tables = {r.table for r in spec.rows}
        self.functions: list[str] = []  # functions the reading calls, defined before it
        # the reading's locals read by each aggregate function being written (innermost last)
        self.reads: list[set[str]] = []
        self.used_tables: set[str] = set()
        # values of a row kept in it for later loops over the same rows (`row_value`): by
        # (the rows' local, node), the row's key; those stored so far and those read again
        self.memo: dict[tuple[str, Any], str] = {}
        self.stored: set[str] = set()
        self.read: set[str] = set()
        self.recording = False  # a first writing, noting which loops compute which values
        self.seen: dict[tuple[str, Any], set[int]] = {}
        self.loops = 0
        self.memo_ok = len({n for n, _ in spec.steps}) == len(spec.steps)  # a step set once
        # tables whose rows are lists, by the position of each column and kept value (`layout`)
        self.layouts: dict[str, dict[str, int]] = {}
        # the indexes of `rir.Joined` (`_State.index` arguments) by their local's name: every
        # one of the reading, and those of the type function being written
        self.join_locals: dict[tuple[str, tuple[str, ...], bool, bool], str] = {}
        self.joins_here: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
        # the tables whose `_State.once` the type function being written reads (``once_<t>``)
        self.once_here: set[str] = set()

    def fresh_loop(self) -> int:
        self.loops += 1
        return self.loops

    def row_value(self, src: _Expr, e: ir.Expr) -> str | None:
        """The key a row keeps the value of ``e`` under, when ``src`` (a loop of the reading over
        every row of a table) reads it there: stored by the first loop that computes it, read
        by the later ones (where a row falls on the pregnancy timeline: three loops and the
        problems' messages over the clinical rows). Only for a value of the row and of steps
        already computed (so the same in every loop), worth keeping (`_ROW_VALUE_NODES`), in
        the loops of the reading itself (an aggregate's function may run before the loop that
        stores it, or not at all). The first writing (``recording``) notes the loops that
        compute each; `generate_reading` keeps those that two loops or more compute."""
        if src.rows is None or self.reads or not self.memo_ok:
            return None
        if isinstance(e, rir.Col | rir.Ctx | ir.Const):
            return None
        found = _row_node(e)
        if found is None or found[1] < _ROW_VALUE_NODES:
            return None
        if any(name not in self.known for name in found[0]):
            return None
        at = (src.rows, e)
        if self.recording:
            if src.loop is not None:
                self.seen.setdefault(at, set()).add(src.loop)
            return None
        key = self.memo.get(at)
        if key is None or (key not in self.stored and not src.store):
            return None
        return key

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def join_index(self, e: rir.Joined) -> str:
        """The local holding the index ``e`` looks up (`_State.index` of its table, order,
        least and patient), an argument of the type function being written."""
        at = (e.table, e.order, e.least, e.patient is not None)
        name = self.join_locals.get(at)
        if name is None:
            name = self.join_locals[at] = f"jx{len(self.join_locals)}"
        self.joins_here[name] = at
        return name

    def const(self, value: Any) -> str:
        name = f"k{len(self.names)}"
        self.names[name] = value
        return name

    def context(self, name: str) -> str:
        # a name not yet computed is None, as the closures' ``ctx.get`` reads it
        local = self.known.get(name)
        if local is None:
            return "None"
        return self.local(local)

    def rows(self, table: str) -> str:
        self.used_tables.add(table)
        return self.local(f"rows_{table}")

    def local(self, name: str) -> str:
        """A local of the reading, read here: an argument of every aggregate function being
        written around this point (they are defined outside the reading)."""
        for found in self.reads:
            found.add(name)
        return name

    # --- aggregates -----------------------------------------------------------------------

    def agg_loop(
        self, aggs: Sequence[tuple[str, rir.Agg]], indent: int
    ) -> tuple[list[str], list[list[str]]]:
        """Aggregates over one table as one loop over its rows (the nodes they share computed
        once a row), and per aggregate the lines that then give ``{acc}_val`` and note its
        evidence (accumulator names: the first of each pair)."""
        pad = "    " * indent
        roots: list[ir.Expr] = []
        for _, a in aggs:
            roots += [a.where, a.value, *(a.order if _order_needed(a.op) else ())]
        layout = self.layouts.get(aggs[0][1].table)
        table = self.rows(aggs[0][1].table)
        src = _Expr(self, roots, rows=None if self.reads else table, layout=layout)
        body: list[str] = []
        init: list[str] = []
        finishes: list[list[str]] = []
        for acc, a in aggs:
            if a.op not in _OPS:
                raise Unsupported(f"aggregate {a.op!r}")
            start, item = _reduction(a.op, acc, rows=a.evidence is not None)
            init += start
            where = src.true_test(a.where)
            value = src.ref(a.value)[0]
            orders = [src.ref(o) for o in a.order] if _order_needed(a.op) else []
            body += [
                f"if {where}:",
                *(f"    {line}" for line in item("row", value, orders)),
            ]
            finish = _finish(a.op, acc, rows=a.evidence is not None)
            if a.evidence is not None:
                evidence = self.local("evidence")
                note = self.note(evidence, a.evidence, f"{acc}_used", layout)
                finish += [f"if {acc}_used:", f"    {note}"]
            finishes.append([pad + line for line in finish])
        lines = [*(pad + line for line in init), f"{pad}for row in {table}:"]
        lines += src.block(indent + 1)
        lines += [f"{pad}    {line}" for line in body]
        return lines, finishes

    def note(self, evidence: str, fact: str, rows: str, layout: dict[str, int] | None) -> str:
        """The call noting the refs of ``rows`` (of one table) as the evidence of ``fact``."""
        if layout is None:
            return f"NOTE({evidence}, {fact!r}, {rows})"
        return f"NOTE_AT({evidence}, {fact!r}, {rows}, {layout['ref']})"

    def nested_agg(self, a: rir.Agg) -> str:
        """An aggregate inside an expression: a function defined once beside the reading (not
        a nested one, which every call would define again with closure cells for what it
        reads), given the reading's locals it reads as arguments; the call, written where the
        closures would call it (so it runs only there), and only when its table has rows: over
        none its value is known (`_OF_NO_ROWS`), and most records have no requests or
        statements, which six of these read."""
        name = self.fresh("agg")
        acc = self.fresh("n")
        self.reads.append(set())
        try:
            loop, (finish,) = self.agg_loop([(acc, a)], 1)
        finally:
            reads = sorted(self.reads.pop())
        for local in reads:  # an aggregate around this one passes them on
            self.local(local)
        args = ", ".join(reads)
        self.functions += [f"def {name}({args}):", *loop, *finish, f"    return {acc}_val"]
        return f"({name}({args}) if {self.rows(a.table)} else {_OF_NO_ROWS[a.op]})"

    # --- steps ----------------------------------------------------------------------------

    def steps(self) -> list[str]:
        """Every step in order. Consecutive aggregates over one table that do not read each
        other are one loop; a later aggregate over that table that reads no step computed from
        the loop's first on joins the loop too (its value assigned, its evidence noted, at its
        own place: the order of the notes and what every step reads stay the reference's)."""
        out: list[str] = []
        steps = self.spec.steps
        names = [name for name, _ in steps]
        hoist = len(set(names)) == len(names)
        run: list[tuple[int, str, rir.Agg]] = []
        deferred: dict[int, tuple[str, list[str]]] = {}  # step -> (its accumulator, lines)

        def flush_run() -> None:
            if not run:
                return
            start, table, members = run[0][0], run[0][2].table, list(run)
            for j in range(run[-1][0] + 1, len(steps)) if hoist else ():
                e = steps[j][1]
                if (
                    isinstance(e, rir.Agg)
                    and e.table == table
                    and j not in deferred
                    and not reads_any(e, set(names[start:j]))
                ):
                    members.append((j, steps[j][0], e))
            accs = [(self.fresh("a"), a) for _, _, a in members]
            lines, finishes = self.agg_loop(accs, 1)
            out.extend(lines)
            for (j, name, _), (acc, _), finish in zip(members, accs, finishes, strict=True):
                if j <= run[-1][0]:
                    out.extend(finish)
                    out.append(f"    {self.step_local(name)} = {acc}_val")
                else:
                    deferred[j] = (acc, finish)
            run.clear()

        for i, (name, e) in enumerate(steps):
            joins = (
                isinstance(e, rir.Agg)
                and i not in deferred
                and (not run or run[0][2].table == e.table)
                and not reads_any(e, {n for _, n, _ in run})
            )
            if not joins:
                flush_run()
            if i in deferred:  # computed in an earlier loop
                acc, finish = deferred[i]
                out.extend(finish)
                out.append(f"    {self.step_local(name)} = {acc}_val")
            elif isinstance(e, rir.Agg):
                run.append((i, name, e))
            elif isinstance(e, rir.Days):
                out += self.days(name, e)
            else:
                src = _Expr(self, [e])
                value = src.ref(e)[0]
                out += src.block(1)
                out.append(f"    {self.step_local(name)} = {value}")
        flush_run()
        return out

    def step_local(self, name: str) -> str:
        if not name.isidentifier():
            raise Unsupported(f"step name {name!r}")
        local = self.known[name] = f"c_{name}"
        return local

    def days(self, name: str, e: rir.Days) -> list[str]:
        """`rir.Days`: the rows grouped by day, each day's columns reduced, carried, derived (as
        `earlypath.records.python._Compiler._days`)."""
        roots: list[ir.Expr] = [e.where, e.day]
        spans = []
        for column, a in e.columns:
            if a.op not in _OPS:
                raise Unsupported(f"aggregate {a.op!r}")
            start = len(roots)
            roots += [a.value, *(a.order if _order_needed(a.op) else ())]
            spans.append((column, a, start, len(roots)))
        layout = self.layouts.get(e.table)
        table = self.rows(e.table)
        src = _Expr(self, roots, rows=table, layout=layout)
        where, day = src.true_test(e.where), src.ref(e.day)[0]
        values = [src.ref(r)[0] for r in roots[2:]]
        by_day, rec = self.fresh("by_day"), self.fresh("rec")
        out = [f"    {by_day} = {{}}", f"    for row in {table}:"]
        out += src.block(2)
        out += [
            f"        if {where}:",
            f"            d = {day}",
            "            if d is not None:",
            f"                got = {by_day}.get(d)",
            f"                item = (row, ({''.join(f'{v}, ' for v in values)}))",
            "                if got is None:",
            f"                    {by_day}[d] = [item]",
            "                else:",
            "                    got.append(item)",
        ]
        local = self.step_local(name)
        out += [f"    {local} = []"]
        out += ["    carried = {}" if e.carry else "    pass"]
        out += [f"    for d in sorted({by_day}):", f"        listed = {by_day}[d]"]
        out += [f"        {rec} = {{'day': d}}"]
        # one pass over the day's rows for every column (each column's reduction reads only its
        # own accumulators), then each column's value and evidence in the columns' order
        accs = [self.fresh("d") for _ in spans]
        per_row: list[str] = []
        for (_, a, start, end), acc in zip(spans, accs, strict=True):
            init, item = _reduction(a.op, acc, rows=a.evidence is not None)
            out += [f"        {line}" for line in init]
            orders = [(f"vals[{i - 2}]", f"vals[{i - 2}]") for i in range(start + 1, end)]
            per_row += [f"            {line}" for line in item("row", f"vals[{start - 2}]", orders)]
        if per_row:
            out += ["        for row, vals in listed:", *per_row]
        for (column, a, _, _), acc in zip(spans, accs, strict=True):
            out += [f"        {line}" for line in _finish(a.op, acc, a.evidence is not None)]
            out += [f"        {rec}[{column!r}] = {acc}_val"]
            if a.evidence is not None:
                note = self.note("evidence", a.evidence, f"{acc}_used", layout)
                out += [f"        if {acc}_used:", f"            {note}"]
        for column in e.carry:
            out += [
                f"        if {rec}.get({column!r}) is None:",
                f"            {rec}[{column!r}] = carried.get({column!r})",
                "        else:",
                f"            carried[{column!r}] = {rec}[{column!r}]",
            ]
        if e.derived:
            out += [f"        row = {rec}"]
            for column, x in e.derived:
                dsrc = _Expr(self, [x])
                value = dsrc.ref(x)[0]
                out += dsrc.block(2)
                out += [f"        {rec}[{column!r}] = {value}"]
        out += [f"        {local}.append({rec})"]
        return out

    # --- problems -------------------------------------------------------------------------

    def message(
        self, message: rir.Message, indent: int, loop: _Expr | None = None
    ) -> tuple[list[str], str]:
        """A message's text, written inside the problem's test (in ``loop``, the problems' loop
        over the rows: it reads the values rows keep, and stores none)."""
        parts: list[str] = []
        lines: list[str] = []
        for p in message.parts:
            if isinstance(p, str):
                parts.append(self.const(p))
                continue
            src = (
                _Expr(self, [p])
                if loop is None
                else _Expr(
                    self, [p], rows=loop.rows, loop=loop.loop, store=False, layout=loop.layout
                )
            )
            value = src.ref(p)[0]
            lines += src.block(indent)
            parts.append(f"SHOW({value})")
        return lines, " + ".join(parts) if parts else "''"

    def problems(self) -> list[str]:
        tables: dict[str, list[rir.RowProblem]] = {}
        for p in self.spec.problems:
            tables.setdefault(p.table, []).append(p)
        out: list[str] = []
        for table, listed in tables.items():
            source = self.known.get(table) or self.rows(table)
            # a step's rows (the scans by day) are its value: nothing is kept in them
            kept = None if self.known.get(table) else source
            layout = None if self.known.get(table) else self.layouts.get(table)
            out += [f"    for row in {source}:"]
            loop = self.fresh_loop() if kept is not None else None
            for atoms, guard, run in self.guarded_runs(listed, layout):
                # the run's reads only on the rows its guard lets in: none kept in the row for
                # a later reader (``store``), as a message keeps none (the problems' loop is
                # the last over the rows)
                src = _Expr(
                    self, [p.where for p in run], rows=kept, loop=loop, store=False, layout=layout
                )
                flags = [src.true_test(p.where) for p in run]
                where = run[0].where
                first = where.items[0] if isinstance(where, ir.And) else where
                if len(run) == 1 and not src.lines and necessary(first) == atoms:
                    guard = None  # its own test begins with the guard's and reads nothing first
                indent = 2 if guard is None else 3
                if guard is not None:
                    out += [f"        if {guard}:"]
                out += src.block(indent)
                pad = "    " * indent
                for p, flag in zip(run, flags, strict=True):
                    lines, text = self.message(p.message, indent + 1, src)
                    if p.ref is not None:
                        ref_lines, ref = self.message(p.ref, indent + 1, src)
                        lines += ref_lines
                    else:
                        ref = f"row[{src.at('ref')}]"
                    out += [f"{pad}if {flag}:", *lines]
                    out += [f"{pad}    problems.append(PROBLEM({ref}, {text}))"]
        return out

    def guarded_runs(
        self, listed: Sequence[rir.RowProblem], layout: dict[str, int] | None
    ) -> list[tuple[Any, str | None, list[rir.RowProblem]]]:
        """The problems of one table in order, in runs of consecutive problems that share their
        guard (`row_guard.necessary`: small tests one of which holds whenever the problem's
        condition does), each with its guard's atoms and source; None: a problem tested as it
        is (no guard known). Most rows raise no problem: a run
        then costs its guard, not its conditions' reads and tests."""
        runs: list[tuple[Any, list[rir.RowProblem]]] = []
        for p in listed:
            atoms = necessary(p.where)
            if atoms is not None and (
                not atoms
                or any(isinstance(a, ir.IsNull) and isinstance(a.item, rir.Col) for a in atoms)
            ):
                # never True (kept as written), or a column's absence: true of most rows
                atoms = None
            if runs and atoms is not None and runs[-1][0] == atoms:
                runs[-1][1].append(p)
            else:
                runs.append((atoms, [p]))
        out: list[tuple[Any, str | None, list[rir.RowProblem]]] = []
        for atoms, run in runs:
            if atoms is None:
                out.append((None, None, run))
                continue
            # the atoms alone (no kept value read: they are too small to be kept), inline
            src = _Expr(self, list(atoms), layout=layout)
            tests = [src.true_test(a) for a in atoms]
            if src.lines:  # a statement of its own: not a guard's cheap test
                out.append((None, None, run))
                continue
            out.append((atoms, " or ".join(tests), run))
        return out

    # --- layer 1 and the whole function ---------------------------------------------------

    def rows_layer(self) -> list[str]:
        """Layer 1: the resources grouped by type, then the rows of every row spec."""
        out = [
            "    by_type = {}",
            "    n = 0",
            "    for res in resources:",
            "        n += 1",
            "        if type(res) is dict:",
            "            kind = res.get('resourceType')",
            "            if type(kind) is str:",
            "                got = by_type.get(kind)",
            "                if got is None:",
            "                    by_type[kind] = [(n, res)]",
            "                else:",
            "                    got.append((n, res))",
        ]
        tables = sorted(self.tables)
        out += [f"    t_{t} = []" for t in tables]
        # only the tables a `Joined` reads (`_State.index`): a dict of fewer entries to build
        # each call (the report versions' three tables, stop 27, made it resize)
        joined = sorted(set(tables) & spec_joined_tables(self.spec))
        out += ["    tables = {" + ", ".join(f"{t!r}: t_{t}" for t in joined) + "}"]
        out += ["    STATE.begin(tables)", "    checked = []"]
        by_kind = self.grouped()
        if by_kind is not None:
            last = None
            listed: dict[str, str] = {}
            counted = self.counted_first(by_kind)
            # `_State.once` of a table, answered by a local of the type's block (set where its
            # versions are counted): asked once, not again by each visit it skips
            answered: dict[str, str] = {}
            # by the type's `listed` local: a later block of the same type runs only where its
            # first did, so what that block asked unconditionally is known there too
            answers: dict[str, dict[str, str]] = {}
            for kind, specs in by_kind:
                key_only = counted.get(id(specs[0]))
                call = self.type_function(kind, specs, key_only)
                fetch = self.fetch_joins()
                # a type's later visits (the versions of a report or a finding ranked, then
                # chosen, then read) reuse its first look-up, even with another type's visits
                # between them: a record without the type pays one look-up
                name = listed.get(kind)
                if name is None:
                    name = listed[kind] = f"listed{len(listed)}"
                    out.append(f"    {name} = by_type.get({kind!r})")
                if kind != last:
                    out.append(f"    if {name}:")
                    answered = answers.setdefault(name, {})
                pad = "        "
                once = _empty_when_once(specs)
                if once:  # a visit that gives no row when no (patient, id) repeats: skipped
                    tests = " and ".join(
                        answered.get(t, f"STATE.once({t!r})") for t in sorted(once)
                    )
                    out.append(f"{pad}if not ({tests}):")
                    pad += "    "
                out += [pad + line for line in fetch]
                for t in sorted(self.once_here):
                    if answered.get(t) != f"once_{t}":
                        out.append(f"{pad}once_{t} = STATE.once({t!r})")
                out += [f"{pad}for n, j in {name}:", f"{pad}    {call}"]
                if key_only is not None:
                    # an id sent more than once: the rows written whole (the same rows, in
                    # the same list), for the visits that rank them
                    # the counted spec alone: the visit's other specs (of other tables,
                    # `counted_first`) wrote their rows whole the first time
                    whole = self.type_function(kind, specs[:1])
                    table = specs[0].spec.table
                    local = f"once_{table}"
                    if pad == "        ":  # not under a test: set for the block's later visits
                        answered[table] = local
                    out += [
                        f"{pad}if not ({local} := STATE.once({table!r})):",
                        f"{pad}    t_{table}.clear()",
                        f"{pad}    for n, j in {name}:",
                        f"{pad}        {whole}",
                    ]
                last = kind
            out += self.sorted_rows()
            return out
        for r in self.compiled.rows:
            table, fn = f"t_{r.spec.table}", self.const(r.values)
            out += [f"    listed = by_type.get({r.spec.resource!r})", "    if listed:"]
            if r.spec.items is not None:  # each item read as a resource of its own
                items = self.const(r.spec.items)
                out += [f"        listed = {self.const(with_items)}(listed, {items})"]
            out += ["        for n, res in listed:"]
            if r.outer:
                out += ["            STATE.resource = res"]
            if r.guarded:
                out += [f"            row = {fn}(res)", "            if row is not SKIP:"]
                out += [
                    f"                row['ref'] = {self.ref_of(r, 'res')}",
                    "                row['n'] = n",
                    f"                {table}.append(row)",
                ]
                continue
            when, checks = self.const(r.when), self.const(r.checks)
            out += [
                f"            if {when}(res) is not True:",
                "                continue",
                f"            ref = {self.ref_of(r, 'res')}",
                f"            failed = next((m for ok, m in {checks} if ok(res) is not True), None)",
                "            if failed is not None:",
                f"                checked.append((n, {self.order(r)}, PROBLEM(ref, failed(res))))",
                "                continue",
                f"            row = {fn}(res)",
                "            row['ref'] = ref",
                "            row['n'] = n",
                f"            {table}.append(row)",
            ]
        return out + self.sorted_rows()

    def order(self, r: Any) -> int:
        """The place of the row spec ``r`` in the definition (a problem's second sort key)."""
        return self.compiled.rows.index(r)

    def sorted_rows(self) -> list[str]:
        """The rows of a table several specs fill, and the checks' problems, in input order."""
        out = []
        for t in self.compiled.merged:
            layout = self.layouts.get(t)
            key = "BY_N" if layout is None else self.const(itemgetter(layout["n"]))
            out += [f"    if len(t_{t}) > 1:", f"        t_{t}.sort(key={key})"]
        # a resource's problems in the definition's order of its specs, as the closures give
        # them, though a type's specs that join a table it fills are read in a second visit
        out += ["    checked.sort(key=FIRST)", "    problems = [p for _, _, p in checked]"]
        return out

    def grouped(self) -> list[tuple[str, list[Any]]] | None:
        """The row specs by resource type (types in the order of their first spec), so that
        each resource is visited once for all its specs (twice when a spec joins a table its
        own type fills); None (one loop per spec, as the
        definition lists them) without the closures, or when a spec joins a table (`Joined`)
        whose filling specs would not all be read before it, as they are in the definition's
        order."""
        if self.closure is None:
            return None
        rows = list(self.compiled.rows)
        # a spec that joins a table filled from its own type (a report's findings read, joined
        # by the report) is read in a later visit of that type, once that table is whole: one
        # visit after the latest of the specs filling it (a report's versions ranked, then the
        # version read chosen, then its findings read)
        kinds: dict[tuple[str, int], list[Any]] = {}
        visit: dict[int, int] = {}
        for r in rows:
            joined = _joined_tables(row_roots(r.spec)[0])
            fillers = [
                x for x in rows if x.spec.resource == r.spec.resource and x.spec.table in joined
            ]
            if any(id(x) not in visit for x in fillers):
                return None  # a table filled only later in the definition
            visit[id(r)] = 1 + max((visit[id(x)] for x in fillers), default=-1)
            # and never before a spec of its type that fills the same table earlier in the
            # definition (stop 43: a panel's contained members, which join nothing, read in the
            # visit of the Observation's own rows): the table keeps the definition's order, and
            # no visit is added for them
            filled = (r.spec.resource, r.spec.table)
            earlier = [
                visit[id(x)]
                for x in rows[: rows.index(r)]
                if (x.spec.resource, x.spec.table) == filled
            ]
            visit[id(r)] = max((visit[id(r)], *earlier))
            kinds.setdefault((r.spec.resource, visit[id(r)]), []).append(r)
        grouped = [r for specs in kinds.values() for r in specs]
        # rows of one resource in one table come in the definition's order of their specs (the
        # closures' order): a spec read in a second visit must not come before one read in
        # the first that fills the same table
        for i, r in enumerate(rows):
            for later in rows[i + 1 :]:
                same = (later.spec.resource, later.spec.table) == (r.spec.resource, r.spec.table)
                if same and grouped.index(later) < grouped.index(r):
                    return None
        for r in rows:
            for table in _joined_tables(row_roots(r.spec)[0]):
                before = {id(x) for x in rows[: rows.index(r)] if x.spec.table == table}
                now = {id(x) for x in grouped[: grouped.index(r)] if x.spec.table == table}
                if before != now:
                    return None
        return [(kind, specs) for (kind, _), specs in kinds.items()]

    def counted_first(self, by_kind: list[tuple[str, list[Any]]]) -> dict[int, tuple[str, ...]]:
        """The row specs read first with their key columns only, by ``id`` of the spec: the
        column names each row then holds (with its patient and ``n``). A table `_State.once`
        asks of (a later visit skipped when each (patient, id) is on one row,
        `_empty_when_once`) is counted on its key alone when one spec fills it, by itself in
        its visit, and every `rir.Joined` of it outside those skipped visits is a patient's
        and reads one of the columns kept: when no id repeats, nothing reads the rest (the
        rank, the ref). When an id repeats, the rows are written whole, in the same list,
        before any index of the table is built (`rows_layer`). Stop 28's versions: every
        Observation of every CDS record."""
        skipped: dict[int, set[str]] = {}
        asked: set[str] = set()
        for _, specs in by_kind:
            once = _empty_when_once(specs)
            if once:
                asked |= once
                for r in specs:
                    skipped[id(r)] = once
        # first in its visit, the visit's other specs reading list items into other tables
        # (stop 49: the references of an Observation panel's members, `panel_member_references`,
        # read in the versions' first visit): their rows are written whole once, the counted
        # spec's again alone when an id repeats (so too a scan report's versions, beside its
        # malformed check of its contained findings, since)
        alone_in_visit = {
            id(specs[0])
            for _, specs in by_kind
            if all(
                x.spec.items is not None and x.spec.table != specs[0].spec.table for x in specs[1:]
            )
        }
        found: dict[int, tuple[str, ...]] = {}
        for table in sorted(asked):
            filling = [r for r in self.compiled.rows if r.spec.table == table]
            if len(filling) != 1:
                continue
            (r,) = filling
            names = [name for name, _ in r.spec.columns]
            plain = r.guarded and r.spec.items is None and not r.outer
            if not plain or id(r) not in alone_in_visit or "id" not in names:
                continue
            if _joined_tables(row_roots(r.spec)[0]) or table in self.used_tables:
                continue
            if any(p.table == table for p in self.spec.problems):
                continue
            read = [
                j
                for x in self.compiled.rows
                if table not in skipped.get(id(x), ())
                for j in _joins_in(x.spec)
                if j.table == table
            ]
            read += [
                j for j in _joins_in((self.spec.steps, self.spec.problems)) if j.table == table
            ]
            kept = {"id", *(j.column for j in read)}
            if any(j.patient is None for j in read) or not kept <= {*names, "n"}:
                continue
            found[id(r)] = tuple(name for name in names if name in kept)
        return found

    def type_function(
        self, kind: str, specs: list[Any], key_only: tuple[str, ...] | None = None
    ) -> str:
        """One function reading a resource ``j`` of this type for all its row specs, appending
        to their tables (its arguments); the call, as the reading writes it. A function apart,
        not inline in the reading's loop: measured, the reading's many more locals cost more
        than the calls saved. ``key_only``: the first spec's row holds these columns only, with
        its patient and ``n`` (`counted_first`)."""
        name = self.fresh("read_type")
        self.joins_here = {}
        self.once_here = set()
        body: list[str] = []
        tables = {r.spec.table for r in specs}
        counted = None
        if key_only is not None:
            r, *others = specs
            columns = tuple(c for c in r.spec.columns if c[0] in key_only)
            counted = dataclasses.replace(r, spec=dataclasses.replace(r.spec, columns=columns))
            specs = [counted, *others]
        shared = None if key_only is not None else self.shared_visit(specs)
        if shared is not None:
            body += self.shared_rows(*shared)
        for r in specs:
            if shared is not None and (r is shared[0] or r in shared[1] or r in shared[2]):
                continue
            # a spec whose condition needs a row of a table that has none (its joins all None)
            # gives no row: not read (stop 29: a held version's unread scan, when no version
            # is held, every Observation of every record)
            needed = sorted({j.table for j in joins_needed(r.spec.when)} & self.tables)
            if not needed:
                body += self.inline_row(r, 1, r is counted)
                continue
            tables.update(needed)
            body.append("    if " + " and ".join(f"t_{t}" for t in needed) + ":")
            body += self.inline_row(r, 2)
        args = "j, n, checked" + "".join(f", t_{t}" for t in sorted(tables))
        args += "".join(f", {local}" for local in sorted(self.joins_here))
        args += "".join(f", once_{t}" for t in sorted(self.once_here))
        # ``j: dict``: every resource and item a type function reads is a dict (the reading
        # groups only dicts; items are built as dicts), and Cython compiles ``j.get`` of a
        # variable typed dict as a dict look-up, not a method looked up and called
        self.functions += [f"def {name}(j: dict{args.removeprefix('j')}):  # {kind}", *body]
        return f"{name}({args})"

    def shared_visit(self, specs: list[Any]) -> tuple[Any, list[Any], list[Any]] | None:
        """The spec reading each item of the resource as a resource of its own, the specs
        reading the resource alone on every visit, and the specs reading only items of another
        list of it (a panel's contained members: no row of the resource itself), when a
        resource without items (most: an Observation that is no panel) can be read by the first
        two with one source (`shared_rows`); None otherwise. Only when the rows of every table
        come in the order they did: the specs are read in two other orders (`shared_rows`), and
        each table's specs must keep theirs."""
        with_items = [r for r in specs if r.spec.items is not None]
        items_alone = [r for r in with_items if not items_only(r.spec.items)]
        if len(items_alone) != 1:
            return None
        (items,) = items_alone
        if not items.guarded or items.outer:
            return None
        # stop 44: a spec reading only another list's items (`PANEL_MEMBER_ROWS`, stop 43)
        # reads its own loop, which an Observation without that list does not enter: it need
        # not turn the shared source off for every Observation
        members = [r for r in with_items if r is not items]
        if any(
            r.spec.items.path == items.spec.items.path
            or not r.guarded
            or {j.table for j in joins_needed(r.spec.when)} & self.tables
            for r in members
        ):
            return None
        alone = [
            r
            for r in specs
            if r.spec.items is None
            and r.guarded
            and not r.outer
            and not {j.table for j in joins_needed(r.spec.when)} & self.tables
        ]
        if not alone:
            return None
        rest = [r for r in specs if r is not items and r not in alone and r not in members]
        for order in ([items, *alone, *members, *rest], [*alone, items, *members, *rest]):
            for table in {r.spec.table for r in specs}:
                if [id(r) for r in order if r.spec.table == table] != [
                    id(r) for r in specs if r.spec.table == table
                ]:
                    return None
        return items, alone, members

    def shared_rows(self, items: Any, alone: list[Any], members: list[Any]) -> list[str]:
        """The specs of `shared_visit` for one resource: with items, the item spec's loop over
        the resource and its items, then the other specs as before; without (the resource
        its only row), every spec reads it through one source, those reading it on every
        visit first, so what they compute unconditionally (its status, code, dates, subject,
        the versions' look-ups) is computed once for the item spec's row too (stop 37: an
        Observation's malformed check and its clinical row read the same elements). The
        ``members`` specs then read their own list's items, each with a source of its own
        (``j`` is each item there)."""
        parent, spec_items = self.fresh("parent"), self.const(items.spec.items)
        listed, both = f"{parent}_items", self.const(with_its_items)
        src = _RowSource(self, [])  # each spec counts its own uses (`row_of_j`)
        out = [
            f"    {parent} = j",
            f"    {listed} = {parent}.get({items.spec.items.path!r})",
            f"    if type({listed}) is list and {listed}:",
            f"        for j in {both}({parent}, {spec_items}):",
            *self.row_of_j(items, 3),
            f"        j = {parent}",
        ]
        for r in alone:
            out += self.row_of_j(r, 2)
        out.append("    else:")
        for r in (*alone, items):
            out += self.row_of_j(r, 2, src=src)
        # the members after both branches: after the item spec's rows, as the definition
        # lists them
        return out + [line for r in members for line in self.inline_row(r, 1)]

    def fetch_joins(self) -> list[str]:
        """The statements giving the indexes the last type function written reads (before its
        visit: the tables they index are whole by then, `grouped`)."""
        out = []
        for local, (table, order, least, hers) in sorted(self.joins_here.items()):
            fetch = f"STATE.index({table!r}, {order!r}, {least!r}, {hers!r})"
            # a table without rows is no index to build (an Observation's chosen versions,
            # when no id repeats): no row is found in it
            if table in self.tables:
                fetch += f" if t_{table} else NO_ROWS"
            out.append(f"{local} = {fetch}")
        return out

    def inline_row(self, r: Any, indent: int, key_only: bool = False) -> list[str]:
        """One row spec's reading of the resource ``j`` (its row appended to its table), as
        statements of the loop over the resources of its type: the source `python_source.fuse`
        writes for the spec's function, the ``return SKIP`` of its first test and of its
        condition turned into blocks (a spec's values are computed only under its own
        condition, so no later spec reads a variable this one may not have set)."""
        if r.spec.items is not None:
            # the resource, then each of its items read as a resource of its own (as ``j``);
            # most resources have no items (no list there, or an empty one): just the resource
            parent, items = self.fresh("parent"), self.const(r.spec.items)
            listed, both = f"{parent}_items", self.const(with_its_items)
            pad = "    " * indent
            # with `ItemRows.whole` or `container` only the items give rows: none without items
            alone = "()" if items_only(r.spec.items) else f"({parent},)"
            return [
                f"{pad}{parent} = j",
                f"{pad}{listed} = {parent}.get({r.spec.items.path!r})",
                f"{pad}for j in ({both}({parent}, {items}) if type({listed}) is list and {listed}"
                f" else {alone}):",
                *self.row_of_j(r, indent + 1),
                f"{pad}j = {parent}",
            ]
        return self.row_of_j(r, indent, key_only)

    def ref_of(self, r: Any, var: str) -> str:
        """The ``ref`` of the row read from ``var``: its resource's (`ref_source`). Written out
        (``ref_code``) where ``var`` is known to hold the spec's resource type: the resource
        itself, or an item row that keeps the resource's keys but the item's own
        (`_keeps_type`)."""
        items = r.spec.items
        if self.ref_code is not None and (items is None or _keeps_type(items)):
            return self.ref_code(r.spec.resource, var, self.fresh("id"))
        if items is None or items.container is None:
            return f"REF({var})"
        return f"REF({self.const(ref_source)}({var}, {self.const(items)}))"

    def row_of_j(
        self, r: Any, indent: int, key_only: bool = False, src: _RowSource | None = None
    ) -> list[str]:
        """`inline_row` of the JSON object ``j`` alone (``key_only``: its row without a
        ``ref``, `counted_first`). With ``src``, the source of several specs of one resource
        (`shared_rows`): this spec reads what the earlier ones computed before their
        conditions, and what it computes under its own is forgotten after it."""
        table = f"t_{r.spec.table}"
        out = ["STATE.resource = j"] if r.outer else []
        if not r.guarded:  # checks between the condition and the columns: its functions
            when, checks, fn = self.const(r.when), self.const(r.checks), self.const(r.values)
            return [
                "    " * indent + line
                for line in [
                    *out,
                    f"if {when}(j) is True:",
                    f"    ref = {self.ref_of(r, 'j')}",
                    f"    failed = next((m for ok, m in {checks} if ok(j) is not True), None)",
                    "    if failed is not None:",
                    f"        checked.append((n, {self.order(r)}, PROBLEM(ref, failed(j))))",
                    "    else:",
                    f"        row = {fn}(j)",
                    "        row['ref'] = ref",
                    "        row['n'] = n",
                    f"        {table}.append(row)",
                ]
            ]
        roots, names = row_roots(r.spec)
        if src is None:
            src = _RowSource(self, roots)
        else:
            # a value this spec reads once is written where it reads it, as when it has a
            # source of its own: a value two specs read once each is not computed before
            # either condition, for every resource (an Observation's held version, read by
            # both behind tests that are rarely passed)
            src.uses = _count_uses(roots, _row_children)
        start = len(src.lines)
        test = src.first_test_expr(roots[0])
        out += [line.strip() for line in src.lines[start:]]
        # the values computed so far are computed for every resource: a later spec of the
        # same source may read them; those computed under a condition (its first test's, its
        # own), it may not
        unconditional = dict(src.shared)
        pad = ""
        if test is not None:
            out.append(f"if not ({test}):")
            pad = "    "
        mark = len(src.lines)
        cond = src.true_test(roots[0])
        out += [pad + line.strip() for line in src.lines[mark:]]
        if test is None:
            unconditional = dict(src.shared)
        out.append(f"{pad}if {cond}:")
        mark = len(src.lines)
        values = [src.ref(x)[0] for x in roots[1:]]
        src.shared = unconditional
        inner = pad + "    "
        out += [inner + line.strip() for line in src.lines[mark:]]
        layout = self.layouts.get(r.spec.table)
        if layout is not None:
            # a list: the columns, ref and n in the layout's order (the values computed in the
            # order the dict computed them), a None for each value a later loop keeps there
            kept = ", None" * (len(layout) - len(names) - 2)
            out.append(
                f"{inner}{table}.append([{', '.join(values)}, {self.ref_of(r, 'j')}, n{kept}])"
            )
            return ["    " * indent + line for line in out]
        pairs = ", ".join(f"{n!r}: {v}" for n, v in zip(names, values, strict=True))
        out += [f"{inner}row = {{{pairs}}}"]
        if not key_only:
            out += [f"{inner}row['ref'] = {self.ref_of(r, 'j')}"]
        out += [f"{inner}row['n'] = n", f"{inner}{table}.append(row)"]
        return ["    " * indent + line for line in out]

    def list_layouts(self) -> dict[str, dict[str, int]]:
        """The tables whose rows are lists, not dicts: each column, ``ref``, ``n`` and each
        value a later loop keeps (`row_value`) at a position known here, so a loop reads
        ``row[3]`` (an index into an array) where a dict row is hashed into. Only tables this
        function alone reads: every spec filling it read inline (`grouped`, `row_of_j` with its
        condition guarding its columns), with the same columns in the same order; none that a
        spec joins (`rir.Joined` reads the rows as dicts, by `_State.index`)."""
        if self.grouped() is None:
            return {}
        rows = list(self.compiled.rows)
        joined: set[str] = set()
        for r in rows:
            joined |= _joined_tables(row_roots(r.spec)[0])
        layouts: dict[str, dict[str, int]] = {}
        for table in sorted(self.tables - joined):
            filling = [r for r in rows if r.spec.table == table]
            shapes = {row_roots(r.spec)[1] for r in filling}
            if len(shapes) != 1 or not all(r.guarded for r in filling):
                continue
            (names,) = shapes
            if {"ref", "n"} & set(names):
                continue
            kept = sorted(key for (local, _), key in self.memo.items() if local == f"rows_{table}")
            layouts[table] = {name: i for i, name in enumerate((*names, "ref", "n", *kept))}
        return layouts

    def function(self) -> ReadingFn:
        text = self.text()
        self.names.update(
            {
                "REF": self.compiled_ref,
                "NOTE_AT": note_rows_at,
                # sort keys in C (`itemgetter`): no Python call for each row sorted
                "BY_N": itemgetter("n"),
                "FIRST": itemgetter(0, 1),
                **INLINED_GLOBALS,
            }
        )
        namespace = dict(self.names)
        # the same text compiled to C at install time, when its build is there (`native`)
        inner = native.bind(text, namespace)
        compiled = inner is not None
        if inner is None:
            exec(compile(text + "\n", "<records generated reading>", "exec"), namespace)  # noqa: S102 - our own IR
            inner = namespace["reading"]

        def reading(resources: Any, assessed_on: Any, encounter: Any, patient: Any) -> Any:
            try:
                return inner(resources, assessed_on, encounter, patient)
            except Exception:  # a value no rule expects: the reference reads it (None says so)
                return None

        reading.source = text  # type: ignore[attr-defined]  # for tests and for reading
        # which ran: the build of this text (`native`) or the text exec'd
        reading.compiled = compiled  # type: ignore[attr-defined]
        # the positions in each table held as lists, to read ``row[3]`` in the source by
        reading.layouts = self.layouts  # type: ignore[attr-defined]
        return reading

    def text(self) -> str:
        """The source of the reading and of the functions it calls."""
        self.layouts = self.list_layouts()
        steps = self.steps()
        problems = self.problems()
        names = [name for name, _ in self.spec.steps]
        for name in names:
            self.step_local(name)
        scoped = self.compiled.scoped
        select = []
        for t in sorted(self.used_tables):
            if t not in self.tables:
                select.append(f"    rows_{t} = []")
            elif t in scoped:
                at = self.layouts[t]["patient"] if t in self.layouts else "'patient'"
                select.append(
                    f"    rows_{t} = t_{t} if patient is None else "
                    f"[r for r in t_{t} if r[{at}] == patient]"
                )
            else:
                select.append(f"    rows_{t} = t_{t}")
        values = "{" + ", ".join(f"{n!r}: c_{n}" for n in names) + "}"
        layer1 = self.rows_layer()
        body = "\n".join(
            [
                *self.functions,
                "def reading(resources, x_assessed_on, x_encounter, patient):",
                *layer1,
                "    evidence = {}",
                *select,
                *steps,
                *problems,
                f"    return {values}, problems, evidence",
            ]
        )
        # the helpers it calls for every concept read, compiled with it (`inlined_helpers`)
        text = "\n".join([*helpers_for(body), body])
        return drop_unread_bindings(text)

    compiled_ref: Callable[[dict[str, Any]], str]


# A value a row keeps for later loops: an expression of at least this many nodes (reading it
# back from the row costs about what a comparison of two values does).
_ROW_VALUE_NODES = 5


def _keeps_type(items: rir.ItemRows) -> bool:
    """Does each item row (`item_rows.item_resources`, at every level) keep the resource's
    ``resourceType``? Yes unless an item is read with its ``container`` (the item's own type)
    or a level sets that key from the item (its ``own`` keys, ``whole`` or ``path``)."""
    level: rir.ItemRows | None = items
    while level is not None:
        if level.container is not None or "resourceType" in (
            *level.own,
            level.whole,
            level.path,
        ):
            return False
        level = level.then
    return True


def _row_node(e: Any) -> tuple[frozenset[str], int] | None:
    """The steps an expression over a row reads (`rir.Ctx`) and its size in nodes; None when
    it holds an aggregate or the scans by day (their own loops, not a value of the row)."""
    names: set[str] = set()
    size = 0
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, rir.Agg | rir.Days):
            return None
        if isinstance(node, rir.Ctx):
            names.add(node.name)
        size += 1
        stack += ir.children(node)
    return frozenset(names), size


def _alone(e: Any) -> tuple[str, Any, Any] | None:
    """(table, key, patient) when ``e`` is the test "this (patient, id) is on one row of the
    table" of `definition._Versions`: ``IsTrue(Joined(T, key, "n", patient=P) ==
    Joined(T, key, "n", least=True, patient=P))`` (its first and last row in input order are
    one), whatever the orders; else None."""
    if not isinstance(e, ir.IsTrue) or not isinstance(e.item, ir.Cmp) or e.item.op != "==":
        return None
    a, b = e.item.left, e.item.right
    if not (isinstance(a, rir.Joined) and isinstance(b, rir.Joined)) or a.patient is None:
        return None
    same = (a.table, a.key, a.patient, a.column) == (b.table, b.key, b.patient, b.column)
    return (a.table, a.key, a.patient) if same and a.column == "n" else None


def _repeated(e: Any) -> str | None:
    """The table when ``e`` is the test "this (patient, id) is on more than one row of the
    table" of `definition._Versions.repeated` (`_alone`'s with ``!=``: its first and last row
    in input order differ), else None. Never True when `_State.once` of the table holds."""
    if not isinstance(e, ir.IsTrue) or not isinstance(e.item, ir.Cmp) or e.item.op != "!=":
        return None
    at = _alone(ir.IsTrue(ir.Cmp("==", e.item.left, e.item.right)))
    return None if at is None else at[0]


def _needs_row(e: Any, at: tuple[str, Any, Any]) -> bool:
    """Is ``e`` True only when a `rir.Joined` of ``at`` (table, key, patient) finds a row?"""
    return any((j.table, j.key, j.patient) == at for j in joins_needed(e))


def _empty_when_once(specs: Sequence[Any]) -> set[str] | None:
    """The tables whose `_State.once` (each (patient, id) on one row) means none of these row
    specs gives a row (nor a check's problem: the checks follow the condition), or None. A
    spec's condition must be an And holding ``Not(alone)`` (`_alone`, of a table, key and
    patient) and an item that needs a row of that table, key and patient (`_needs_row`): when
    each (patient, id) is on one row, a resource whose row is found is alone (the Not is
    False), and one whose row is not found fails the other item. `definition._Versions`'s
    "ranked" condition, of the versions ranked first and then chosen."""
    tables: set[str] = set()
    for r in specs:
        when = r.spec.when
        items = when.items if isinstance(when, ir.And) else ()
        found = None
        for item in items:
            at = _alone(item.item) if isinstance(item, ir.Not) else None
            if at is not None and any(_needs_row(other, at) for other in items):
                found = at[0]
                break
        if found is None:
            return None
        tables.add(found)
    return tables or None


def row_roots(r: rir.RowSpec) -> tuple[list[ir.Expr], tuple[str, ...]]:
    """A row spec's condition then its columns (the patient last), and the columns' names."""
    patient = r.patient if r.patient is not None else ir.Const(None)
    roots = [r.when, *(x for _, x in r.columns), patient]
    return roots, (*(name for name, _ in r.columns), "patient")


def _joined_tables(roots: Sequence[Any]) -> set[str]:
    """The tables these expressions join (`rir.Joined`)."""
    found: set[str] = set()
    stack = list(roots)
    while stack:
        e = stack.pop()
        if isinstance(e, tuple):
            stack += e
            continue
        if isinstance(e, rir.Joined):
            found.add(e.table)
        for slot in getattr(e, "__slots__", ()):
            value = getattr(e, slot, None)
            stack += [v for v in (value if isinstance(value, tuple) else (value,)) if v is not None]
    return found


def spec_joined_tables(spec: rir.EpisodeSpec) -> set[str]:
    """Every table a `rir.Joined` anywhere in ``spec`` reads (its rows' conditions, columns,
    checks and items, its steps, its problems): the tables `_State.index` may be asked for."""
    return {j.table for j in _joins_in(spec)}


def _joins_in(spec: Any) -> list[rir.Joined]:
    """Every `rir.Joined` anywhere in ``spec`` (a definition, a row spec, a tuple of them)."""
    found: list[rir.Joined] = []
    seen: set[int] = set()
    stack: list[Any] = [spec]
    while stack:
        e = stack.pop()
        if e is None or isinstance(e, str | int | float | bool) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, rir.Joined):
            found.append(e)
        if isinstance(e, dict):
            stack += [*e.keys(), *e.values()]
        elif isinstance(e, tuple | list | set | frozenset):
            stack += e
        elif dataclasses.is_dataclass(e):
            stack += [getattr(e, f.name) for f in dataclasses.fields(e)]
    return found


def reads_any(e: Any, names: set[str]) -> bool:
    """Does the expression read any of these steps (`rir.Ctx`)?"""
    if isinstance(e, rir.Ctx):
        return e.name in names
    for slot in getattr(e, "__slots__", ()):
        value = getattr(e, slot, None)
        items = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, ir.Expr) and reads_any(v, names) for v in items):
            return True
    return False


def generate_reading(
    spec: rir.EpisodeSpec,
    compiled: Any,
    helpers: dict[str, Any],
    ref: Callable[[dict[str, Any]], str],
    closure: Callable[[ir.Expr], Fn] | None = None,
    ref_code: Callable[[str, str, str], str] | None = None,
) -> ReadingFn:
    """The one function reading a patient by ``spec`` (compiled by `earlypath.records.python`
    for its row functions and state); raises `Unsupported` for a node it does not write. With
    ``closure`` (a node's closure, for the nodes the row specs' source does not write), each
    resource is read once for all the row specs of its type, their source inline. With
    ``ref_code`` (`python._ref_code`), a row's ``ref`` is written out where its object's type is
    known, not called."""
    # written three times: first noting which loops over a table's rows compute which values
    # of a row, then keeping in the row those two loops or more compute, then with only those
    # a later loop reads back (a value inside another one kept is not read again)
    first = _Generator(spec, compiled, helpers, closure)
    first.recording = True
    first.text()
    memo = {at: f"~{n}" for n, (at, loops) in enumerate(first.seen.items()) if len(loops) > 1}
    if memo:
        second = _Generator(spec, compiled, helpers, closure)
        second.memo = memo
        second.text()
        memo = {at: key for at, key in memo.items() if key in second.read}
    gen = _Generator(spec, compiled, helpers, closure)
    gen.memo = memo
    gen.compiled_ref = ref
    gen.ref_code = ref_code
    return gen.function()
