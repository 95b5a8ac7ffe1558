"""Evaluate a decision table on one episode's facts, keeping the trace (reference semantics).

See ``earlypath.rules.decision`` for the semantics every engine implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from earlypath.engines.evaluate import Facts, compile_expr
from earlypath.rules.decision import NEEDS_INFORMATION, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import facts_in

_VALUE_NAME = {True: "true", False: "false", None: "unknown"}


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: bool | None

    def says(self) -> str:
        c = self.criterion
        return {True: c.says_true, False: c.says_false, None: c.says_unknown}[self.value]

    def trace(self, facts: Facts) -> dict[str, Any]:
        return {
            "criterion": self.criterion.id,
            "value": _VALUE_NAME[self.value],
            "recommendation": self.criterion.recommendation or None,
            "facts": {f.name: _jsonable(facts[f.name]) for f in facts_in(self.criterion.expr)},
            "says": self.says(),
        }


@dataclass(frozen=True)
class TableResult:
    outcome: str
    branch: str
    verdict: Verdict | None
    results: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    recommendations: tuple[str, ...]


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


def evaluate_table(table: DecisionTable, facts: Facts) -> TableResult:
    for branch in table.branches:
        if compile_expr(branch.guard)(facts) is not True:
            continue
        results: list[CriterionResult] = []
        for verdict in branch.verdicts:
            values = [compile_expr(c.expr)(facts) for c in verdict.criteria]
            these = [CriterionResult(c, v) for c, v in zip(verdict.criteria, values, strict=True)]
            results.extend(these)
            value = verdict_value(verdict, values)
            if value is True:
                return TableResult(
                    verdict.outcome, branch.id, verdict, tuple(these), (), verdict.recommendations
                )
            if value is None:
                missing: list[str] = []
                for r in these:
                    if r.value is None:
                        missing.extend(m for m in r.criterion.missing if m not in missing)
                return TableResult(
                    NEEDS_INFORMATION,
                    branch.id,
                    verdict,
                    tuple(these),
                    tuple(missing),
                    verdict.recommendations,
                )
        # No verdict held: the table is not exhaustive for these facts. Never guess.
        return TableResult(NEEDS_INFORMATION, branch.id, None, tuple(results), (), ())
    return TableResult(NEEDS_INFORMATION, "", None, (), (), ())


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
