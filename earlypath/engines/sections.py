"""The reference engine's evaluation of the pathway sections (``earlypath.guideline.pathway``).

Each section's decision tables are precompiled once per (version, pathway policy) into plans of
closures, then evaluated with the semantics of `earlypath.engines.tables.evaluate_table` (held
equal to it, trace included, by tests/pathway/test_engine_fast_path.py): the same answers,
without re-hashing every rule expression on every assessment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from earlypath.engines.evaluate import Compiled, compile_expr
from earlypath.engines.tables import CriterionResult, TableResult, verdict_value
from earlypath.guideline.pathway import NOT_APPLICABLE, PathwayPolicy, Section
from earlypath.rules.decision import (
    NEEDS_INFORMATION,
    Advice,
    Branch,
    Criterion,
    DecisionTable,
    Verdict,
)
from earlypath.rules.ir import facts_in

__all__ = ["assess_section", "jsonable", "reasons"]


def reasons(result: TableResult) -> list[str]:
    """The sentences that explain a table result (shared with the progesterone decision)."""
    if result.verdict is None:
        return ["The rules do not cover this combination of facts: review clinically."]
    if result.outcome == "needs_information":
        wanted: bool | None = None
    elif result.verdict.mode == "any_false":
        wanted = False
    else:
        wanted = True
    return [said for r in result.results if r.value is wanted and (said := r.says())]


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


_VALUE_NAME = {True: "true", False: "false", None: "unknown"}


@dataclass(frozen=True)
class _Criterion:
    criterion: Criterion
    fn: Compiled
    facts: tuple[str, ...]


_Plan = tuple[tuple[Compiled, Branch, tuple[tuple[Verdict, tuple[_Criterion, ...]], ...]], ...]


def _plan(table: DecisionTable) -> _Plan:
    def crit(c: Criterion) -> _Criterion:
        return _Criterion(c, compile_expr(c.expr), tuple(f.name for f in facts_in(c.expr)))

    return tuple(
        (
            compile_expr(branch.guard),
            branch,
            tuple((v, tuple(crit(c) for c in v.criteria)) for v in branch.verdicts),
        )
        for branch in table.branches
    )


def _shown(value: Any) -> Any:
    """A fact as JSON shows it (facts are scalars; dates as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _says(c: Criterion, value: bool | None) -> str:
    return c.says_true if value is True else c.says_false if value is False else c.says_unknown


def _evaluate(plan: _Plan, facts: dict[str, Any]) -> tuple[TableResult, list[dict[str, Any]]]:
    """`evaluate_table` on a precompiled plan (the same semantics, checked equal by
    tests/pathway/test_engine_fast_path.py), plus the trace of the criteria it evaluated.
    """
    results: list[CriterionResult] = []
    trace: list[dict[str, Any]] = []
    for guard, branch, verdicts in plan:
        if guard(facts) is not True:
            continue
        for verdict, criteria in verdicts:
            values = [c.fn(facts) for c in criteria]
            these = [CriterionResult(c.criterion, v) for c, v in zip(criteria, values, strict=True)]
            trace.extend(
                {
                    "criterion": c.criterion.id,
                    "value": _VALUE_NAME[v],
                    "recommendation": c.criterion.recommendation or None,
                    "facts": {name: _shown(facts[name]) for name in c.facts},
                    "says": _says(c.criterion, v),
                }
                for c, v in zip(criteria, values, strict=True)
            )
            value = verdict_value(verdict, values)
            if value is True:
                result = TableResult(
                    verdict.outcome, branch.id, verdict, tuple(these), (), verdict.recommendations
                )
                return result, trace[len(trace) - len(these) :]
            if value is None:
                missing: list[str] = []
                for c, v in zip(criteria, values, strict=True):
                    if v is None:
                        missing.extend(m for m in c.criterion.missing if m not in missing)
                result = TableResult(
                    NEEDS_INFORMATION,
                    branch.id,
                    verdict,
                    tuple(these),
                    tuple(missing),
                    verdict.recommendations,
                )
                return result, trace[len(trace) - len(these) :]
            results.extend(these)
        return TableResult(NEEDS_INFORMATION, branch.id, None, tuple(results), (), ()), trace
    return TableResult(NEEDS_INFORMATION, "", None, (), (), ()), []


@dataclass(frozen=True)
class _Prepared:
    """A section's tables (as precompiled plans), compiled values, compiled advice and
    citations, for one version and pathway policy: built once, so an assessment only evaluates."""

    tables: dict[str, DecisionTable]
    plans: dict[str, _Plan]
    values: tuple[tuple[str, Compiled], ...]
    advice: tuple[tuple[Advice, Compiled], ...]
    citations: dict[tuple[str, str], dict[str, Any]]


@cache
def _prepare(section: Section, version: str, pathway: PathwayPolicy) -> _Prepared:
    tables = section.tables(version, pathway)
    sources = section.sources(version, pathway)
    citations = {
        (name, number): {
            "guideline": r.guideline,
            "version": r.version,
            "number": r.number,
            "number_source": sources.get(number, "unverified"),
            "summary": r.summary,
            "url": r.url,
        }
        for name, table in tables.items()
        for number, r in table.recommendations.items()
    }
    return _Prepared(
        tables,
        {name: _plan(table) for name, table in tables.items()},
        tuple((n, compile_expr(e)) for n, e in section.values(version, pathway).items()),
        tuple((a, compile_expr(a.expr)) for a in tables["main"].advice),
        citations,
    )


def assess_section(
    section: Section,
    version: str,
    pathway: PathwayPolicy,
    facts: dict[str, Any],
) -> dict[str, Any]:
    """One pathway section: the main table's decision, the other tables, values and citations."""
    prepared = _prepare(section, version, pathway)
    evaluated = {name: _evaluate(plan, facts) for name, plan in prepared.plans.items()}
    results = {name: result for name, (result, _) in evaluated.items()}
    traces = {
        name: {
            "branch": result.branch,
            "verdict": result.verdict.outcome if result.verdict else None,
            "criteria": trace,
        }
        for name, (result, trace) in evaluated.items()
    }
    main = results["main"]
    advice = [
        {"id": a.id, "recommendation": a.recommendation, "text": a.text}
        for a, fn in prepared.advice
        if (not a.outcomes or main.outcome in a.outcomes) and fn(facts) is True
    ]
    cited = [(name, n) for name, r in results.items() for n in r.recommendations]
    cited += [("main", a["recommendation"]) for a in advice if a["recommendation"]]
    citations: list[dict[str, Any]] = []
    numbers: set[str] = set()
    for key in cited:
        citation = prepared.citations.get(key)
        if citation is not None and citation["number"] not in numbers:
            numbers.add(citation["number"])
            citations.append(dict(citation))
    if main.outcome == NOT_APPLICABLE:  # nothing to compute: render reads no value
        values = {name: None for name, _ in prepared.values}
    else:
        values = {name: fn(facts) for name, fn in prepared.values}
    outcomes = {name: r.outcome for name, r in results.items()}
    out: dict[str, Any] = {"decision": main.outcome}
    out.update(jsonable(section.render(outcomes, values, version)))
    out.update(
        {
            "recommendations": list(main.recommendations),
            "citations": citations,
            "reasons": reasons(main),
            "missing": list(main.missing),
            "advice": advice,
            "trace": traces["main"],
        }
    )
    if len(results) > 1:
        out["other_decisions"] = {
            name: {
                "decision": r.outcome,
                "recommendations": list(r.recommendations),
                "missing": list(r.missing),
                "trace": traces[name],
            }
            for name, r in results.items()
            if name != "main"
        }
    return out
