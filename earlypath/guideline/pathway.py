"""The NG126 pathway around the progesterone decision: shared pieces and the section registry.

Each topic module (scans, hcg, ectopic, miscarriage, anti_d, referral) builds, for a guideline
version and a `PathwayPolicy`:

- one or more `DecisionTable`s (the categorical outcome: every engine must agree on it), and
- named IR *values* (dates, ratios, options): computed expressions every engine can compile.

`SECTIONS` lists them in output order. The reference engine evaluates them in
``earlypath.engines.python``; a batch engine compiles ``section.tables(...)`` and
``section.values(...)`` over the flat facts, with nothing written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from earlypath.facts import SCAN_LOCATION
from earlypath.guideline.progesterone import IS_ECTOPIC as _IS_ECTOPIC
from earlypath.guideline.versions import recommendation
from earlypath.rules.decision import (
    ALWAYS,
    Branch,
    Criterion,
    DecisionTable,
    Recommendation,
    Verdict,
)
from earlypath.rules.ir import Expr, IsTrue, Match

RECOMMENDATIONS_URL = "https://www.nice.org.uk/guidance/ng126/chapter/Recommendations"
NOT_APPLICABLE = "not_applicable"

AntiDRule = Literal["ng126-2012-2023", "rewrite-unverified"]

# Where a recommendation number comes from. "reference": the project's clinical reference
# (docs shared with the team); "unverified": our reading, not checked against the NICE text of
# that version, so the output says so.
NumberSource = Literal["reference", "unverified"]

# The progesterone module's definition, shared (one rule, one place).
IS_ECTOPIC = _IS_ECTOPIC
IS_PUL = Match(SCAN_LOCATION, ("unknown",), ("intrauterine", "ectopic"))
# Never Unknown: a pregnancy is an ectopic for these rules only once a scan has shown it.
ECTOPIC_SEEN = IsTrue(IS_ECTOPIC)


@dataclass(frozen=True)
class PathwayPolicy:
    """Local choices for the pathway sections (the progesterone settings are in `Policy`)."""

    anti_d_rule: AntiDRule = "ng126-2012-2023"

    def __post_init__(self) -> None:
        if self.anti_d_rule not in ("ng126-2012-2023", "rewrite-unverified"):
            raise ValueError("anti_d_rule must be 'ng126-2012-2023' or 'rewrite-unverified'")

    def describe(self) -> dict[str, dict[str, str]]:
        return {
            "anti_d_rule": {
                "value": self.anti_d_rule,
                "default": "ng126-2012-2023",
                "reason": (
                    "The anti-D text of CG154/NG126 (2012 to 2023 versions): 250 IU for RhD-negative "
                    "women having surgical management of a miscarriage or ectopic pregnancy. A later "
                    "rewrite (no anti-D up to 11+6; at least 250 IU at 12+0 to 12+6 for medical or "
                    "surgical management) is reported by secondary sources only and its date is "
                    "UNVERIFIED, so it is off unless a unit chooses it."
                ),
            }
        }


DEFAULT_PATHWAY_POLICY = PathwayPolicy()


@dataclass(frozen=True)
class Cited:
    """A recommendation of one version plus where its number comes from."""

    recommendation: Recommendation
    source: NumberSource

    def as_dict(self) -> dict[str, Any]:
        r = self.recommendation
        return {
            "guideline": r.guideline,
            "version": r.version,
            "number": r.number,
            "number_source": self.source,
            "summary": r.summary,
            "url": r.url,
            **r.in_force(),
        }


def recommendations(
    version: str, summaries: dict[str, tuple[str, NumberSource]]
) -> tuple[dict[str, Recommendation], dict[str, NumberSource]]:
    """Build a table's recommendations from ``{number: (summary, source)}``."""
    recs = {
        number: recommendation(version, number, text, RECOMMENDATIONS_URL)
        for number, (text, _) in summaries.items()
    }
    return recs, {number: source for number, (_, source) in summaries.items()}


def not_applicable_branch(why: str) -> Branch:
    """A last branch (guard always true) for episodes a topic does not cover."""
    criterion = Criterion("not_applicable", ALWAYS, "", why, "", "")
    return Branch(NOT_APPLICABLE, ALWAYS, (Verdict(NOT_APPLICABLE, "all_true", (criterion,), ()),))


@dataclass(frozen=True)
class Section:
    """One topic of the assessment.

    ``tables``: the decision tables by name (``main`` gives the section's ``decision``).
    ``values``: named IR expressions (computed values). ``sources``: number source per
    recommendation number. ``render``: presentation only (no clinical logic): turns the
    outcomes and evaluated values into the section's extra output fields.
    """

    name: str
    tables: Callable[[str, PathwayPolicy], dict[str, DecisionTable]]
    values: Callable[[str, PathwayPolicy], dict[str, Expr]]
    sources: Callable[[str, PathwayPolicy], dict[str, NumberSource]]
    render: Callable[[dict[str, str], dict[str, Any], str], dict[str, Any]]


def sections() -> tuple[Section, ...]:
    """The pathway sections in output order."""
    from earlypath.guideline import anti_d, ectopic, hcg, miscarriage, referral, scans

    return (
        referral.SECTION,
        scans.SECTION,
        hcg.SECTION,
        ectopic.SECTION,
        miscarriage.SECTION,
        anti_d.SECTION,
    )
