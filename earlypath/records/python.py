"""The Python engine of the records IR: one patient's FHIR resources (plain JSON) -> the steps.

Each node is compiled once into a closure (as `earlypath.engines.evaluate` does for the rule
IR), then a reading is a few function calls per resource: no FHIR model is built, only the JSON
the definition names is read, and a JSON value of another type than the one read is None.

Two kinds of closure, one per layer of `earlypath.records.ir`:
- over a resource's JSON (or a list item inside `AnyItem` / `FirstItem`): ``fn(json)``;
- over an encounter's context and the row being aggregated: ``fn(scope)``.
The rule-IR nodes compile to either kind. Nothing here logs: the input is patient data.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from earlypath.errors import Problem
from earlypath.fhir.codes import CodeSet, load_codes, word_pattern
from earlypath.records import ir as rir
from earlypath.rules import ir

__all__ = ["Reading", "Rows", "read", "read_rows", "read_episode"]

Fn = Callable[[Any], Any]

_CMP = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_STRIP = " \t\n\r\x0b\x0c"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NONE_TEXT = "(none)"


@dataclass
class Scope:
    """What an episode-layer closure reads: the context (assessed_on, encounter, earlier steps)
    and the row being aggregated."""

    ctx: dict[str, Any]
    row: dict[str, Any] | None = None


@dataclass
class Rows:
    """The rows of every table, the problems the checks reported, per table in input order."""

    tables: dict[str, list[dict[str, Any]]]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Reading:
    """The steps' values by name, the problems (resource checks then this encounter's), and the
    evidence: episode fact -> refs of the rows it rests on."""

    values: dict[str, Any]
    problems: list[Problem]
    evidence: dict[str, list[str]]


# --- JSON reading ------------------------------------------------------------------------------


def _walker(path: str) -> Callable[[Any], Any]:
    keys = tuple(path.split(".")) if path else ()
    if len(keys) == 1:
        key = keys[0]
        return lambda j: j.get(key) if type(j) is dict else None

    def walk(j: Any) -> Any:
        for key in keys:
            if type(j) is not dict:
                return None
            j = j.get(key)
        return j

    return walk


def _typed(kind: str) -> Callable[[Any], Any]:
    if kind == "str":
        return lambda v: v if type(v) is str else None
    if kind == "num":
        return lambda v: v if type(v) is int or type(v) is float else None
    if kind == "bool":
        return lambda v: v if type(v) is bool else None
    if kind == "any":
        return lambda v: None if v is None else True
    raise ValueError(f"records IR: Field type {kind!r} is not str, num, bool or any")


def _codings(concept: Any) -> list[dict[str, Any]]:
    if type(concept) is not dict:
        return []
    codings = concept.get("coding")
    if type(codings) is not list:
        return []
    return [c for c in codings if type(c) is dict]


def _text(value: Any) -> str:
    return value if type(value) is str else ""


def _key(coding: dict[str, Any]) -> tuple[str, str]:
    return _text(coding.get("system")), _text(coding.get("code"))


class _Matcher:
    """`CodeSet.matches` over JSON: a listed code, or a word in the text or a display."""

    def __init__(self, codes: CodeSet):
        self.codes = codes.codes
        self.at_least = codes.at_least
        self.words = tuple(re.compile(word_pattern(w)) for w in codes.words)

    def first_key(self, concept: Any) -> tuple[str, str] | None:
        for coding in _codings(concept):
            key = _key(coding)
            if key in self.codes:
                return key
        return None

    def matches(self, concept: Any) -> bool:
        if type(concept) is not dict:
            return False
        codings = _codings(concept)
        codes = self.codes
        for coding in codings:
            if _key(coding) in codes:
                return True
        if not self.words:
            return False
        parts = [_text(concept.get("text"))] + [_text(c.get("display")) for c in codings]
        text = " ".join(parts).lower()
        return any(word.search(text) for word in self.words)


def _matcher(codes: dict[str, CodeSet], name: str) -> _Matcher:
    if name not in codes:
        raise ValueError(f"records IR: no value set named {name!r}")
    return _Matcher(codes[name])


def as_day(text: Any) -> dt.date | None:
    """`rir.Day`: the first ten characters of a text when they are a real date YYYY-MM-DD."""
    if type(text) is not str or len(text) < 10 or not _DAY.match(text):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def ref_id(reference: Any, kind: str) -> str | None:
    """`rir.RefId`: the id a reference points to for resource type ``kind``."""
    if type(reference) is not str:
        return None
    match = _reference_pattern(kind).fullmatch(reference)
    return match.group(1) if match else None


_patterns: dict[str, re.Pattern[str]] = {}


def _reference_pattern(kind: str) -> re.Pattern[str]:
    pattern = _patterns.get(kind)
    if pattern is None:
        pattern = _patterns[kind] = re.compile(
            rf"(?:(?:[^/]*/)*{re.escape(kind)}/|urn:uuid:)([^/]+)(?:/_history/[^/]+)?"
        )
    return pattern


def show(value: Any) -> str:
    """How a `rir.Message` shows a value: Python's str (a date as ISO), None as "(none)"."""
    return _NONE_TEXT if value is None else str(value)


# --- compiling ---------------------------------------------------------------------------------


class _Compiler:
    """Compiles the nodes of one `EpisodeSpec`, with the site's value sets as they are now."""

    def __init__(self, codes: dict[str, CodeSet], state: threading.local):
        self.codes = codes
        self.state = state  # the tables of the reading under way (for `Joined`)
        self.matchers: dict[str, _Matcher] = {}
        self.cache: dict[rir.Expr | ir.Expr, Fn] = {}

    def matcher(self, name: str) -> _Matcher:
        found = self.matchers.get(name)
        if found is None:
            found = self.matchers[name] = _matcher(self.codes, name)
        return found

    def expr(self, e: ir.Expr) -> Fn:
        fn = self.cache.get(e)
        if fn is None:
            fn = self.cache[e] = self._compile(e)
        return fn

    def message(self, message: rir.Message) -> Fn:
        parts = tuple(p if isinstance(p, str) else self.expr(p) for p in message.parts)

        def text(env: Any) -> str:
            return "".join(p if isinstance(p, str) else show(p(env)) for p in parts)

        return text

    def _compile(self, e: ir.Expr) -> Fn:  # noqa: C901, PLR0911, PLR0912 - one case per node
        fn = self._record_node(e)
        if fn is not None:
            return fn
        return self._rule_node(e)

    def _record_node(self, e: ir.Expr) -> Fn | None:  # noqa: C901, PLR0911, PLR0912
        if isinstance(e, rir.Field):
            walk, typed = _walker(e.path), _typed(e.type)
            return lambda j: typed(walk(j))
        if isinstance(e, rir.Concept):
            walk = _walker(e.path)

            def concept(j: Any) -> Any:
                v = walk(j)
                return v if type(v) is dict else None

            return concept
        if isinstance(e, rir.InSet):
            matches, of = self.matcher(e.value_set).matches, self.expr(e.concept)
            return lambda j: matches(of(j))
        if isinstance(e, rir.TextInSet):
            words, of = self.matcher(e.value_set).words, self.expr(e.text)

            def text_in_set(j: Any) -> bool:
                v = of(j)
                if type(v) is not str:
                    return False
                text = v.lower()
                return any(word.search(text) for word in words)

            return text_in_set
        if isinstance(e, rir.LocalId):
            of = self.expr(e.reference)

            def local_id(j: Any) -> str | None:
                v = of(j)
                return v[1:] if type(v) is str and len(v) > 1 and v[0] == "#" else None

            return local_id
        if isinstance(e, rir.Left):
            of, length = self.expr(e.text), e.length

            def left(j: Any) -> str | None:
                v = of(j)
                return None if v is None else v[:length]

            return left
        if isinstance(e, rir.Outer):
            of, state = self.expr(e.item), self.state
            return lambda j: of(state.resource)
        if isinstance(e, rir.FirstCode):
            of = self.expr(e.concept)

            def first_code(j: Any) -> str | None:
                codings = _codings(of(j))
                if not codings:
                    return None
                code = codings[0].get("code")
                return code if type(code) is str else None

            return first_code
        if isinstance(e, rir.AtLeast):
            matcher, of = self.matcher(e.value_set), self.expr(e.concept)

            def at_least(j: Any) -> int | None:
                key = matcher.first_key(of(j))
                return None if key is None else matcher.at_least.get(key, 1)

            return at_least
        if isinstance(e, rir.Day):
            of = self.expr(e.text)
            return lambda j: as_day(of(j))
        if isinstance(e, rir.NormText):
            of = self.expr(e.text)

            def norm_text(j: Any) -> str | None:
                v = of(j)
                return v.strip(_STRIP).lower() if type(v) is str else None

            return norm_text
        if isinstance(e, rir.OneOf):
            of, values = self.expr(e.item), e.values

            def one_of(j: Any) -> bool | None:
                v = of(j)
                if v is None:
                    return None
                return any(type(v) is type(x) and v == x for x in values)

            return one_of
        if isinstance(e, rir.Lookup):
            of, pairs = self.expr(e.item), e.pairs

            def lookup(j: Any) -> Any:
                v = of(j)
                if v is None:
                    return None
                for key, value in pairs:
                    if type(key) is type(v) and key == v:
                        return value
                return None

            return lookup
        if isinstance(e, rir.Round2):
            of = self.expr(e.item)

            def round2(j: Any) -> float | None:
                v = of(j)
                return None if v is None else round(v, 2)

            return round2
        if isinstance(e, rir.RefId):
            of, kind = self.expr(e.reference), e.kind
            return lambda j: ref_id(of(j), kind)
        if isinstance(e, rir.AnyItem):
            walk, test = _walker(e.path), self.expr(e.test)

            def any_item(j: Any) -> bool:
                items = walk(j)
                return type(items) is list and any(test(item) is True for item in items)

            return any_item
        if isinstance(e, rir.FirstItem):
            walk, test, value = _walker(e.path), self.expr(e.test), self.expr(e.value)

            def first_item(j: Any) -> Any:
                items = walk(j)
                if type(items) is not list:
                    return None
                for item in items:
                    if test(item) is True:
                        return value(item)
                return None

            return first_item
        if isinstance(e, rir.Joined):
            key_of, table, column, state = self.expr(e.key), e.table, e.column, self.state

            def joined(j: Any) -> Any:
                key = key_of(j)
                if key is None:
                    return None
                row = state.index(table).get(key)
                return None if row is None else row.get(column)

            return joined
        if isinstance(e, rir.Ctx):
            name = e.name
            return lambda s: s.ctx.get(name)
        if isinstance(e, rir.Col):
            name = e.name
            return lambda s: s.row.get(name)
        if isinstance(e, rir.Agg):
            return self._agg(e)
        if isinstance(e, rir.Days):
            return self._days(e)
        return None

    def _rule_node(self, e: ir.Expr) -> Fn:  # noqa: C901, PLR0911, PLR0912
        if isinstance(e, ir.Const):
            value = e.value
            return lambda env: value
        if isinstance(e, ir.Fact):
            raise TypeError(f"records IR: a Fact ({e.name}) must be replaced by Ctx or Col")
        if isinstance(e, ir.Cmp | ir.Arith):
            op = _CMP[e.op] if isinstance(e, ir.Cmp) else _ARITH[e.op]
            left, right = self.expr(e.left), self.expr(e.right)

            def binary(env: Any) -> Any:
                a = left(env)
                if a is None:
                    return None
                b = right(env)
                return None if b is None else op(a, b)

            return binary
        if isinstance(e, ir.And | ir.Or):
            items = tuple(self.expr(i) for i in e.items)
            stop = isinstance(e, ir.Or)  # the value that decides: True for OR, False for AND

            def kleene(env: Any) -> bool | None:
                unknown = False
                for item in items:
                    v = item(env)
                    if v is None:
                        unknown = True
                    elif bool(v) is stop:
                        return stop
                return None if unknown else not stop

            return kleene
        if isinstance(e, ir.Not):
            item = self.expr(e.item)

            def not_(env: Any) -> bool | None:
                v = item(env)
                return None if v is None else not v

            return not_
        if isinstance(e, ir.Match):
            item, yes, no = self.expr(e.item), frozenset(e.true_values), frozenset(e.false_values)

            def match(env: Any) -> bool | None:
                v = item(env)
                return True if v in yes else False if v in no else None

            return match
        if isinstance(e, ir.IsNull):
            item = self.expr(e.item)
            return lambda env: item(env) is None
        if isinstance(e, ir.IsTrue):
            item = self.expr(e.item)
            return lambda env: item(env) is True
        if isinstance(e, ir.Sqrt | ir.Floor):
            item, fn = self.expr(e.item), math.sqrt if isinstance(e, ir.Sqrt) else math.floor

            def unary(env: Any) -> Any:
                v = item(env)
                return None if v is None else fn(v)

            return unary
        if isinstance(e, ir.DaysBetween):
            start, end = self.expr(e.start), self.expr(e.end)

            def days_between(env: Any) -> int | None:
                a, b = start(env), end(env)
                return None if a is None or b is None else (b - a).days

            return days_between
        if isinstance(e, ir.AddDays):
            date, days = self.expr(e.date), self.expr(e.days)

            def add_days(env: Any) -> dt.date | None:
                a, n = date(env), days(env)
                return None if a is None or n is None else a + dt.timedelta(days=n)

            return add_days
        if isinstance(e, ir.Coalesce):
            items = tuple(self.expr(i) for i in e.items)

            def coalesce(env: Any) -> Any:
                for item in items:
                    v = item(env)
                    if v is not None:
                        return v
                return None

            return coalesce
        if isinstance(e, ir.If):
            cond, then, otherwise = self.expr(e.cond), self.expr(e.then), self.expr(e.otherwise)
            return lambda env: then(env) if cond(env) is True else otherwise(env)
        raise TypeError(f"the records engine has no rule for node {type(e).__name__}")

    # --- the episode layer ---------------------------------------------------------------------

    def _agg(self, e: rir.Agg) -> Fn:
        where, value, state = self.expr(e.where), self.expr(e.value), self.state
        order = tuple(self.expr(o) for o in e.order)
        reduce = _reducer(e.op, order)
        table, evidence = e.table, e.evidence

        def agg(s: Scope) -> Any:
            outer = s.row
            chosen = []
            for row in state.rows_of(table):
                s.row = row
                if where(s) is True:
                    chosen.append(row)
            result, used = reduce(s, chosen, value)
            s.row = outer
            if evidence is not None:
                state.note(evidence, used)
            return result

        return agg

    def _days(self, e: rir.Days) -> Fn:
        where, day_of, state = self.expr(e.where), self.expr(e.day), self.state
        columns = tuple(
            (name, self.expr(a.value), _reducer(a.op, tuple(self.expr(o) for o in a.order)), a)
            for name, a in e.columns
        )
        derived = tuple((name, self.expr(x)) for name, x in e.derived)
        table, carry = e.table, e.carry

        def days(s: Scope) -> list[dict[str, Any]]:
            outer = s.row
            by_day: dict[Any, list[dict[str, Any]]] = {}
            for row in state.rows_of(table):
                s.row = row
                if where(s) is True:
                    day = day_of(s)
                    if day is not None:
                        by_day.setdefault(day, []).append(row)
            records = []
            carried: dict[str, Any] = {}
            for day in sorted(by_day):
                rows = by_day[day]
                record: dict[str, Any] = {"day": day}
                for name, value, reduce, agg in columns:
                    record[name], used = reduce(s, rows, value)
                    if agg.evidence is not None:
                        state.note(agg.evidence, used)
                for name in carry:
                    if record.get(name) is None:
                        record[name] = carried.get(name)
                    else:
                        carried[name] = record[name]
                s.row = record
                for name, fn in derived:
                    record[name] = fn(s)
                records.append(record)
            s.row = outer
            return records

        return days


def _order_key(order: tuple[Fn, ...], s: Scope, row: dict[str, Any]) -> tuple[Any, ...]:
    s.row = row
    # None sorts below every value, so a known value is always the latest
    return tuple((v is not None, v) if (v := o(s)) is not None else (False, 0) for o in order)


def _reducer(op: str, order: tuple[Fn, ...]) -> Callable[..., tuple[Any, list[Any]]]:
    """(scope, rows, value fn) -> (the aggregate, the rows it rests on)."""

    def values(s: Scope, rows: list[dict[str, Any]], value: Fn) -> list[tuple[Any, Any]]:
        out = []
        for row in rows:
            s.row = row
            v = value(s)
            if v is not None:
                out.append((v, row))
        return out

    if op in ("any", "all"):
        stop = op == "any"

        def kleene(s: Scope, rows: list, value: Fn) -> tuple[Any, list]:
            found = values(s, rows, value)
            if not found:
                return None, []
            deciding = [row for v, row in found if bool(v) is stop]
            if deciding:
                return stop, deciding
            return not stop, [row for _, row in found]

        return kleene
    if op in ("max", "min"):
        pick = max if op == "max" else min

        def extreme(s: Scope, rows: list, value: Fn) -> tuple[Any, list]:
            found = values(s, rows, value)
            if not found:
                return None, []
            best = pick(v for v, _ in found)
            return best, [row for _, row in found]

        return extreme
    if op == "count_distinct":

        def count_distinct(s: Scope, rows: list, value: Fn) -> tuple[Any, list]:
            found = values(s, rows, value)
            return len({v for v, _ in found}), [row for _, row in found]

        return count_distinct
    if op == "latest":

        def latest(s: Scope, rows: list, value: Fn) -> tuple[Any, list]:
            if not rows:
                return None, []
            best = max(rows, key=lambda row: _order_key(order, s, row))
            s.row = best
            return value(s), [best]

        return latest
    if op == "collect":

        def collect(s: Scope, rows: list, value: Fn) -> tuple[Any, list]:
            found = values(s, rows, value)
            return [v for v, _ in found], [row for _, row in found]

        return collect
    raise ValueError(f"records IR: no aggregate {op!r}")


# --- running -----------------------------------------------------------------------------------


class _State(threading.local):
    """The reading under way, per thread: its tables (and their indexes by id), the patient its
    aggregates read, and the evidence noted."""

    def begin(self, tables: dict[str, list[dict[str, Any]]], scoped: frozenset[str]) -> None:
        self.tables = tables
        self.scoped = scoped
        self.patient: str | None = None
        self.indexes: dict[str, dict[Any, dict[str, Any]]] = {}
        self.evidence: dict[str, list[str]] = {}

    def index(self, table: str) -> dict[Any, dict[str, Any]]:
        found = self.indexes.get(table)
        if found is None:
            found = self.indexes[table] = {}
            for row in self.tables.get(table, ()):
                if row.get("id") is not None:
                    found[row["id"]] = row  # of several, the last in input order
        return found

    def rows_of(self, table: str) -> list[dict[str, Any]]:
        rows = self.tables.get(table, [])
        if self.patient is None or table not in self.scoped:
            return rows
        return [row for row in rows if row["patient"] == self.patient]

    def note(self, fact: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        refs = self.evidence.setdefault(fact, [])
        for row in rows:
            ref = row.get("ref")
            if ref is not None and ref not in refs:
                refs.append(ref)


@dataclass
class _CompiledRowSpec:
    spec: rir.RowSpec
    when: Fn
    patient: Fn | None
    columns: tuple[tuple[str, Fn], ...]
    checks: tuple[tuple[Fn, Fn], ...]


@dataclass
class _CompiledSpec:
    rows: tuple[_CompiledRowSpec, ...]
    steps: tuple[tuple[str, Fn], ...]
    problems: tuple[tuple[str, Fn, Fn, Fn | None], ...]
    scoped: frozenset[str]
    state: _State


_compiled: dict[tuple[int, Any], tuple[rir.EpisodeSpec, _CompiledSpec]] = {}


def _compile_spec(spec: rir.EpisodeSpec) -> _CompiledSpec:
    codes = load_codes()  # the site's value sets as they are now (cached per folder)
    key = (id(spec), id(codes))
    found = _compiled.get(key)
    if found is not None and found[0] is spec:
        return found[1]
    state = _State()
    c = _Compiler(codes, state)
    rows = tuple(
        _CompiledRowSpec(
            r,
            c.expr(r.when),
            c.expr(r.patient) if r.patient is not None else None,
            tuple((name, c.expr(x)) for name, x in r.columns),
            tuple((c.expr(k.ok), c.message(k.message)) for k in r.checks),
        )
        for r in spec.rows
    )
    compiled = _CompiledSpec(
        rows,
        tuple((name, c.expr(x)) for name, x in spec.steps),
        tuple(
            (
                p.table,
                c.expr(p.where),
                c.message(p.message),
                c.message(p.ref) if p.ref is not None else None,
            )
            for p in spec.problems
        ),
        frozenset(r.table for r in spec.rows if r.patient is not None),
        state,
    )
    _compiled[key] = (spec, compiled)
    return compiled


def _ref(resource: dict[str, Any]) -> str:
    kind, rid = resource.get("resourceType"), resource.get("id")
    return f"{kind if type(kind) is str else 'Resource'}/{rid if type(rid) is str else '(no id)'}"


def read_rows(spec: rir.EpisodeSpec, resources: Iterable[Any]) -> Rows:
    """Layer 1: each resource (a JSON object; anything else is skipped) into the rows of every
    `RowSpec` it meets, in input order, with the problems its checks report."""
    compiled = _compile_spec(spec)
    by_type: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, resource in enumerate(resources, start=1):
        if type(resource) is dict:
            kind = resource.get("resourceType")
            if type(kind) is str:
                by_type.setdefault(kind, []).append((n, resource))
    tables: dict[str, list[dict[str, Any]]] = {r.spec.table: [] for r in compiled.rows}
    problems: list[tuple[int, Problem]] = []
    state = compiled.state
    state.begin(tables, compiled.scoped)
    for r in compiled.rows:
        out = tables[r.spec.table]
        for n, resource in by_type.get(r.spec.resource, ()):
            state.resource = resource
            if r.when(resource) is not True:
                continue
            failed = next((message for ok, message in r.checks if ok(resource) is not True), None)
            if failed is not None:
                problems.append((n, Problem(_ref(resource), failed(resource))))
                continue
            row = {name: fn(resource) for name, fn in r.columns}
            row["ref"] = _ref(resource)
            row["n"] = n
            row["patient"] = r.patient(resource) if r.patient is not None else None
            out.append(row)
    for rows in tables.values():
        rows.sort(key=lambda row: row["n"])
    problems.sort(key=lambda item: item[0])
    return Rows(tables, [p for _, p in problems])


def read_episode(
    spec: rir.EpisodeSpec,
    rows: Rows,
    assessed_on: dt.date,
    encounter: str | None = None,
    patient: str | None = None,
) -> Reading:
    """Layer 2: the steps and problems of one encounter, over the rows of ``patient`` (every
    row when None: the CDS call holds one patient's record)."""
    compiled = _compile_spec(spec)
    state = compiled.state
    state.begin(rows.tables, compiled.scoped)
    state.patient = patient
    scope = Scope({"assessed_on": assessed_on, "encounter": encounter})
    for name, fn in compiled.steps:
        scope.ctx[name] = fn(scope)
    problems = list(rows.problems)
    for table, where, message, ref in compiled.problems:
        source = scope.ctx[table] if table in scope.ctx else state.rows_of(table)
        for row in source:
            scope.row = row
            if where(scope) is True:
                problems.append(Problem(ref(scope) if ref else row["ref"], message(scope)))
    scope.row = None
    values = {name: scope.ctx[name] for name, _ in compiled.steps}
    return Reading(values, problems, state.evidence)


def read(
    spec: rir.EpisodeSpec,
    resources: Iterable[Any],
    assessed_on: dt.date,
    encounter: str | None = None,
    patient: str | None = None,
) -> Reading:
    """Both layers for one encounter (the CDS call: ``encounter`` None)."""
    return read_episode(spec, read_rows(spec, resources), assessed_on, encounter, patient)
