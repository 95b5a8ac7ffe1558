"""Evaluate a decision table on one episode's facts, keeping the trace (reference semantics).

See ``earlypath.rules.decision`` for the semantics every engine implements. Each table is
compiled once into closures (`compile_table`), so an assessment only evaluates: no expression is
hashed or walked per call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from earlypath.engines.evaluate import Compiled, Facts, compile_expr
from earlypath.engines.fragments import shown_value
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

    def trace_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "verdict": self.verdict.outcome if self.verdict else None,
            "criteria": list(self.trace),
        }


def verdict_value(verdict: Verdict, values: list[bool | None]) -> bool | None:
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


@dataclass(frozen=True, slots=True)
class _Criterion:
    criterion: Criterion
    fn: Compiled
    fact_names: tuple[str, ...]

    def trace(self, facts: Facts, value: bool | None, raw: bool = False) -> dict[str, Any]:
        """This criterion's trace entry; ``raw``: for the JSON text path (see `shown_value`)."""
        c = self.criterion
        shown = _shown_raw if raw else _shown
        return {
            "criterion": c.id,
            "value": _VALUE_NAME[value],
            "recommendation": c.recommendation or None,
            "facts": {name: shown(facts[name]) for name in self.fact_names},
            "says": c.says_true
            if value is True
            else c.says_false
            if value is False
            else c.says_unknown,
        }


@dataclass(frozen=True)
class CompiledTable:
    """A decision table with every expression compiled (built once per table)."""

    table: DecisionTable
    branches: tuple[tuple[Compiled, str, tuple[tuple[Verdict, tuple[_Criterion, ...]], ...]], ...]
    advice: tuple[tuple[Advice, Compiled], ...]

    @classmethod
    def build(cls, table: DecisionTable) -> CompiledTable:
        def crit(c: Criterion) -> _Criterion:
            return _Criterion(c, compile_expr(c.expr), tuple(f.name for f in facts_in(c.expr)))

        return cls(
            table,
            tuple(
                (
                    compile_expr(b.guard),
                    b.id,
                    tuple((v, tuple(crit(c) for c in v.criteria)) for v in b.verdicts),
                )
                for b in table.branches
            ),
            tuple((a, compile_expr(a.expr)) for a in table.advice),
        )

    def evaluate(self, facts: Facts, raw: bool = False) -> TableResult:
        """The table's outcome on these facts with its trace; ``raw``: the trace is for the
        JSON text path only (see `shown_value`)."""
        for guard, branch_id, verdicts in self.branches:
            if guard(facts) is not True:
                continue
            # Verdicts that were False: their trace is shown only if no verdict holds, so it is
            # built only then (most tables decide on a later verdict).
            passed: list[tuple[tuple[_Criterion, ...], list[bool | None]]] = []
            for verdict, criteria in verdicts:
                values = [c.fn(facts) for c in criteria]
                value = verdict_value(verdict, values)
                if value is False:
                    passed.append((criteria, values))
                    continue
                these = tuple(
                    [CriterionResult(c.criterion, v) for c, v in zip(criteria, values, strict=True)]
                )
                trace = tuple(
                    [c.trace(facts, v, raw) for c, v in zip(criteria, values, strict=True)]
                )
                if value is True:
                    return TableResult(
                        verdict.outcome,
                        branch_id,
                        verdict,
                        these,
                        (),
                        verdict.recommendations,
                        trace,
                    )
                missing: list[str] = []
                for c, v in zip(criteria, values, strict=True):
                    if v is None:
                        missing.extend(m for m in c.criterion.missing if m not in missing)
                return TableResult(
                    NEEDS_INFORMATION,
                    branch_id,
                    verdict,
                    these,
                    tuple(missing),
                    verdict.recommendations,
                    trace,
                )
            # No verdict held: the table is not exhaustive for these facts. Never guess.
            seen = tuple(
                [
                    CriterionResult(c.criterion, v)
                    for cs, vs in passed
                    for c, v in zip(cs, vs, strict=True)
                ]
            )
            traced = tuple(
                [c.trace(facts, v, raw) for cs, vs in passed for c, v in zip(cs, vs, strict=True)]
            )
            return TableResult(NEEDS_INFORMATION, branch_id, None, seen, (), (), traced)
        return TableResult(NEEDS_INFORMATION, "", None, (), (), ())

    def decide(self, facts: Facts) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """(outcome, recommendations, missing) as `evaluate` gives them, with no trace or
        reasons built: for callers that need only the decision (e.g. an audit)."""
        for guard, _, verdicts in self.branches:
            if guard(facts) is not True:
                continue
            for verdict, criteria in verdicts:
                values = [c.fn(facts) for c in criteria]
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


def reasons(result: TableResult) -> list[str]:
    """The sentences that explain a table result: the criteria that decided it."""
    if result.verdict is None:
        return ["The rules do not cover this combination of facts: review clinically."]
    if result.outcome == NEEDS_INFORMATION:
        wanted: bool | None = None
    elif result.verdict.mode == "any_false":
        wanted = False
    else:
        wanted = True
    return [said for r in result.results if r.value is wanted and (said := r.says())]
