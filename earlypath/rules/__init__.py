"""The rule IR (expressions) and decision tables built from it."""

from earlypath.rules.decision import (
    ALWAYS,
    NEEDS_INFORMATION,
    Advice,
    Branch,
    Criterion,
    DecisionTable,
    Recommendation,
    Verdict,
)
from earlypath.rules.ir import Expr, Fact, facts_in

__all__ = [
    "ALWAYS",
    "NEEDS_INFORMATION",
    "Advice",
    "Branch",
    "Criterion",
    "DecisionTable",
    "Expr",
    "Fact",
    "Recommendation",
    "Verdict",
    "facts_in",
]
