"""Fusing expressions into one Python function: the Python engine's fast path.

The closures of `earlypath.records.python` are the reference reading of every node; calling one
per node costs about 0.1 us, and a resource's columns hold a few hundred nodes. Here the
expressions of one row spec (or of one aggregate's ``where``) become the source of a single
function: each distinct sub-expression is one assignment, computed once (so the presence an
Observation's value says is read once, however many columns use it), in the order the nodes
depend on each other. Nodes without a rule here call their closure.

All nodes are computed, whatever an ``If`` chooses: they are pure, and a function that raises
(a value of a type no branch would have read) is run again by the closures, which evaluate
lazily. The same cases (tests/records/node_cases.py) run both paths.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from earlypath.engines.node_source import SourceNames, node_source
from earlypath.records import ir as rir
from earlypath.rules import ir

Fn = Callable[..., Any]  # a compiled node: of the scope, or (fused collect) of the scope and rows

# What a ``pick`` function gives for a row its condition leaves out.
SKIP = object()


_WORD = re.compile(r"\b[A-Za-z_]\w*")
_BINDING = re.compile(r"\((\w+) := ")


def drop_unread_bindings(text: str) -> str:
    """The source without the ``name :=`` of a name written once and never read: each costs a
    store, and a function of many locals pays for all of them (beyond the 256th, each read or
    store is two instructions). Counted over the whole text (a word inside a string only
    keeps a binding that could have gone), so a name read anywhere stays bound."""
    counts = Counter(_WORD.findall(text))
    return _BINDING.sub(lambda m: "(" if counts[m.group(1)] == 1 else m.group(0), text)


def _pick(outs: Sequence[str]) -> str:
    """A condition's, a value's and orders' source as a pick: the value and orders only when
    the condition is True (a conditional expression computes them only then)."""
    orders = "".join(f"{o}, " for o in outs[2:])
    return f"(({outs[1]}, ({orders})) if {outs[0]} is True else SKIP)"


def _picked(closures: Sequence[Fn]) -> Fn:
    cond, value, orders = closures[0], closures[1], closures[2:]
    return lambda env: (value(env), tuple(o(env) for o in orders)) if cond(env) is True else SKIP


def _collected(outs: Sequence[str], found: str) -> list[str]:
    """A group's source in a loop over rows: the item appended to ``found`` when the condition
    is True (the value and orders are computed only then, in the order a pick computes them)."""
    orders = "".join(f"{o}, " for o in outs[2:])
    return [f"      if {outs[0]} is True:", f"        {found}.append((row, {outs[1]}, ({orders})))"]


def _collecting(closures: Sequence[Fn], groups: Sequence[tuple[int, int]]) -> Fn:
    """What a ``collect`` function gives, from the closures."""
    picks = [_picked(closures[a:b]) for a, b in groups]

    def collect(s: Any, rows: Sequence[dict[str, Any]]) -> tuple[list[Any], ...]:
        outer = s.row
        found: tuple[list[Any], ...] = tuple([] for _ in picks)
        for row in rows:
            s.row = row
            for items, pick in zip(found, picks, strict=True):
                got = pick(s)
                if got is not SKIP:
                    items.append((row, got[0], got[1]))
        s.row = outer
        return found

    return collect


def _flagging(closures: Sequence[Fn]) -> Fn:
    """What a ``collect`` function with ``flags`` gives, from the closures."""

    def flagged(s: Any, rows: Sequence[dict[str, Any]]) -> tuple[list[Any]]:
        outer = s.row
        found: list[Any] = []
        for row in rows:
            s.row = row
            flags = tuple(fn(s) is True for fn in closures)
            if True in flags:
                found.append((row, flags))
        s.row = outer
        return (found,)

    return flagged


def _count_uses(
    roots: Sequence[ir.Expr], children: Callable[[Any], list[Any]] | None = None
) -> dict[Any, int]:
    """How many times each distinct node is read by its parents (a root counts once);
    ``children``: what a node's source reads (`_children` unless given)."""
    children = children or _children
    uses: dict[Any, int] = {}
    stack = list(roots)
    for root in roots:
        uses[root] = uses.get(root, 0) + 1
    seen: set[Any] = set()
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, rir.Field | rir.Concept | rir.AnyItem):
            # the JSON walked to: each prefix of the path once per node that reads it
            parts = e.path.split(".")
            for i in range(1, len(parts) + 1):
                key = ("walk", ".".join(parts[:i]))
                uses[key] = uses.get(key, 0) + 1
        for child in children(e):
            uses[child] = uses.get(child, 0) + 1
            stack.append(child)
    return uses


_COMPARISONS = frozenset(["<", "<=", ">", ">=", "==", "!="])


def _known(e: Any) -> bool:
    """A constant other than None: never Unknown."""
    return isinstance(e, ir.Const) and e.value is not None


def _chain(joiner: str, parts: Sequence[str]) -> str:
    """``a or b or c`` written ``((a or b) or c)`` (likewise ``and``): the same value, and the
    same items computed in the same order, in Python. Cython 3.3 miscompiles a flat chain of
    three or more whose value is used, when it ends in two tests that are C truth values (``x is
    True``) after one that is an object, inside a conditional expression: it casts the C int to
    an object pointer, and the build crashed (stop 52, CI 1: a progestogen's test). Two at a
    time, each chain is one it compiles right (`native.build` also refuses such a cast)."""
    out = parts[0]
    for i, part in enumerate(parts[1:]):
        out = f"({out}){joiner}{part}" if i else f"{out}{joiner}{part}"
    return f"({out})"


def _never_none(e: Any) -> bool:
    """Is the node's value always True or False (so Kleene logic is Python's)?"""
    if isinstance(
        e, rir.InSet | rir.TextInSet | rir.AnyItem | rir.AnyResourceItem | ir.IsNull | ir.IsTrue
    ):
        return True
    if isinstance(e, ir.Const):
        return type(e.value) is bool
    if isinstance(e, ir.And | ir.Or):
        return all(_never_none(i) for i in e.items)
    if isinstance(e, ir.Not):
        return _never_none(e.item)
    return False


def _true_or_false(e: Any) -> bool:
    """Is the node's value True, False or None, nothing else (a comparison, a test that is never
    Unknown, a JSON boolean)? Then ``e == True`` holds exactly when ``e is True`` (and ``== False``
    when ``is False``), where for a number Python's 1 == True would not."""
    if isinstance(e, ir.Cmp):
        return e.op in _COMPARISONS
    if isinstance(e, rir.Field):
        return e.type == "bool"
    return _never_none(e)


def _worded(e: Any, matcher: Callable[[str], Any]) -> bool:
    """Does the `rir.InSet` match its set's words too (a set with words, read with them)?"""
    return bool(e.words and matcher(e.value_set).words)


def _plain_sets_of_one_concept(e: ir.Or, matcher: Callable[[str], Any]) -> bool:
    """An Or of value sets (without words) over one concept: one test of its sets."""
    items = e.items
    return (
        len(items) > 1
        and all(isinstance(i, rir.InSet) for i in items)
        and len({i.concept for i in items}) == 1  # type: ignore[attr-defined]
        and not any(_worded(i, matcher) for i in items)
    )


def _needs(e: Any) -> frozenset[Any] | None:
    """Value-set tests (`rir.InSet`) one of which is True whenever ``e`` is True; None when no
    such set is known. Kleene logic: an And is True only when all its items are (any item's
    tests will do), an Or only when one of them is (each item must have tests)."""
    if isinstance(e, rir.InSet):
        return frozenset((e,))
    if isinstance(e, ir.IsTrue):
        return _needs(e.item)
    if isinstance(e, ir.And):
        found = [n for n in map(_needs, e.items) if n is not None]
        return min(found, key=len) if found else None
    if isinstance(e, ir.Or):
        each = [_needs(i) for i in e.items]
        if not each or any(n is None for n in each):
            return None
        return frozenset().union(*each)  # type: ignore[arg-type]
    return None


def _children(e: Any) -> list[Any]:
    """The sub-expressions the source reads (an aggregate's, an item's and a join's own are read
    by their closures)."""
    if isinstance(
        e,
        rir.Agg
        | rir.Days
        | rir.AnyItem
        | rir.ItemCount
        | rir.EveryItem
        | rir.AnyResourceItem
        | rir.FirstItem
        | rir.Joined
        | rir.Outer,
    ):
        return []
    if isinstance(e, rir.Message):
        return []
    return ir.children(e)


class _Source(SourceNames):
    """The source of one function. A node read more than once is computed first, once, as a
    statement; a node read once is written where it is read, inside the conditional expressions
    of its parents, so it is computed only when needed (bound with := where its parent reads it
    twice)."""

    def __init__(
        self,
        env: str,
        helpers: dict[str, Any],
        fallback: Callable[[ir.Expr], Fn],
        uses: dict[Any, int],
    ):
        self.env = env  # "json": the function reads j (a resource); "scope": s (row, ctx)
        self.helpers = helpers
        self.fallback = fallback
        self.uses = uses
        super().__init__(dict(helpers), "v")
        self.lines: list[str] = []
        self.shared: dict[Any, str] = {}

    def walk(self, path: str) -> tuple[str, str]:
        """The JSON at a path (a dict lookup each step): a variable computed once when several
        nodes read it, else written where it is read."""
        key = ("walk", path)
        if key in self.shared:
            return self.shared[key], self.shared[key]
        head, _, last = path.rpartition(".")
        if not head:
            code = f"j.get({last!r})"
        else:
            first, parent = self.walk(head)
            code = f"{self.dict_get(parent, repr(last))} if type({first}) is dict else None"
        return self.bound(key, code)

    def bound(self, key: Any, code: str) -> tuple[str, str]:
        """``code`` under a fresh name, as `ref` gives it: a line of its own, shared under
        ``key``, when ``key`` is read more than once; else assigned where it is first read."""
        name = self.fresh()
        if self.uses.get(key, 0) > 1:
            self.lines.append(f"    {name} = {code}")
            self.shared[key] = name
            return name, name
        return f"({name} := {code})", name

    def dict_get(self, parent: str, key: str) -> str:
        """The source of ``parent.get(key)``: ``parent`` a dict (tested first, or a row or a
        constant that is one), ``key`` source too."""
        return f"{parent}.get({key})"

    def ref(self, e: ir.Expr) -> tuple[str, str]:
        """(where the value is first computed, how it is read after)."""
        if isinstance(e, ir.Const):
            name = self.shared.get(e)
            if name is None:
                name = self.shared[e] = self.const(e.value)
            return name, name
        found = self.shared.get(e)
        if found is not None:
            return found, found
        if self.uses.get(e, 0) > 1:
            code = self.code(e)
            name = self.fresh()
            self.lines.append(f"    {name} = {code}")
            self.shared[e] = name
            return name, name
        name = self.fresh()
        return f"({name} := {self.code(e)})", name

    def sets(self, concept: ir.Expr) -> str:
        """The value sets a concept is in, as an expression (a variable when shared)."""
        first, c = self.ref(concept)
        if first == c:  # a shared variable: its sets are shared too
            key = ("sets", c)
            if key not in self.shared:
                name = self.fresh()
                self.lines.append(
                    f"    {name} = SETS_OF({c}, BY_KEY) if {c} is not None else EMPTY"
                )
                self.shared[key] = name
            return self.shared[key]
        return f"(SETS_OF({c}, BY_KEY) if {first} is not None else EMPTY)"

    def first_test(self, condition: ir.Expr) -> list[str]:
        """Lines that answer SKIP at once when none of the value sets the condition needs is
        among its concepts' sets (`_needs`) and none of those with words is named by its words:
        most resources of a type are none of ours, and a look at their codes (and, for a set
        with words, their text) is enough. None when the condition needs no set."""
        test = self.first_test_expr(condition)
        return [] if test is None else [f"    if {test}:", "      return SKIP"]

    def first_test_expr(self, condition: ir.Expr) -> str | None:
        """`first_test`'s test (True: the condition cannot be True), or None when there is
        none; the statements it reads are added to the lines first. The codes of every concept
        first, then the words of the worded sets (a search of the text, the dearer test, only
        for a resource coded in none of the sets: a worded set's words are searched once, here,
        for a resource the condition then skips; stop 47)."""
        needs = _needs(condition)
        matcher = self.helpers["MATCHER"]
        if not needs or all(_worded(i, matcher) for i in needs):
            # words alone: every resource would be searched, one the condition turns down
            # at once (a status, a code read elsewhere) too; its own order is cheaper
            return None
        ordered = sorted(needs, key=repr)  # the same source in every process
        by_concept: dict[Any, set[str]] = {}
        for i in ordered:
            by_concept.setdefault(i.concept, set()).add(i.value_set)
        tests = [
            f"{self.sets(concept)}.isdisjoint({self.const(frozenset(sets))})"
            for concept, sets in by_concept.items()
        ]
        for i in ordered:
            if _worded(i, matcher):
                first, c = self.ref(i.concept)
                words = self.const(matcher(i.value_set).words_name_it)
                tests.append(f"({first} is None or not {words}({c}))")
        return " and ".join(tests)

    def worded_test(self, e: rir.InSet, concept: str) -> str:
        """The test of a set with words on a concept known not to be None (``concept``, its
        variable): its codes (`sets_of`; a words-only set has none to look up), then its words
        (`Matcher.words_name_it`: the codings are not walked for codes again)."""
        matcher = self.helpers["MATCHER"](e.value_set)
        words = f"{self.const(matcher.words_name_it)}({concept})"
        if not matcher.codes:
            return words
        return f"{e.value_set!r} in SETS_OF({concept}, BY_KEY) or {words}"

    def true_test(self, e: ir.Expr) -> str:
        """A test that is True exactly when ``e`` is True (``(e) is True``: a condition that
        holds), without the Unknown its parts would carry: an And holds when every item holds,
        an Or when one does, a Not when its item is False, a comparison when both sides are
        known and it holds. Read only as a test (an `if`, `IsTrue`, an `If`'s condition); the
        items are computed in the same order, up to the first that decides the test."""
        shared = e in self.shared or self.uses.get(e, 0) > 1
        if _never_none(e):
            return f"({self.ref(e)[0]})"
        if shared or isinstance(e, ir.Const):
            return f"({self.ref(e)[0]} is True)"
        if isinstance(e, ir.And | ir.Or):
            joiner = " and " if isinstance(e, ir.And) else " or "
            return _chain(joiner, [self.true_test(i) for i in e.items])
        if isinstance(e, ir.Not):
            return f"({self.ref(e.item)[0]} is False)"
        if isinstance(e, ir.Cmp) and e.op == "==" and _true_or_false(e.left):
            # "is it True" of a comparison (`definition._is`): the comparison's own test, not
            # its value (None when a side is unknown) compared with True; "is it False": `is`
            right = e.right.value if isinstance(e.right, ir.Const) else None
            if right is True:
                return self.true_test(e.left)
            if right is False:
                return f"({self.ref(e.left)[0]} is False)"
        if isinstance(e, ir.Cmp) and e.op in _COMPARISONS:
            (fa, a), (fb, b) = self.ref(e.left), self.ref(e.right)
            known = [f"{f} is not None" for f, x in ((fa, e.left), (fb, e.right)) if not _known(x)]
            return "(" + " and ".join([*known, f"{a} {e.op} {b}"]) + ")"
        return f"({self.ref(e)[0]} is True)"

    def absent(self, item: ir.Expr) -> str | None:
        """`IsNull` of a JSON field or concept read by nothing else, as the test of the JSON
        walked to (its value is None exactly when that is not of the type read; "any": when it
        is null or missing), without the value itself; None for any other node."""
        if not isinstance(item, rir.Field | rir.Concept):
            return None
        if self.uses.get(item, 0) > 1 or item in self.shared:
            return None  # the value is a statement of its own: `(v is None)` reads it
        first, w = self.walk(item.path)
        kind = "dict" if isinstance(item, rir.Concept) else item.type
        if kind == "any":
            return f"({first} is None)"
        if kind == "num":
            return f"(type({first}) is not int and type({w}) is not float)"
        return f"(type({first}) is not {kind})"

    def code(self, e: ir.Expr) -> str:  # noqa: C901, PLR0911, PLR0912 - one case per node
        r = self.ref
        if isinstance(e, ir.Or) and _plain_sets_of_one_concept(e, self.helpers["MATCHER"]):
            names = self.const(frozenset(i.value_set for i in e.items))  # type: ignore[attr-defined]
            return f"not {self.sets(e.items[0].concept)}.isdisjoint({names})"  # type: ignore[attr-defined]
        if isinstance(e, ir.And | ir.Or) and all(_never_none(i) for i in e.items):
            joiner = " and " if isinstance(e, ir.And) else " or "
            return _chain(joiner, [f"({r(i)[0]})" for i in e.items])
        if isinstance(e, ir.Not) and _never_none(e.item):
            return f"not {r(e.item)[0]}"
        if isinstance(e, ir.IsTrue):
            return self.true_test(e.item)
        if isinstance(e, ir.If):  # the condition first, then one branch only
            cond = self.true_test(e.cond)
            then, otherwise = r(e.then)[0], r(e.otherwise)[0]
            return f"({then} if {cond} else {otherwise})"
        if self.env == "json" and isinstance(e, ir.IsNull):
            absent = self.absent(e.item)
            if absent is not None:
                return absent
        if self.env == "json" and isinstance(e, rir.Field):
            first, w = self.walk(e.path)
            if e.type == "any":
                return f"None if {first} is None else True"
            if e.type == "num":
                return f"{w} if (type({first}) is int or type({w}) is float) else None"
            return f"{w} if type({first}) is {e.type} else None"
        if self.env == "json" and isinstance(e, rir.Concept):
            first, w = self.walk(e.path)
            return f"{w} if type({first}) is dict else None"
        if self.env == "json" and isinstance(e, rir.AnyItem):
            # the list walked to here (shared with the other readers of its path); the items'
            # test, a closure, is called only when there is a list, which most resources lack
            first, items = self.walk(e.path)
            item_test = self.fallback(e.test)
            of_items = self.const(lambda listed: any(item_test(i) is True for i in listed))
            return f"type({first}) is list and {of_items}({items})"
        if isinstance(e, rir.InSet):
            if not _worded(e, self.helpers["MATCHER"]):
                return f"{e.value_set!r} in {self.sets(e.concept)}"
            first, c = r(e.concept)
            return f"False if {first} is None else ({self.worded_test(e, c)})"
        if isinstance(e, rir.AtLeast):
            # most concepts are in no history set: only those read the count of their coding
            first, c = r(e.concept)
            count = self.const(self.helpers["MATCHER"](e.value_set).count)
            sets = self.shared.get(("sets", c)) if first == c else None
            if sets is not None:
                # its value sets already at hand: a count only when one of its codings is in
                # the set (`sets_of` and `count` read the codings alike), else None at once
                return f"{count}({c}) if {e.value_set!r} in {sets} else None"
            return f"None if {first} is None else {count}({c})"
        if isinstance(e, rir.Day):
            return f"AS_DAY({r(e.text)[0]})"
        if isinstance(e, rir.SpanDay):
            return f"SPAN_DAY({r(e.text)[0]}, {bool(e.last)!r})"
        if isinstance(e, rir.FirstCode):
            return f"FIRST_CODE({r(e.concept)[0]})"
        if isinstance(e, rir.NormText):
            first, t = r(e.text)
            folded = ".lower()" if e.fold_case else ""
            return f"{t}.strip(STRIP){folded} if type({first}) is str else None"
        if isinstance(e, rir.NhsNumber):
            return f"NHS_NUMBER({r(e.text)[0]})"
        if isinstance(e, rir.OneOf):
            (first, a), values = r(e.item), self.const(frozenset((x, type(x)) for x in e.values))
            return f"None if {first} is None else ({a}, type({a})) in {values}"
        if isinstance(e, rir.Lookup):
            (first, a) = r(e.item)
            pairs = self.const({(k, type(k)): x for k, x in reversed(e.pairs)})
            return f"None if {first} is None else {self.dict_get(pairs, f'({a}, type({a}))')}"
        if isinstance(e, rir.Round2):
            first, a = r(e.item)
            return f"None if {first} is None else round({a}, 2)"
        if isinstance(e, rir.RefId):
            first, ref = r(e.reference)
            if "/" in e.kind:
                return f"REF_ID({first}, {e.kind!r})"
            # the usual `Kind/id` read here, as `json_values.ref_id` first tests it (the kind,
            # one slash, an id without another), five rows a record; any other text by the call
            rest, prefix = self.fresh(), self.const(f"{e.kind}/")
            usual = (
                f"type({first}) is str and {ref}.startswith({prefix})"
                f" and ({rest} := {ref}[{len(e.kind) + 1}:]) and '/' not in {rest}"
            )
            return f"({rest} if {usual} else REF_ID({ref}, {e.kind!r}))"
        if isinstance(e, rir.Left):
            first, a = r(e.text)
            return f"None if {first} is None else {a}[:{int(e.length)}]"
        # every row has every column of its table, and a step is read only after it is computed
        # (a missing name raises: the closures then read it as None)
        if self.env == "scope" and isinstance(e, rir.Col):
            return f"row[{e.name!r}]"
        if self.env == "scope" and isinstance(e, rir.Ctx):
            return f"ctx[{e.name!r}]"
        # a rules-IR node: written where both generators write it
        text = node_source(e, r, self.const)
        if text is not None:
            return text
        # anything else (items, joins, aggregates...): its closure, on the same environment
        return f"{self.const(self.fallback(e))}({'j' if self.env == 'json' else 's'})"


@dataclass(frozen=True, slots=True)
class Shape:
    """What the function `fuse` makes of its roots gives (`closures_of` gives the same from their
    closures): a tuple of their values; the value itself when ``single``; a new dict by
    ``names`` (with ``guarded``, the first root is a condition: `SKIP` unless it is True, else
    the dict of the other roots, so the nodes the condition and the values share are computed
    once); with ``flags``, whether each is True; with ``pick`` (roots: a condition, a value,
    orders), `SKIP` unless the condition is True, else the value and the orders (computed only
    then); with ``groups`` (spans of the roots), a tuple of such picks; with ``collect`` too, a
    function of the scope and rows giving, per group, the list of (row, value, orders) of the
    rows whose condition is True (the loop over the rows inside the function)."""

    single: bool = False
    names: Sequence[str] | None = None
    flags: bool = False
    pick: bool = False
    groups: Sequence[tuple[int, int]] | None = None
    collect: bool = False
    guarded: bool = False


_TUPLE = Shape()


def fuse(
    roots: Sequence[ir.Expr],
    env: str,
    helpers: dict[str, Any],
    fallback: Callable[[ir.Expr], Fn],
    shape: Shape = _TUPLE,
) -> Fn:
    """One function of the environment giving the roots' values as ``shape`` says (`Shape`).
    Should it raise, the closures give it instead (`closures_of`, the same shape)."""
    single, names, flags, pick = shape.single, shape.names, shape.flags, shape.pick
    groups, guarded = shape.groups, shape.guarded
    if shape.collect:
        return _fuse_collect(roots, helpers, fallback, groups or [(0, len(roots))], flags)
    source = _Source(env, helpers, fallback, _count_uses(roots))
    if names is not None and guarded:
        first_test = source.first_test(roots[0])  # may add the statements it reads first
        source.lines += first_test
    outs = [source.ref(roots[0])[0]]
    for_first = len(source.lines)  # the statements the first root needs, in order
    outs += [source.ref(root)[0] for root in roots[1:]]
    arg = "j" if env == "json" else "s"
    head = [f"def fused({arg}):", "  try:"]
    if env == "scope":
        head += ["    row = s.row", "    ctx = s.ctx"]
    if single:
        result = outs[0]
    elif names is not None and guarded:
        # The condition first, on the statements it needs; the columns' own statements only
        # when it is True: most resources of a type are not read (a weight, a blood pressure),
        # and they now cost the condition alone. The values are the same whatever the order
        # (the nodes are pure; one that raises sends the call to the closures either way).
        source.lines[for_first:for_first] = [f"    if {outs[0]} is not True:", "      return SKIP"]
        pairs = zip(names, outs[1:], strict=True)
        result = "{" + ", ".join(f"{n!r}: {o}" for n, o in pairs) + "}"
    elif names is not None:
        result = "{" + ", ".join(f"{n!r}: {o}" for n, o in zip(names, outs, strict=True)) + "}"
    elif flags:
        result = "(" + ", ".join(f"{o} is True" for o in outs) + ",)"
    elif pick:
        result = _pick(outs)
    elif groups is not None:
        result = "(" + "".join(f"{_pick(outs[a:b])}, " for a, b in groups) + ")"
    else:
        result = f"({', '.join(outs)},)"
    text = "\n".join(
        [
            *head,
            *source.lines,
            f"    return {result}",
            "  except Exception:",
            f"    return SLOW({arg})",
        ]
    )
    slow = closures_of(roots, fallback, shape)
    return _defined(text, source.names, slow, f"<records fused {_named(roots)}>")


def _fuse_collect(
    roots: Sequence[ir.Expr],
    helpers: dict[str, Any],
    fallback: Callable[[ir.Expr], Fn],
    groups: Sequence[tuple[int, int]],
    flagged: bool = False,
) -> Fn:
    """`fuse` with ``collect``: the rows' loop in the function (no call, no tuple of picks per
    row). With ``flagged`` (and one group), the rows where any root is True, each with whether
    each is. Should a row raise, the closures read all the rows again."""
    source = _Source("scope", helpers, fallback, _count_uses(roots))
    outs = [source.ref(root)[0] for root in roots]
    found = [f"f{n}" for n in range(len(groups))]
    body = [f"  {line}" for line in source.lines]
    if flagged:
        body += [
            f"      flags = ({''.join(f'{o} is True, ' for o in outs)})",
            "      if True in flags:",  # the commonest row has nothing flagged
            "        f0.append((row, flags))",
        ]
    for (a, b), name in zip(groups, found, strict=True):
        if flagged:
            break
        body += _collected(outs[a:b], name)
    text = "\n".join(
        [
            "def fused(s, rows):",
            "  outer = s.row",
            "  try:",
            "    ctx = s.ctx",
            *(f"    {name} = []" for name in found),
            "    for row in rows:",
            "      s.row = row",  # for the closures a node without a rule here calls
            *body,
            "  except Exception:",
            "    s.row = outer",
            "    return SLOW(s, rows)",
            "  s.row = outer",
            f"  return ({''.join(f'{name}, ' for name in found)})",
        ]
    )
    closures = [fallback(root) for root in roots]
    slow = _flagging(closures) if flagged else _collecting(closures, groups)
    return _defined(text, source.names, slow, f"<records fused rows {_named(roots)}>")


def _named(roots: Sequence[ir.Expr]) -> str:
    # a name of its own for each fused function, so that a profile tells one from another
    return f"{roots[0].__class__.__name__} {id(roots[0]):x}"


def _defined(text: str, names: dict[str, Any], slow: Fn, where: str) -> Fn:
    """The function ``fused`` that ``text`` defines, run with ``names`` (what its lines call)
    and ``SLOW``, the closures it falls back on should a row raise; ``where`` is its file name
    in a traceback or profile."""
    namespace = {**names, "EMPTY": frozenset(), "SLOW": slow, "SKIP": SKIP}
    text = drop_unread_bindings(text)
    exec(compile(text + "\n", where, "exec"), namespace)  # noqa: S102 - our own IR
    fused: Fn = namespace["fused"]
    return fused


def closures_of(
    roots: Sequence[ir.Expr], compiled: Callable[[ir.Expr], Fn], shape: Shape = _TUPLE
) -> Fn:
    """What `fuse` gives, from the roots' closures alone."""
    closures = [compiled(root) for root in roots]
    single, names, flags, pick = shape.single, shape.names, shape.flags, shape.pick
    groups, collect, guarded = shape.groups, shape.collect, shape.guarded
    if collect:
        return _flagging(closures) if flags else _collecting(closures, groups or [(0, len(roots))])
    if guarded and names is not None:
        keys, cond, values = tuple(names), closures[0], closures[1:]
        return lambda env: (
            dict(zip(keys, [fn(env) for fn in values], strict=True)) if cond(env) is True else SKIP
        )
    if pick:
        return _picked(closures)
    if groups is not None:
        picks = [_picked(closures[a:b]) for a, b in groups]
        return lambda env: tuple(p(env) for p in picks)
    if single:
        return closures[0]
    if names is not None:
        keys = tuple(names)
        return lambda env: dict(zip(keys, [fn(env) for fn in closures], strict=True))
    if flags:
        return lambda env: tuple(fn(env) is True for fn in closures)
    return lambda env: tuple(fn(env) for fn in closures)
