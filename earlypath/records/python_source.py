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

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from earlypath.records import ir as rir
from earlypath.rules import ir

Fn = Callable[[Any], Any]

_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/"}
_CHECK = {
    "str": "type({w}) is str",
    "num": "(type({w}) is int or type({w}) is float)",
    "bool": "type({w}) is bool",
}


class _Source:
    def __init__(self, env: str, helpers: dict[str, Any], fallback: Callable[[ir.Expr], Fn]):
        self.env = env  # "json": the function reads j (a resource); "scope": s (row, ctx)
        self.helpers = helpers
        self.fallback = fallback
        self.names: dict[str, Any] = dict(helpers)
        self.lines: list[str] = []
        self.vars: dict[Any, str] = {}

    def const(self, value: Any) -> str:
        name = f"k{len(self.names)}"
        self.names[name] = value
        return name

    def line(self, key: Any, code: str) -> str:
        name = f"v{len(self.vars)}"
        self.lines.append(f"    {name} = {code}")
        self.vars[key] = name
        return name

    def walk(self, path: str) -> str:
        key = ("walk", path)
        if key in self.vars:
            return self.vars[key]
        head, _, last = path.rpartition(".")
        if not head:
            return self.line(key, f"j.get({last!r})")
        parent = self.walk(head)
        return self.line(key, f"{parent}.get({last!r}) if type({parent}) is dict else None")

    def sets(self, concept: str) -> str:
        key = ("sets", concept)
        if key in self.vars:
            return self.vars[key]
        return self.line(key, f"SETS_OF({concept}) if {concept} is not None else EMPTY")

    def var(self, e: ir.Expr) -> str:
        found = self.vars.get(e)
        if found is not None:
            return found
        if isinstance(e, ir.Const):
            name = self.const(e.value)
            self.vars[e] = name
            return name
        return self.line(e, self.code(e))

    def code(self, e: ir.Expr) -> str:  # noqa: C901, PLR0911, PLR0912 - one case per node
        v = self.var
        if self.env == "json" and isinstance(e, rir.Field):
            w = self.walk(e.path)
            if e.type == "any":
                return f"None if {w} is None else True"
            return f"{w} if {_CHECK[e.type].format(w=w)} else None"
        if self.env == "json" and isinstance(e, rir.Concept):
            w = self.walk(e.path)
            return f"{w} if type({w}) is dict else None"
        if isinstance(e, rir.InSet):
            c = v(e.concept)
            test = f"{e.value_set!r} in {self.sets(c)}"
            matcher = self.helpers["MATCHER"](e.value_set)
            if matcher.words:
                test += f" or {self.const(matcher.matches)}({c})"
            return test
        if isinstance(e, rir.Day):
            return f"AS_DAY({v(e.text)})"
        if isinstance(e, rir.NormText):
            t = v(e.text)
            return f"{t}.strip(STRIP).lower() if type({t}) is str else None"
        if isinstance(e, rir.OneOf):
            a, values = v(e.item), self.const(frozenset((x, type(x)) for x in e.values))
            return f"None if {a} is None else ({a}, type({a})) in {values}"
        if isinstance(e, rir.Lookup):
            a, pairs = v(e.item), self.const({(k, type(k)): x for k, x in reversed(e.pairs)})
            return f"None if {a} is None else {pairs}.get(({a}, type({a})))"
        if isinstance(e, rir.Round2):
            a = v(e.item)
            return f"None if {a} is None else round({a}, 2)"
        if isinstance(e, rir.RefId):
            return f"REF_ID({v(e.reference)}, {e.kind!r})"
        if isinstance(e, rir.Left):
            a = v(e.text)
            return f"None if {a} is None else {a}[:{int(e.length)}]"
        if self.env == "scope" and isinstance(e, rir.Col):
            return f"row.get({e.name!r})"
        if self.env == "scope" and isinstance(e, rir.Ctx):
            return f"ctx.get({e.name!r})"
        if isinstance(e, ir.Cmp | ir.Arith):
            a, b = v(e.left), v(e.right)
            op = _CMP[e.op] if isinstance(e, ir.Cmp) else _ARITH[e.op]
            return f"None if {a} is None or {b} is None else {a} {op} {b}"
        if isinstance(e, ir.And | ir.Or):
            xs = [v(i) for i in e.items]
            unknown = " or ".join(f"{x} is None" for x in xs)
            if isinstance(e, ir.And):
                decides = " or ".join(f"({x} is not None and not {x})" for x in xs)
                return f"False if ({decides}) else (None if ({unknown}) else True)"
            decides = " or ".join(f"({x} is not None and {x})" for x in xs)
            return f"True if ({decides}) else (None if ({unknown}) else False)"
        if isinstance(e, ir.Not):
            a = v(e.item)
            return f"None if {a} is None else not {a}"
        if isinstance(e, ir.Match):
            a = v(e.item)
            yes, no = self.const(frozenset(e.true_values)), self.const(frozenset(e.false_values))
            return f"True if {a} in {yes} else (False if {a} in {no} else None)"
        if isinstance(e, ir.IsNull):
            return f"{v(e.item)} is None"
        if isinstance(e, ir.IsTrue):
            return f"{v(e.item)} is True"
        if isinstance(e, ir.Sqrt | ir.Floor):
            a, fn = v(e.item), "SQRT" if isinstance(e, ir.Sqrt) else "FLOOR"
            return f"None if {a} is None else {fn}({a})"
        if isinstance(e, ir.DaysBetween):
            a, b = v(e.start), v(e.end)
            return f"None if {a} is None or {b} is None else ({b} - {a}).days"
        if isinstance(e, ir.AddDays):
            a, n = v(e.date), v(e.days)
            return f"None if {a} is None or {n} is None else {a} + TIMEDELTA(days={n})"
        if isinstance(e, ir.Coalesce):
            xs = [v(i) for i in e.items]
            out = xs[-1]
            for x in reversed(xs[:-1]):
                out = f"{x} if {x} is not None else ({out})"
            return out
        if isinstance(e, ir.If):
            c, t, o = v(e.cond), v(e.then), v(e.otherwise)
            return f"{t} if {c} is True else {o}"
        # anything else (items, joins, aggregates...): its closure, on the same environment
        return f"{self.const(self.fallback(e))}({'j' if self.env == 'json' else 's'})"


def fuse(
    roots: Sequence[ir.Expr],
    env: str,
    helpers: dict[str, Any],
    fallback: Callable[[ir.Expr], Fn],
    single: bool = False,
) -> Fn:
    """One function of the environment giving the roots' values (a tuple; the value itself when
    ``single``). Should it raise, the closures give the values instead."""
    source = _Source(env, helpers, fallback)
    outs = [source.var(root) for root in roots]
    arg = "j" if env == "json" else "s"
    head = [f"def fused({arg}):", "  try:"]
    if env == "scope":
        head += ["    row = s.row", "    ctx = s.ctx"]
    result = outs[0] if single else f"({', '.join(outs)},)"
    text = "\n".join(
        [
            *head,
            *source.lines,
            f"    return {result}",
            "  except Exception:",
            f"    return SLOW({arg})",
        ]
    )
    closures = [fallback(root) for root in roots]
    if single:
        slow = closures[0]
    else:

        def slow(value: Any) -> tuple[Any, ...]:
            return tuple(fn(value) for fn in closures)

    names = {
        **source.names,
        "TIMEDELTA": dt.timedelta,
        "SQRT": math.sqrt,
        "FLOOR": math.floor,
        "EMPTY": frozenset(),
        "SLOW": slow,
    }
    exec(compile(text + "\n", "<records fused>", "exec"), names)  # noqa: S102 - our own IR
    return names["fused"]
