"""The Python engine of the records IR: one patient's FHIR resources (plain JSON) -> the steps.

Each node is compiled once into a closure (as `earlypath.engines.evaluate` does for the rule
IR), then a reading is a few function calls per resource: no FHIR model is built, only the JSON
the definition names is read, and a JSON value of another type than the one read is None.

Two kinds of closure, one per layer of `earlypath.records.ir`:
- over a resource's JSON (or a list item inside `AnyItem` / `FirstItem`): ``fn(json)``;
- over an encounter's context and the row being aggregated: ``fn(scope)``.
The rule-IR nodes compile to either kind. The closures are the reference reading of each node;
what runs per resource and per row is the same expressions fused into one generated function
(`earlypath.records.python_source`), which falls back on the closures if it ever raises. Both
paths run every case of tests/records/node_cases.py. Above both, `read` runs the whole reading
as one function generated from the definition (`earlypath.records.python_reading`), with these
parts as its fallback. Nothing here logs: the input is patient data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from earlypath.engines.evaluate import compile_node
from earlypath.errors import Problem
from earlypath.fhir.codes import CodeSet, load_codes
from earlypath.records import ir as rir
from earlypath.records.aggregates import Scope, reducer, reducer_of_one
from earlypath.records.identifiers import tie
from earlypath.records.item_rows import ref_source, with_items
from earlypath.records.json_values import (
    STRIP,
    Matcher,
    day_readers,
    first_code,
    matcher_for,
    nhs_number,
    ref_id,
    sets_of,
    show,
    typed,
    walker,
)
from earlypath.records.merges import Merges, resolve
from earlypath.records.python_reading import (
    ReadingFn,
    Unsupported,
    generate_reading,
    reads_any,
    row_roots,
)
from earlypath.records.python_source import SKIP, Shape, closures_of, fuse
from earlypath.records.time_zone import DEFAULT_TIME_ZONE, configured_time_zone
from earlypath.rules import ir

__all__ = ["Reading", "Rows", "read", "read_rows", "read_episode"]

Fn = Callable[..., Any]  # a compiled node: of the scope, or (fused collect) of the scope and rows


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


class _Compiler:
    """Compiles the nodes of one `EpisodeSpec`, with the site's value sets as they are now."""

    def __init__(
        self,
        codes: dict[str, CodeSet],
        state: threading.local,
        fuse: bool = True,
        time_zone: str = DEFAULT_TIME_ZONE,
    ):
        self.fuse = fuse  # False: closures only (the reference path, for the tests)
        self.codes = codes
        # `Day` and `SpanDay`: an instant dated in the reading's time zone (`time_zone`)
        self.as_day, self.span_day = day_readers(time_zone)
        self.state = state  # the tables of the reading under way (for `Joined`)
        self.matchers: dict[str, Matcher] = {}
        self.sets_of_key: dict[tuple[str, str], frozenset[str]] = {}
        for name, code_set in codes.items():
            for key in code_set.codes:
                self.sets_of_key[key] = self.sets_of_key.get(key, frozenset()) | {name}
        self.cache: dict[rir.Expr | ir.Expr, Fn] = {}

    def helpers(self) -> dict[str, Any]:
        by_key = self.sets_of_key
        return {
            # the sets of a concept: SETS_OF(concept, BY_KEY) in the generated source (no
            # function of our own around it: a call less for every concept read)
            "SETS_OF": sets_of,
            "BY_KEY": by_key,
            "AS_DAY": self.as_day,
            "SPAN_DAY": self.span_day,
            "FIRST_CODE": first_code,
            "STRIP": STRIP,
            "REF_ID": ref_id,
            "NHS_NUMBER": nhs_number,
            "MATCHER": self.matcher,
        }

    def fused(self, roots: Sequence[ir.Expr], env: str, **shape: Any) -> Fn:
        """The roots as one function (`python_source.fuse`; ``shape``: the fields of its
        `Shape`), their closures as its fallback."""
        if not self.fuse:
            return closures_of(roots, self.expr, Shape(**shape))
        return fuse(roots, env, self.helpers(), self.expr, Shape(**shape))

    def matcher(self, name: str) -> Matcher:
        found = self.matchers.get(name)
        if found is None:
            found = self.matchers[name] = matcher_for(self.codes, name)
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
            walk, as_type = walker(e.path), typed(e.type)
            return lambda j: as_type(walk(j))
        if isinstance(e, rir.Concept):
            walk = walker(e.path)

            def concept(j: Any) -> Any:
                v = walk(j)
                return v if type(v) is dict else None

            return concept
        if isinstance(e, rir.InSet):
            matcher, of, name = self.matcher(e.value_set), self.expr(e.concept), e.value_set
            worded = e.words and bool(matcher.words)
            by_key, state = self.sets_of_key, self.state

            def in_set(j: Any) -> bool:
                concept = of(j)
                if type(concept) is not dict:
                    return False
                # the sets a concept's codes are in, found once per concept and reading
                memo = state.concepts
                names = memo.get(id(concept))
                if names is None:
                    names = memo[id(concept)] = sets_of(concept, by_key)
                if name in names:
                    return True
                return worded and matcher.words_name_it(concept)

            return in_set
        if isinstance(e, rir.TextInSet):
            search, of = self.matcher(e.value_set).search_words, self.expr(e.text)

            def text_in_set(j: Any) -> bool:
                v = of(j)
                if type(v) is not str:
                    return False
                return search(v.lower()) is not None

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
        if isinstance(e, rir.NhsNumber):
            of = self.expr(e.text)
            return lambda j: nhs_number(of(j))
        if isinstance(e, rir.Outer):
            of, state = self.expr(e.item), self.state
            return lambda j: of(state.resource)
        if isinstance(e, rir.FirstCode):
            of = self.expr(e.concept)
            return lambda j: first_code(of(j))
        if isinstance(e, rir.AtLeast):
            matcher, of = self.matcher(e.value_set), self.expr(e.concept)

            def at_least(j: Any) -> int | None:
                return matcher.count(of(j))

            return at_least
        if isinstance(e, rir.Day):
            of, as_day = self.expr(e.text), self.as_day
            return lambda j: as_day(of(j))
        if isinstance(e, rir.SpanDay):
            of, last, span_day = self.expr(e.text), e.last, self.span_day
            return lambda j: span_day(of(j), last)
        if isinstance(e, rir.NormText):
            of = self.expr(e.text)

            if not e.fold_case:

                def stripped(j: Any) -> str | None:
                    v = of(j)
                    return v.strip(STRIP) if type(v) is str else None

                return stripped

            def norm_text(j: Any) -> str | None:
                v = of(j)
                return v.strip(STRIP).lower() if type(v) is str else None

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
            walk, test = walker(e.path), self.expr(e.test)

            def any_item(j: Any) -> bool:
                items = walk(j)
                return type(items) is list and any(test(item) is True for item in items)

            return any_item
        if isinstance(e, rir.ItemCount):
            walk, test = walker(e.path), self.expr(e.test)

            def item_count(j: Any) -> int:
                items = walk(j)
                return sum(test(item) is True for item in items) if type(items) is list else 0

            return item_count
        if isinstance(e, rir.EveryItem):
            walk, test = walker(e.path), self.expr(e.test)

            def every_item(j: Any) -> bool | None:
                items = walk(j)
                if type(items) is not list or not items:
                    return None
                values = [test(item) for item in items]
                if any(v is False for v in values):
                    return False
                return None if any(v is not True for v in values) else True

            return every_item
        if isinstance(e, rir.AnyResourceItem):
            walk, test, state = walker(e.path), self.expr(e.test), self.state

            def any_resource_item(j: Any) -> bool:
                resource = state.resource
                items = walk(resource)
                if type(items) is not list:
                    return False
                # `Outer` in the test reads the enclosing item ``j``: it stands for the
                # resource while this list is read (nested, the inner scope's outer is it)
                state.resource = j
                try:
                    return any(test(item) is True for item in items)
                finally:
                    state.resource = resource

            return any_resource_item
        if isinstance(e, rir.FirstItem):
            walk, test, value = walker(e.path), self.expr(e.test), self.expr(e.value)

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
            key_of, column, state = self.expr(e.key), e.column, self.state
            table, order, least = e.table, e.order, e.least
            if e.patient is not None:  # keyed by (patient, id): `rir.Joined`
                patient_of = self.expr(e.patient)

                def joined_hers(j: Any) -> Any:
                    key = key_of(j)
                    if key is None:
                        return None
                    # one woman's record (`_State.one_record`): every row is hers, her
                    # merged-away ids' and her identifier's too, so the patient is not compared
                    hers = None if state.one_record else patient_of(j)
                    row = state.index(table, order, least, True).get((hers, key))
                    return None if row is None else row.get(column)

                return joined_hers

            def joined(j: Any) -> Any:
                key = key_of(j)
                if key is None:
                    return None
                row = state.index(table, order, least).get(key)
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

    def _rule_node(self, e: ir.Expr) -> Fn:
        # the rule IR's own nodes run as the rules engine runs them (one definition of each),
        # their sub-expressions compiled here, so a Col, Ctx or Field inside is read as above.
        # And/Or items are True, False or None here as in SQL (the ibis engine compiles them to
        # AND/OR), where the rules engine's `is False` and the fused source's truth test agree.
        if isinstance(e, ir.Fact):
            raise TypeError(f"records IR: a Fact ({e.name}) must be replaced by Ctx or Col")
        return compile_node(e, self.expr)

    # --- the episode layer ---------------------------------------------------------------------

    def _agg(self, e: rir.Agg) -> Fn:
        # the rows' (row, value, orders) where the condition is True, in one function
        chosen = self.fused([e.where, e.value, *e.order], "scope", collect=True)
        reduce, table, evidence = reducer(e.op), e.table, e.evidence

        def agg(s: Scope) -> Any:
            result, used = reduce(chosen(s, s.rows_of(table))[0])
            if evidence is not None:
                s.note(evidence, used)
            return result

        return agg

    def batch(self, aggs: list[rir.Agg]) -> Fn:
        """Aggregates over one table in one pass over its rows: the pass, and each row's picks
        (condition, value, orders of every aggregate), are one fused function."""
        roots: list[ir.Expr] = []
        groups = []
        for a in aggs:
            groups.append((len(roots), len(roots) + 2 + len(a.order)))
            roots += [a.where, a.value, *a.order]
        chosen = self.fused(roots, "scope", groups=groups, collect=True)
        reducers = [(reducer(a.op), a.evidence) for a in aggs]
        table = aggs[0].table

        def batch(s: Scope) -> tuple[Any, ...]:
            values = []
            for (reduce, evidence), found in zip(
                reducers, chosen(s, s.rows_of(table)), strict=True
            ):
                value, used = reduce(found)
                if evidence is not None:
                    s.note(evidence, used)
                values.append(value)
            return tuple(values)

        return batch

    def _days(self, e: rir.Days) -> Fn:
        # the rows where ``where`` is True, each with its day and every column's value and
        # orders, in one function looping over the rows
        roots: list[ir.Expr] = []
        spans = []
        for name, a in e.columns:
            spans.append(
                (
                    name,
                    len(roots),
                    len(roots) + 1 + len(a.order),
                    reducer(a.op),
                    reducer_of_one(a.op),
                    a,
                )
            )
            roots += [a.value, *a.order]
        chosen = self.fused([e.where, e.day, *roots], "scope", collect=True)
        derived = tuple((name, self.fused([x], "scope", single=True)) for name, x in e.derived)
        table, carry = e.table, e.carry

        def days(s: Scope) -> list[dict[str, Any]]:
            outer = s.row
            by_day: dict[Any, list[tuple[dict[str, Any], tuple[Any, ...]]]] = {}
            for row, day, values in chosen(s, s.rows_of(table))[0]:
                if day is not None:
                    by_day.setdefault(day, []).append((row, values))
            records = []
            carried: dict[str, Any] = {}
            for day in sorted(by_day):
                listed = by_day[day]
                record: dict[str, Any] = {"day": day}
                for name, start, end, reduce, reduce_one, agg in spans:
                    if len(listed) == 1:  # the commonest day: one finding
                        row, v = listed[0]
                        record[name], used = reduce_one(row, v[start])
                    else:
                        items = [(row, v[start], v[start + 1 : end]) for row, v in listed]
                        record[name], used = reduce(items)
                    if agg.evidence is not None:
                        s.note(agg.evidence, used)
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


class _State(threading.local):
    """The row reading under way, per thread: its tables (and their indexes by id, for
    `Joined`), the resource being read (for `Outer`), the value sets of each concept read.
    ``one_record``: the reading is of one woman's record (`read` without a patient: the CDS
    call), so every row is hers and a `Joined` with a patient compares an id's rows whatever
    their subject says (stop 29)."""

    one_record = False

    def begin(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables
        self.indexes: dict[tuple[str, tuple[str, ...], bool, bool], dict[Any, dict[str, Any]]]
        self.indexes = {}
        self.concepts: dict[int, frozenset[str]] = {}
        # per table, its rows by (patient, id) when no (patient, id) is on two rows, else None
        self.once_by_hers: dict[str, dict[Any, dict[str, Any]] | None] = {}

    def end(self) -> None:
        """Drop the reading's tables and indexes: a thread's state would otherwise hold the
        last woman's rows (her record, her id) until the next reading replaced them."""
        self.tables = {}
        self.indexes = {}
        self.concepts = {}
        self.once_by_hers = {}
        self.resource: Any = None

    def once(self, table: str) -> bool:
        """Is each (patient, id) of ``table`` on one row only (rows without an id left out)?
        Then those rows by (patient, id) are the index of every ranking (`index` with
        ``hers``): of one row, every order and ``least`` pick that row. One pass over the
        rows, once a reading: the usual record sends each Observation once (stop 28's
        versions, ranked only when an id repeats). In one woman's record (``one_record``)
        the patient is not compared: (None, id)."""
        if table in self.once_by_hers:
            return self.once_by_hers[table] is not None
        rows: dict[Any, dict[str, Any]] = {}
        count = 0
        for row in self.tables.get(table, ()):
            key = row.get("id")
            if key is not None:
                count += 1
                rows[(None if self.one_record else row.get("patient"), key)] = row
        single = len(rows) == count
        self.once_by_hers[table] = rows if single else None
        return single

    def index(
        self, table: str, order: tuple[str, ...] = (), least: bool = False, hers: bool = False
    ) -> dict[Any, dict[str, Any]]:
        """The rows of ``table`` by id (with ``hers``, by (patient, id)): of several, the last
        in input order, or the one whose ``order`` values are greatest (then the last), or with
        ``least`` the smallest (then the first): `rir.Joined`. With ``hers`` and each
        (patient, id) on one row (`once`), that one dict for every ``order`` and ``least``."""
        if hers:
            single = self.once_by_hers.get(table) if self.once(table) else None
            if single is not None:
                return single
        found = self.indexes.get((table, order, least, hers))
        if found is None:
            found = self.indexes[(table, order, least, hers)] = {}
            ranks: dict[Any, tuple[Any, ...]] = {}
            for row in self.tables.get(table, ()):
                key = row.get("id")
                if key is None:
                    continue
                if hers:  # one woman's record: (None, id), the patient not compared
                    key = (None if self.one_record else row.get("patient"), key)
                rank = (*(row[c] for c in order), row["n"])
                if key not in ranks or (rank < ranks[key] if least else rank >= ranks[key]):
                    ranks[key], found[key] = rank, row
        return found


@dataclass
class _CompiledRowSpec:
    spec: rir.RowSpec
    when: Fn
    checks: tuple[tuple[Fn, Fn], ...]
    values: Fn  # the resource's columns and patient, as a new dict (its row)
    outer: bool  # does it read the resource from inside a list item (`_reads_resource`)?
    guarded: bool  # ``values`` tests the condition too (SKIP when not True); ``when`` is it


@dataclass
class _CompiledSpec:
    rows: tuple[_CompiledRowSpec, ...]
    steps: tuple[tuple[tuple[str, ...], Fn], ...]  # names, and the function giving their values
    # per table: one function giving every problem's ``where`` for a row, then each problem's
    # message and ref
    problems: tuple[tuple[str, Fn, tuple[tuple[Fn, Fn | None], ...]], ...]
    scoped: frozenset[str]
    state: _State
    merged: tuple[str, ...]  # tables that more than one row spec fills
    # the whole reading as one generated function (`python_reading`); None: the definition
    # has a node it does not write, or closures only were asked for
    generated: ReadingFn | None = None


_compiled: dict[tuple[int, Any, bool, str], tuple[rir.EpisodeSpec, _CompiledSpec]] = {}


def _compile_spec(
    spec: rir.EpisodeSpec, fused: bool = True, time_zone: str | None = None
) -> _CompiledSpec:
    """The reading of ``spec``, its instants dated in ``time_zone`` (None: the configured
    zone, `EARLYPATH_TIME_ZONE`)."""
    codes = load_codes()  # the site's value sets as they are now (cached per folder)
    zone = configured_time_zone() if time_zone is None else time_zone
    key = (id(spec), id(codes), fused, zone)
    found = _compiled.get(key)
    if found is not None and found[0] is spec:
        return found[1]
    state = _State()
    c = _Compiler(codes, state, fused, zone)
    rows = tuple(_compile_row_spec(c, r) for r in spec.rows)
    fills = [r.table for r in spec.rows]
    compiled = _CompiledSpec(
        rows,
        _steps(c, spec.steps),
        _problems_by_table(c, spec.problems),
        frozenset(r.table for r in spec.rows if r.patient is not None),
        state,
        tuple(sorted({t for t in fills if fills.count(t) > 1})),
    )
    if fused:
        try:
            compiled.generated = generate_reading(
                spec, compiled, c.helpers(), _ref, c.expr, ref_code=_ref_code
            )
        except Unsupported:
            compiled.generated = None  # every call reads by the per-part path below
    _compiled[key] = (spec, compiled)
    return compiled


def generated_reading(spec: rir.EpisodeSpec) -> ReadingFn | None:
    """The one generated function reading by ``spec`` (its ``source`` the text it runs), or
    None when the definition has a node the generator does not write."""
    return _compile_spec(spec).generated


def _compile_row_spec(c: _Compiler, r: rir.RowSpec) -> _CompiledRowSpec:
    roots, names = row_roots(r)
    columns = roots[1:]
    if r.checks:  # the checks come between the condition and the columns
        when = c.fused([r.when], "json", single=True)
        values = c.fused(columns, "json", names=names)
        return _CompiledRowSpec(r, when, _checks(c, r), values, _reads_resource(r), False)
    # no checks: the condition and the columns in one function (the concepts and values both
    # read are read once); its answer is SKIP when the condition is not True
    guarded = c.fused([r.when, *columns], "json", names=names, guarded=True)
    return _CompiledRowSpec(r, guarded, (), guarded, _reads_resource(r), True)


def _reads_resource(r: rir.RowSpec) -> bool:
    """Does the spec read the resource from inside a list item (`Outer`, `AnyResourceItem`)?
    Then the reading keeps the resource being read in its state."""
    text = repr(r)
    return "Outer(" in text or "AnyResourceItem(" in text


def _checks(c: _Compiler, r: rir.RowSpec) -> tuple[tuple[Fn, Fn], ...]:
    return tuple((c.expr(k.ok), c.message(k.message)) for k in r.checks)


def _steps(
    c: _Compiler, steps: tuple[tuple[str, ir.Expr], ...]
) -> tuple[tuple[tuple[str, ...], Fn], ...]:
    """The steps, consecutive aggregates over one table that do not read each other run as one
    pass over its rows (`_Compiler.batch`)."""
    out: list[tuple[tuple[str, ...], Fn]] = []
    run: list[tuple[str, rir.Agg]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(((run[0][0],), c.expr(run[0][1])))
        elif run:
            out.append((tuple(name for name, _ in run), c.batch([a for _, a in run])))
        run.clear()

    for name, e in steps:
        joins = (
            isinstance(e, rir.Agg)
            and (not run or run[0][1].table == e.table)
            and not reads_any(e, {n for n, _ in run})
        )
        if not joins:
            flush()
        if isinstance(e, rir.Agg):
            run.append((name, e))
        else:
            # one fused function (an aggregate inside it is its closure's call)
            out.append(((name,), c.fused([e], "scope", single=True)))
    flush()
    return tuple(out)


def _problems_by_table(
    c: _Compiler, problems: tuple[rir.RowProblem, ...]
) -> tuple[tuple[str, Fn, tuple[tuple[Fn, Fn | None], ...]], ...]:
    """The encounter's problems grouped by table, their conditions fused (so where a row falls
    on the timeline is computed once for all of them)."""
    tables: dict[str, list[rir.RowProblem]] = {}
    for p in problems:
        tables.setdefault(p.table, []).append(p)
    return tuple(
        (
            table,
            c.fused([p.where for p in listed], "scope", flags=True, collect=True),
            tuple(
                (c.message(p.message), c.message(p.ref) if p.ref is not None else None)
                for p in listed
            ),
        )
        for table, listed in tables.items()
    )


_NO_ID = "(no id)"


def _ref(resource: dict[str, Any]) -> str:
    kind, rid = resource.get("resourceType"), resource.get("id")
    return f"{kind if type(kind) is str else 'Resource'}/{rid if type(rid) is str else _NO_ID}"


def _ref_code(kind: str, var: str, name: str) -> str:
    """`_ref` of the JSON object ``var`` as source, where its resourceType is known to be the
    text ``kind`` (the generated reading's type functions): no call for each row read.
    ``name``: a fresh local for its id."""
    return f"({kind + '/'!r} + ({name} if type({name} := {var}.get('id')) is str else {_NO_ID!r}))"


def read_rows(
    spec: rir.EpisodeSpec,
    resources: Iterable[Any],
    *,
    fused: bool = True,
    time_zone: str | None = None,
) -> Rows:
    """Layer 1: each resource (a JSON object; anything else is skipped) into the rows of every
    `RowSpec` it meets, in input order, with the problems its checks report (its instants dated
    in ``time_zone``, as `read` says)."""
    return _read_rows(_compile_spec(spec, fused, time_zone), resources)


def _read_rows(compiled: _CompiledSpec, resources: Iterable[Any]) -> Rows:
    by_type: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, resource in enumerate(resources, start=1):
        if type(resource) is dict:
            kind = resource.get("resourceType")
            if type(kind) is str:
                by_type.setdefault(kind, []).append((n, resource))
    tables: dict[str, list[dict[str, Any]]] = {r.spec.table: [] for r in compiled.rows}
    problems: list[tuple[int, Problem]] = []
    state = compiled.state
    state.begin(tables)
    refs: dict[int, str] = {}
    for r in compiled.rows:
        listed = by_type.get(r.spec.resource)
        if not listed:
            continue
        if r.spec.items is not None:  # each item read as a resource of its own, after it
            listed = with_items(listed, r.spec.items)
        out, when, values, checks, outer = tables[r.spec.table], r.when, r.values, r.checks, r.outer
        if r.guarded:  # the condition and the columns in one call
            for n, resource in listed:
                if outer:
                    state.resource = resource
                row = values(resource)
                if row is SKIP:
                    continue
                ref = refs.get(n)
                if ref is None:
                    ref = refs[n] = _ref(ref_source(resource, r.spec.items))
                row["ref"] = ref
                row["n"] = n
                out.append(row)
            continue
        for n, resource in listed:
            if outer:
                state.resource = resource
            if when(resource) is not True:
                continue
            ref = refs.get(n)
            if ref is None:
                ref = refs[n] = _ref(ref_source(resource, r.spec.items))
            if checks:
                failed = next((message for ok, message in checks if ok(resource) is not True), None)
                if failed is not None:
                    problems.append((n, Problem(ref, failed(resource))))
                    continue
            row = values(resource)
            row["ref"] = ref
            row["n"] = n
            out.append(row)
    for table in compiled.merged:  # rows of several specs: back in input order
        tables[table].sort(key=lambda row: row["n"])
    problems.sort(key=lambda item: item[0])
    return Rows(tables, [p for _, p in problems])


def read_episode(
    spec: rir.EpisodeSpec,
    rows: Rows,
    assessed_on: dt.date,
    encounter: str | None = None,
    patient: str | None = None,
    *,
    fused: bool = True,
    time_zone: str | None = None,
) -> Reading:
    """Layer 2: the steps and problems of one encounter, over the rows of ``patient`` (every
    row when None: the CDS call holds one patient's record). ``fused`` False runs the closures
    alone (the reference reading of each node, for the tests)."""
    compiled = _compile_spec(spec, fused, time_zone)
    return _read_episode(compiled, rows, assessed_on, encounter, patient)


def _read_episode(
    compiled: _CompiledSpec,
    rows: Rows,
    assessed_on: dt.date,
    encounter: str | None,
    patient: str | None,
) -> Reading:
    scope = Scope(
        {"assessed_on": assessed_on, "encounter": encounter},
        rows.tables,
        compiled.scoped,
        patient,
    )
    for names, fn in compiled.steps:
        if len(names) == 1:
            scope.ctx[names[0]] = fn(scope)
        else:
            scope.ctx.update(zip(names, fn(scope), strict=True))
    problems = list(rows.problems)
    for table, wheres, reports in compiled.problems:
        source = scope.ctx[table] if table in scope.ctx else scope.rows_of(table)
        for row, found in wheres(scope, source)[0]:  # the rows with something to report
            scope.row = row
            for hit, (message, ref) in zip(found, reports, strict=True):
                if hit:
                    problems.append(Problem(ref(scope) if ref else row["ref"], message(scope)))
    scope.row = None
    values = {name: scope.ctx[name] for names, _ in compiled.steps for name in names}
    return Reading(values, problems, scope.evidence)


def read(
    spec: rir.EpisodeSpec,
    resources: Iterable[Any],
    assessed_on: dt.date,
    encounter: str | None = None,
    patient: str | None = None,
    *,
    fused: bool = True,
    generated: bool = True,
    time_zone: str | None = None,
) -> Reading:
    """Both layers for one encounter (the CDS call: ``encounter`` None). By the one generated
    function of the definition when there is one (``generated``), else (or should it raise)
    by the fused parts; ``fused`` False: the closures alone, the reference. Instants are dated
    in ``time_zone`` (None: `EARLYPATH_TIME_ZONE`, `earlypath.records.time_zone`)."""
    compiled = _compile_spec(spec, fused, time_zone)  # once for both layers
    # one woman's record (the CDS call: every resource in it checked to be hers, her merged-away
    # records' and those naming her by an identifier too): the versions of an id are all hers,
    # ranked together (stop 29: ranked per subject as written, a version under her merged-away
    # id was not replaced by its amendment under hers: an offer on a superseded finding)
    compiled.state.one_record = patient is None
    try:
        return _read(spec, compiled, resources, assessed_on, encounter, patient, generated)
    finally:
        compiled.state.one_record = False
        compiled.state.end()


def _read(
    spec: rir.EpisodeSpec,
    compiled: _CompiledSpec,
    resources: Iterable[Any],
    assessed_on: dt.date,
    encounter: str | None,
    patient: str | None,
    generated: bool,
) -> Reading:
    if patient is not None:
        if type(resources) is not list:
            resources = list(resources)  # read again below
        merges = _merges_among(resources)
        ties = _ties_among(resources, merges)
        if merges.survivor or ties:  # rare: only a record with links or logical references
            rows = _as_tied(compiled, _read_rows(compiled, resources), ties, spec)
            rows = _as_survivors(compiled, rows, merges, spec)
            survivor = merges.survivor.get(patient, patient)
            return _read_episode(compiled, rows, assessed_on, encounter, survivor)
    if generated and compiled.generated is not None:
        if type(resources) is not list:
            resources = list(resources)  # read again should the generated function raise
        done = compiled.generated(resources, assessed_on, encounter, patient)
        if done is not None:
            return Reading(*done)
    return _read_episode(compiled, _read_rows(compiled, resources), assessed_on, encounter, patient)


def _merges_among(resources: list[Any]) -> Merges:
    """The merges the Patients given say (`merges.resolve` over their `PATIENT_LINKS` rows, as
    the audit resolves a whole export's); none when no Patient has a link."""
    linked = [
        r
        for r in resources
        if type(r) is dict and r.get("resourceType") == "Patient" and "link" in r
    ]
    if not linked:
        return Merges()
    # imported here: earlypath.fhir, which the definition imports, imports this engine
    from earlypath.records.definition import MERGE_LINKS

    return resolve(_read_rows(_compile_spec(MERGE_LINKS), linked).tables["patient_links"])


def _names_by_identifier(resource: Any) -> bool:
    """Does the resource name its patient by an identifier, with no literal reference?"""
    if type(resource) is not dict:
        return False
    for element in ("subject", "patient"):
        named = resource.get(element)
        if type(named) is dict and named.get("reference") is None and "identifier" in named:
            return True
    return False


def _ties_among(resources: list[Any], merges: Merges) -> dict[tuple[str, int], str]:
    """The resources given tied to a Patient given by an identifier (`identifiers.tie`, as the
    audit ties a whole export's), by (``ref``, ``n``); none when no resource names its patient
    by an identifier only (a quick look first: the usual record pays nothing more)."""
    if not any(_names_by_identifier(r) for r in resources):
        return {}
    # imported here, as for MERGE_LINKS: the definition imports this engine's importers
    from earlypath.records.definition import IDENTIFIER_TIES

    rows = _read_rows(_compile_spec(IDENTIFIER_TIES), resources).tables
    carried, named = rows.get("patient_identifiers", []), rows.get("identified_subjects", [])
    return tie(carried, named, merges.survivor).patient


def _as_tied(
    compiled: _CompiledSpec, rows: Rows, ties: dict[tuple[str, int], str], spec: rir.EpisodeSpec
) -> Rows:
    """The rows of a resource naming its patient by an identifier only read as the Patient's
    that carries it (``ties``), as the audit joins them (`ibis_compile._Episodes._as_hers`);
    a row with a patient (a literal reference) keeps it."""
    if not ties:
        return rows
    for table in compiled.scoped - set(spec.own_record):
        for row in rows.tables.get(table, ()):
            if row["patient"] is None:
                row["patient"] = ties.get((row["ref"], row["n"]))
    return rows


def _as_survivors(
    compiled: _CompiledSpec, rows: Rows, merges: Merges, spec: rir.EpisodeSpec
) -> Rows:
    """The rows of a merged-away Patient id read as the surviving record's, as the audit joins
    them (`ibis_compile._Episodes._as_hers`); her own record's tables (``own_record``) are not
    remapped: her sex and age are the survivor's."""
    survivor = merges.survivor
    for table in compiled.scoped - set(spec.own_record):
        for row in rows.tables.get(table, ()):
            new = survivor.get(row["patient"])
            if new is not None:
                row["patient"] = new
    return rows
