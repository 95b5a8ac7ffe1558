"""Decision tables: how criteria (three-valued expressions) become one topic's verdict.

A `DecisionTable` picks a `Branch` by a guard that is never Unknown (for example "already on
progesterone"), then tries the branch's `Verdict`s in order:

- the first verdict that is True gives the outcome;
- a verdict that is Unknown stops the search with ``needs_information``, because a verdict
  earlier in the list takes precedence and could still hold once the missing facts are known;
  ``missing`` names the fields behind the Unknown criteria of that verdict;
- a verdict that is False passes to the next one.

The same semantics are implemented by every engine; the spec and generative tests hold them to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from earlypath.rules.ir import Const, Expr

NEEDS_INFORMATION = "needs_information"


@dataclass(frozen=True)
class Criterion:
    """One condition of a recommendation, with the sentences that explain each of its values."""

    id: str
    expr: Expr
    recommendation: str
    says_true: str
    says_false: str
    says_unknown: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """An outcome and the test that gives it.

    ``all_true``: every criterion is True. ``any_true``: at least one is True.
    ``any_false``: at least one is False (the outcome of failing eligibility).
    """

    outcome: str
    mode: Literal["all_true", "any_true", "any_false"]
    criteria: tuple[Criterion, ...]
    recommendations: tuple[str, ...]


@dataclass(frozen=True)
class Branch:
    id: str
    guard: Expr
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True)
class Advice:
    """Advice given when ``expr`` is True and the decision is one of ``outcomes`` (any if empty)."""

    id: str
    expr: Expr
    recommendation: str | None
    text: str
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """A numbered recommendation of one guideline version."""

    guideline: str
    version: str
    number: str
    summary: str
    url: str
    in_force_from: dt.date | None = None
    in_force_to: dt.date | None = None  # None: still in force

    def in_force(self) -> dict[str, str | None]:
        """The dates this version of the recommendation was in force, as JSON shows them."""
        return {
            "in_force_from": self.in_force_from.isoformat() if self.in_force_from else None,
            "in_force_to": self.in_force_to.isoformat() if self.in_force_to else None,
        }


@dataclass(frozen=True)
class DecisionTable:
    topic: str
    outcomes: tuple[str, ...]
    branches: tuple[Branch, ...]
    advice: tuple[Advice, ...] = ()
    recommendations: dict[str, Recommendation] = field(default_factory=dict)


ALWAYS = Const(True)
