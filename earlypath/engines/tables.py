"""Evaluate a decision table on one episode's facts, keeping the trace (reference semantics).

See ``earlypath.rules.decision`` for the semantics every engine implements. Each table is
compiled once into closures (`compile_table`), so an assessment only evaluates: no expression is
hashed or walked per call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from earlypath.engines.evaluate import Compiled, Facts, compile_expr
from earlypath.engines.fragments import frozen, shown_value
from earlypath.rules import ir
from earlypath.rules.decision import (
    NEEDS_INFORMATION,
    Advice,
    Criterion,
    DecisionTable,
    Verdict,
)
from earlypath.rules.ir import facts_in

_VALUE_NAME = {True: "true", False: "false", None: "unknown"}


def _shown(value: Any) -> Any:
    """A fact as JSON shows it (dates as ISO text)."""
    kind = type(value)
    return value.isoformat() if kind is dt.date or kind is dt.datetime else value


def _shown_raw(value: Any) -> Any:
    """A fact as the JSON text path shows it (`shown_value` with ``raw``)."""
    return shown_value(value, True)


# Results are named tuples: immutable like a frozen dataclass, several times cheaper to build
# (an assessment builds dozens of them).
class CriterionResult(NamedTuple):
    criterion: Criterion
    value: bool | None

    def says(self) -> str:
        c = self.criterion
        return (
            c.says_true
            if self.value is True
            else c.says_false
            if self.value is False
            else c.says_unknown
        )

    def trace(self, facts: Facts) -> dict[str, Any]:
        return {
            "criterion": self.criterion.id,
            "value": _VALUE_NAME[self.value],
            "recommendation": self.criterion.recommendation or None,
            "facts": {f.name: _shown(facts[f.name]) for f in facts_in(self.criterion.expr)},
            "says": self.says(),
        }


class TableResult(NamedTuple):
    outcome: str
    branch: str
    verdict: Verdict | None
    results: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    recommendations: tuple[str, ...]
    trace: tuple[dict[str, Any], ...] = ()
    # The reasons (see `reasons`) when the evaluation already knows them; None: work them out.
    said: tuple[str, ...] | None = None

    def trace_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "verdict": self.verdict.outcome if self.verdict else None,
            "criteria": list(self.trace),
        }


def verdict_value(verdict: Verdict, values: Sequence[bool | None]) -> bool | None:
    if verdict.mode == "all_true":
        if False in values:
            return False
        return None if None in values else True
    if verdict.mode == "any_true":
        if True in values:
            return True
        return None if None in values else False
    # any_false
    if False in values:
        return True
    return None if None in values else False


def _says(c: Criterion, value: bool | None) -> str:
    return c.says_true if value is True else c.says_false if value is False else c.says_unknown


@dataclass(frozen=True, slots=True)
class _Criterion:
    criterion: Criterion
    fn: Compiled
    fact_names: tuple[str, ...]
    # Every fact it reads is shown as it is (no date or float to convert): the trace reads
    # them without a call per fact.
    plain: bool = False

    def trace(self, facts: Facts, value: bool | None, raw: bool = False) -> dict[str, Any]:
        """This criterion's trace entry; ``raw``: for the JSON text path (see `shown_value`)."""
        c = self.criterion
        shown = _shown_raw if raw else _shown
        return {
            "criterion": c.id,
            "value": _VALUE_NAME[value],
            "recommendation": c.recommendation or None,
            "facts": {name: shown(facts[name]) for name in self.fact_names},
            "says": _says(c, value),
        }


# Fact types whose values a trace shows as they are (dates become text, floats may be written
# as json.dumps writes them: see `shown_value`).
_PLAIN_FACT_TYPES = frozenset(["bool", "str", "int"])

# What `CompiledTable.output` gives.
Output = tuple[
    str,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    dict[str, Any] | orjson.Fragment,
    bool,
]

# The most trace texts one verdict keeps (each a few hundred bytes).
_TEXTS_KEPT = 512

# IR nodes whose compiled value is always True, False or None.
_BOOLEAN_NODES = (ir.Cmp, ir.And, ir.Or, ir.Not, ir.Match, ir.IsNull, ir.IsTrue)


def _boolean(e: ir.Expr) -> bool:
    """True if ``e`` always gives True, False or None (never 0, 1 or other data that compares
    equal to a boolean): only verdicts whose criteria all do are memoised on their values."""
    if isinstance(e, _BOOLEAN_NODES):
        return True
    if isinstance(e, ir.Const):
        return e.value is None or e.value is True or e.value is False
    if isinstance(e, ir.Fact):
        return e.type == "bool"
    if isinstance(e, ir.If):
        return _boolean(e.then) and _boolean(e.otherwise)
    if isinstance(e, ir.Coalesce):
        return all(_boolean(i) for i in e.items)
    return False


@dataclass(frozen=True, slots=True)
class _Decided:
    """What one verdict's criterion values decide, and the parts of its trace and reasons that
    do not depend on the facts: the same for the same values, so worked out once."""

    verdict: Verdict
    value: bool | None
    outcome: str  # the outcome when this verdict gives it (value True or Unknown)
    results: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    said: tuple[str, ...]  # the reasons when this verdict gives the outcome
    # Per criterion: (fact names, plain, criterion id, value name, recommendation, says).
    parts: tuple[tuple[tuple[str, ...], bool, str, str, str | None, str], ...]
    # For the JSON text path, when every criterion is plain and this is kept (memoised): the
    # facts the trace shows, in order, and the trace's JSON text for each of their values met
    # so far (a few per verdict: plain facts are booleans, codes and small counts).
    plain_names: tuple[str, ...] | None = None
    texts: dict[tuple[Any, ...], orjson.Fragment] = field(default_factory=dict)

    @classmethod
    def work_out(
        cls,
        verdict: Verdict,
        criteria: tuple[_Criterion, ...],
        values: Sequence[bool | None],
        kept: bool = False,
    ) -> _Decided:
        value = verdict_value(verdict, values)
        results = tuple(
            CriterionResult(c.criterion, v) for c, v in zip(criteria, values, strict=True)
        )
        missing: list[str] = []  # only an Unknown outcome misses anything
        for c, v in zip(criteria, values, strict=True):
            if v is None and value is None:
                missing.extend(m for m in c.criterion.missing if m not in missing)
        if value is None:
            wanted: bool | None = None
        else:
            wanted = verdict.mode != "any_false"
        said = tuple(said for r in results if r.value is wanted and (said := r.says()))
        parts = tuple(
            (
                c.fact_names,
                c.plain,
                c.criterion.id,
                _VALUE_NAME[v],
                c.criterion.recommendation or None,
                _says(c.criterion, v),
            )
            for c, v in zip(criteria, values, strict=True)
        )
        outcome = verdict.outcome if value is True else NEEDS_INFORMATION
        plain = kept and all(c.plain for c in criteria)
        names = tuple(name for c in criteria for name in c.fact_names) if plain else None
        return cls(verdict, value, outcome, results, tuple(missing), said, parts, names)

    def trace_text(
        self, facts: Facts, branch_id: str
    ) -> tuple[dict[str, Any] | orjson.Fragment, bool]:
        """The table's trace for the JSON text path (see `CompiledTable.output`), and whether
        it is a text kept here (the same object for the same facts, never dropped)."""
        names = self.plain_names
        if names is None:
            trace = {
                "branch": branch_id,
                "verdict": self.verdict.outcome,
                "criteria": self.trace(facts, True),
            }
            return trace, False
        key = tuple([facts[name] for name in names])
        text = self.texts.get(key)
        if text is not None:
            return text, True
        text = frozen(
            {
                "branch": branch_id,
                "verdict": self.verdict.outcome,
                "criteria": self.trace(facts, False),
            }
        )
        if len(self.texts) >= _TEXTS_KEPT:
            return text, False
        self.texts[key] = text
        return text, True

    def trace(self, facts: Facts, raw: bool) -> list[dict[str, Any]]:
        shown = _shown_raw if raw else _shown
        return [
            {
                "criterion": criterion,
                "value": value,
                "recommendation": recommendation,
                "facts": {name: facts[name] for name in names}
                if plain
                else {name: shown(facts[name]) for name in names},
                "says": says,
            }
            for names, plain, criterion, value, recommendation, says in self.parts
        ]


@dataclass(frozen=True, slots=True)
class _CompiledVerdict:
    verdict: Verdict
    criteria: tuple[_Criterion, ...]
    # Criterion values -> what they decide (at most 3 ** len(criteria) entries); None if a
    # criterion may give a value that is not a boolean (then nothing is memoised).
    memo: dict[tuple[bool | None, ...], _Decided] | None

    def decided(self, values: tuple[bool | None, ...]) -> _Decided:
        memo = self.memo
        if memo is None:
            return _Decided.work_out(self.verdict, self.criteria, values)
        known = memo.get(values)
        if known is None:
            known = memo[values] = _Decided.work_out(self.verdict, self.criteria, values, True)
        return known


@dataclass(frozen=True)
class CompiledTable:
    """A decision table with every expression compiled (built once per table)."""

    table: DecisionTable
    branches: tuple[tuple[Compiled, str, tuple[_CompiledVerdict, ...]], ...]
    advice: tuple[tuple[Advice, Compiled], ...]

    @classmethod
    def build(cls, table: DecisionTable) -> CompiledTable:
        def crit(c: Criterion) -> _Criterion:
            read = facts_in(c.expr)
            plain = all(f.type in _PLAIN_FACT_TYPES for f in read)
            return _Criterion(c, compile_expr(c.expr), tuple(f.name for f in read), plain)

        def verdict(v: Verdict) -> _CompiledVerdict:
            boolean = all(_boolean(c.expr) for c in v.criteria)
            return _CompiledVerdict(v, tuple(crit(c) for c in v.criteria), {} if boolean else None)

        return cls(
            table,
            tuple(
                (compile_expr(b.guard), b.id, tuple(verdict(v) for v in b.verdicts))
                for b in table.branches
            ),
            tuple((a, compile_expr(a.expr)) for a in table.advice),
        )

    def judge(self, facts: Facts) -> tuple[str, _Decided | None, tuple[_Decided, ...]]:
        """(branch id, what the verdict that gives the outcome decided, the verdicts that were
        False): the one reading of a table's semantics behind `evaluate` and `output`. No
        verdict gives the outcome (None) when none holds or no branch applies ('' for none)."""
        for guard, branch_id, verdicts in self.branches:
            if guard(facts) is not True:
                continue
            # Verdicts that were False: their trace is shown only if no verdict holds.
            passed: list[_Decided] = []
            for compiled in verdicts:
                decided = compiled.decided(tuple([c.fn(facts) for c in compiled.criteria]))
                if decided.value is not False:
                    return branch_id, decided, ()
                passed.append(decided)
            # No verdict held: the table is not exhaustive for these facts. Never guess.
            return branch_id, None, tuple(passed)
        return "", None, ()

    def evaluate(self, facts: Facts, raw: bool = False) -> TableResult:
        """The table's outcome on these facts with its trace; ``raw``: the trace is for the
        JSON text path only (see `shown_value`)."""
        branch_id, decided, passed = self.judge(facts)
        if decided is not None:
            verdict = decided.verdict
            return TableResult(
                decided.outcome,
                branch_id,
                verdict,
                decided.results,
                decided.missing,
                verdict.recommendations,
                tuple(decided.trace(facts, raw)),
                decided.said,
            )
        seen = tuple([r for d in passed for r in d.results])
        traced = tuple([t for d in passed for t in d.trace(facts, raw)])
        return TableResult(NEEDS_INFORMATION, branch_id, None, seen, (), (), traced, _UNCOVERED)

    def output(self, facts: Facts, raw: bool, shown: Facts | None = None) -> Output:
        """What an assessment shows of the table: (outcome, recommendations, missing, reasons,
        trace as `TableResult.trace_dict` gives it, kept), with no `TableResult` built. With
        ``raw`` (the JSON text path) the trace may be its JSON text; ``kept``: it is a text
        kept by the verdict, which then tells everything else in the tuple (the verdict and its
        criterion values) and the facts the trace shows. ``shown``: the facts as the trace
        shows them, if not ``facts`` (a template's markers, `earlypath.engines.templates`)."""
        branch_id, decided, passed = self.judge(facts)
        seen = facts if shown is None else shown
        if decided is not None:
            verdict = decided.verdict
            trace: dict[str, Any] | orjson.Fragment
            kept = False
            if raw and shown is None:
                trace, kept = decided.trace_text(facts, branch_id)
            else:
                trace = {
                    "branch": branch_id,
                    "verdict": verdict.outcome,
                    "criteria": decided.trace(seen, raw),
                }
            said = decided.said
            return decided.outcome, verdict.recommendations, decided.missing, said, trace, kept
        criteria = [t for d in passed for t in d.trace(seen, raw)]
        trace = {"branch": branch_id, "verdict": None, "criteria": criteria}
        return NEEDS_INFORMATION, (), (), _UNCOVERED, trace, False

    def decide(self, facts: Facts) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """(outcome, recommendations, missing) as `evaluate` gives them, with no trace or
        reasons built: for callers that need only the decision (e.g. an audit)."""
        for guard, _, verdicts in self.branches:
            if guard(facts) is not True:
                continue
            for compiled in verdicts:
                criteria = compiled.criteria
                values = [c.fn(facts) for c in criteria]
                verdict = compiled.verdict
                value = verdict_value(verdict, values)
                if value is False:
                    continue
                if value is True:
                    return verdict.outcome, verdict.recommendations, ()
                missing: list[str] = []
                for c, v in zip(criteria, values, strict=True):
                    if v is None:
                        missing.extend(m for m in c.criterion.missing if m not in missing)
                return NEEDS_INFORMATION, verdict.recommendations, tuple(missing)
            return NEEDS_INFORMATION, (), ()
        return NEEDS_INFORMATION, (), ()

    def advice_for(self, facts: Facts, outcome: str) -> list[dict[str, Any]]:
        """The table's advice that applies to these facts and this outcome."""
        return [
            {"id": a.id, "recommendation": a.recommendation, "text": a.text}
            for a, fn in self.advice
            if (not a.outcomes or outcome in a.outcomes) and fn(facts) is True
        ]


# Keyed by identity: tables hold dicts, so they are not hashable. The cached value keeps the
# table alive, so an id is never reused while its entry exists.
_compiled: dict[int, CompiledTable] = {}


def compile_table(table: DecisionTable) -> CompiledTable:
    compiled = _compiled.get(id(table))
    if compiled is None or compiled.table is not table:
        compiled = _compiled[id(table)] = CompiledTable.build(table)
    return compiled


def evaluate_table(table: DecisionTable, facts: Facts) -> TableResult:
    """The reference semantics: the table's outcome on these facts, with its trace."""
    return compile_table(table).evaluate(facts)


_UNCOVERED = ("The rules do not cover this combination of facts: review clinically.",)


def reasons(result: TableResult) -> list[str]:
    """The sentences that explain a table result: the criteria that decided it."""
    if result.said is not None:
        return list(result.said)
    if result.verdict is None:
        return list(_UNCOVERED)
    if result.outcome == NEEDS_INFORMATION:
        wanted: bool | None = None
    elif result.verdict.mode == "any_false":
        wanted = False
    else:
        wanted = True
    return [said for r in result.results if r.value is wanted and (said := r.says())]
