"""The NG126 pathway around the progesterone decision: the registry of sections.

Each topic module (scans, hcg, ectopic, miscarriage, anti_d, referral) builds, for a guideline
version and a `PathwayPolicy`:

- one or more `DecisionTable`s (the categorical outcome: every engine must agree on it), and
- named IR *values* (dates, ratios, options): computed expressions every engine can compile.

`sections()` lists them in output order. The reference engine evaluates them in
``earlypath.engines.python``; a batch engine compiles ``section.tables(...)`` and
``section.values(...)`` over the flat facts, with nothing written twice.

The words the topic modules share live in `earlypath.guideline.vocabulary`; they are
re-exported here so ``from earlypath.guideline.pathway import PathwayPolicy`` keeps working.
Topic modules import the vocabulary, never this module (that would be an import circle).
"""

from __future__ import annotations

from earlypath.guideline import anti_d, ectopic, hcg, miscarriage, referral, scans
from earlypath.guideline.vocabulary import (
    DEFAULT_PATHWAY_POLICY,
    ECTOPIC_SEEN,
    HCG_MAX_AGE_DAYS,
    HCG_PAIR_MAX_HOURS,
    IS_ECTOPIC,
    IS_INTRAUTERINE,
    IS_PUL,
    NOT_APPLICABLE,
    RECOMMENDATIONS_URL,
    AntiDRule,
    Cited,
    NumberSource,
    PathwayPolicy,
    Section,
    dated,
    not_applicable_branch,
    not_before,
    overdue,
    recommendations,
)

__all__ = [
    "DEFAULT_PATHWAY_POLICY",
    "ECTOPIC_SEEN",
    "HCG_MAX_AGE_DAYS",
    "HCG_PAIR_MAX_HOURS",
    "IS_ECTOPIC",
    "IS_INTRAUTERINE",
    "IS_PUL",
    "NOT_APPLICABLE",
    "RECOMMENDATIONS_URL",
    "AntiDRule",
    "Cited",
    "NumberSource",
    "PathwayPolicy",
    "Section",
    "dated",
    "not_applicable_branch",
    "not_before",
    "overdue",
    "recommendations",
    "sections",
]


def sections() -> tuple[Section, ...]:
    """The pathway sections in output order."""
    return (
        referral.SECTION,
        scans.SECTION,
        hcg.SECTION,
        ectopic.SECTION,
        miscarriage.SECTION,
        anti_d.SECTION,
    )
