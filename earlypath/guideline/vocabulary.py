"""The shared vocabulary of the NG126 sections: the words every topic module uses.

Every topic module (progesterone, scans, hcg, ectopic, miscarriage, anti_d, referral) imports
from here; nothing here imports a topic module, so there is no import circle. The registry of
sections (`earlypath.guideline.pathway.sections`) sits on top of the topic modules.

Here: `Section` (one topic of the assessment), `PathwayPolicy` (local choices for the pathway
sections), `NOT_APPLICABLE`, the keys of every section's output
(`SECTION_OUTPUT_KEYS`, `OTHER_DECISIONS_KEY`), the shared scan-location expressions (`IS_INTRAUTERINE`,
`IS_ECTOPIC`, `IS_PUL`, `ECTOPIC_SEEN`), the hCG limits and the small helpers the tables share
(`recommendations`, `not_applicable_branch`, `dated`, `not_before`, `overdue`, `Cited`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from earlypath.facts import ASSESSED_ON, SCAN_DATE, SCAN_LOCATION
from earlypath.guideline.versions import recommendation
from earlypath.rules.decision import (
    ALWAYS,
    Branch,
    Criterion,
    DecisionTable,
    Recommendation,
    Verdict,
)
from earlypath.rules.ir import Expr, If, IsNull, IsTrue, Match, Not, Or, all_of

RECOMMENDATIONS_URL = "https://www.nice.org.uk/guidance/ng126/chapter/Recommendations"
NOT_APPLICABLE = "not_applicable"

# The keys every section's output has, whatever its table renders, in output order (the
# engines write them, the text renderer shows them its own way, the web schema requires them).
SECTION_OUTPUT_KEYS = (
    "decision",
    "recommendations",
    "citations",
    "reasons",
    "missing",
    "advice",
    "trace",
)
# A section with more than one table adds the other tables' decisions under this key.
OTHER_DECISIONS_KEY = "other_decisions"

AntiDRule = Literal["ng126-2012-2023", "rewrite-unverified"]

# Where a recommendation number comes from. "reference": the project's clinical reference
# (docs shared with the team); "unverified": our reading, not checked against the NICE text of
# that version, so the output says so.
NumberSource = Literal["reference", "unverified"]

# Where the pregnancy is, as the scans show it. Unknown until a scan has looked; an ectopic
# pregnancy is never intrauterine for these rules and the reverse.
IS_INTRAUTERINE = Match(SCAN_LOCATION, ("intrauterine",), ("ectopic",))
IS_ECTOPIC = Match(SCAN_LOCATION, ("ectopic",), ("intrauterine",))
IS_PUL = Match(SCAN_LOCATION, ("unknown",), ("intrauterine", "ectopic"))
# Never Unknown: a pregnancy is an ectopic for these rules only once a scan has shown it.
ECTOPIC_SEEN = IsTrue(IS_ECTOPIC)

# A scan was done but its report could not be read (the contract's location "report_not_read",
# `earlypath.model.episode.Scan`). It is not a pregnancy of unknown location: the report may
# show an intrauterine or an ectopic pregnancy, so the pathway waits for it to be read. The
# three expressions above are Unknown on it (a `Match` knows only its own values), but an
# `IsTrue` of them is False, which would read it as "not intrauterine, not an ectopic, not a
# PUL": every section that reads the location asks first whether the report was read.
REPORT_NOT_READ = "report_not_read"
READ_LOCATIONS = ("intrauterine", "ectopic", "unknown")
# True when there is no scan or the latest scan's report was read; Unknown (never False) when
# it was not.
SCAN_REPORT_READ: Expr = Or((IsNull(SCAN_LOCATION), Match(SCAN_LOCATION, READ_LOCATIONS, ())))
# Never Unknown: True only when the latest scan's report was not read (for advice and render).
SCAN_REPORT_NOT_READ: Expr = IsTrue(Match(SCAN_LOCATION, (REPORT_NOT_READ,), ()))
# The name a `needs_information` answer gives for it (`missing`).
SCAN_REPORT_MISSING = "scan_report"
# The values a section's render reads to say which report to read (presentation only).
SCAN_REPORT_VALUES: dict[str, Expr] = {
    "scan_report_not_read": SCAN_REPORT_NOT_READ,
    "scan_date": SCAN_DATE,
}


def scan_report_read(number: str, before: str, unless: Expr | None = None) -> Criterion:
    """False when the latest scan's report was read (or there is no scan), Unknown when it was
    not: a verdict of it alone is never given and, tried before the verdicts that read the
    location, stops the table with `needs_information` naming the report (citing ``number``).
    ``unless`` (never Unknown): when True the report cannot change the answer (an RhD-positive
    woman gets no anti-D whatever it shows), and the criterion is False."""
    not_read = Not(SCAN_REPORT_READ)
    return Criterion(
        "scan_report_not_read",
        not_read if unless is None else all_of(not_read, Not(unless)),
        number,
        "",
        "The latest scan's report was read (or no scan is recorded).",
        "A scan was done but its report has not been read (its findings are free text or a "
        "PDF only, or none of them is coded as earlypath reads them): read the report of the "
        f"latest scan and record where it shows the pregnancy before {before}.",
        (SCAN_REPORT_MISSING,),
    )


def report_read_criterion(number: str, before: str) -> Criterion:
    """True when the latest scan's report was read (or there is no scan), Unknown when it was
    not: for a table that needs the location to be True (progesterone's eligibility), in place
    of its location criterion when the report was not read, so `needs_information` names
    `scan_report` rather than a scan (the scan was done)."""
    return Criterion(
        "scan_report_read",
        SCAN_REPORT_READ,
        number,
        "The latest scan's report was read.",
        "",
        "A scan was done but its report has not been read (its findings are free text or a "
        "PDF only, or none of them is coded as earlypath reads them): read the report of the "
        f"latest scan and record where it shows the pregnancy before {before}.",
        (SCAN_REPORT_MISSING,),
    )


def report_not_read_text(scan_day: Any, before: str) -> str:
    """What a section says (presentation only) when the latest scan's report was not read."""
    day = scan_day.isoformat() if hasattr(scan_day, "isoformat") else scan_day
    return (
        f"The scan report of {day} has not been read (free text or a PDF only, or no finding "
        f"coded as earlypath reads it): read it and record where it shows the pregnancy before "
        f"{before}."
    )


def scan_report_gate(outcome: str, number: str, before: str, unless: Expr | None = None) -> Verdict:
    """The verdict of `scan_report_read`: ``outcome`` is never given (its criterion is never
    True); the verdict is False when the report was read, else `needs_information`."""
    return Verdict(outcome, "all_true", (scan_report_read(number, before, unless),), (number,))


def report_not_read_recommendation(outcome: str, values: dict[str, Any], before: str) -> str | None:
    """The text a section's render shows for a `needs_information` held by an unread scan
    report, or None (presentation only: the table decided)."""
    if outcome != "needs_information" or values.get("scan_report_not_read") is not True:
        return None
    return report_not_read_text(values["scan_date"], before)


# NG126 1.4.27: two hCG samples "as close as possible to 48 hours apart"; its thresholds
# (1.4.29 to 1.4.31) are changes over 48 hours. A pair further apart than this is not compared.
HCG_PAIR_MAX_HOURS = 72.0
# An hCG result older than this (in days before the assessment) is not used where NG126's
# criteria depend on the current level (ectopic management thresholds).
HCG_MAX_AGE_DAYS = 2


@dataclass(frozen=True)
class PathwayPolicy:
    """Local choices for the pathway sections (the progesterone settings are in `Policy`)."""

    anti_d_rule: AntiDRule = "ng126-2012-2023"
    hcg_pair_max_hours: float = HCG_PAIR_MAX_HOURS
    hcg_max_age_days: int = HCG_MAX_AGE_DAYS

    def __post_init__(self) -> None:
        if self.anti_d_rule not in ("ng126-2012-2023", "rewrite-unverified"):
            raise ValueError("anti_d_rule must be 'ng126-2012-2023' or 'rewrite-unverified'")
        hours = self.hcg_pair_max_hours
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 48 <= hours <= 96:
            raise ValueError("hcg_pair_max_hours must be a number from 48 to 96")
        age = self.hcg_max_age_days
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 7:
            raise ValueError("hcg_max_age_days must be a whole number of days from 0 to 7")

    def describe(self) -> dict[str, dict[str, Any]]:
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
            },
            "hcg_pair_max_hours": {
                "value": self.hcg_pair_max_hours,
                "default": HCG_PAIR_MAX_HOURS,
                "reason": (
                    "NG126 1.4.27 asks for two hCG samples as close as possible to 48 hours apart, "
                    "and the thresholds of 1.4.29 to 1.4.31 (a 63% rise, a 50% fall) are changes "
                    "over 48 hours. Over a longer interval a slow rise can pass 63% (1,000 to 1,700 "
                    f"over 7 days), so a pair more than {self.hcg_pair_max_hours:g} hours apart is "
                    "not categorised: take a new pair 48 hours apart and review in the early "
                    "pregnancy unit. NICE sets no upper limit; the default of 72 hours (a sample "
                    "a day late) is a local choice."
                ),
            },
            "hcg_max_age_days": {
                "value": self.hcg_max_age_days,
                "default": HCG_MAX_AGE_DAYS,
                "reason": (
                    "hCG can double or halve in 48 hours, so NG126's ectopic thresholds (1,000, "
                    "1,500 and 5,000 IU/L) are read on a current level. A result taken more than "
                    f"{self.hcg_max_age_days} days before the assessment is not used for them: the "
                    "output says how old it is and asks for a new sample. NICE sets no limit; the "
                    "default of 2 days (one 48-hour interval) is a local choice."
                ),
            },
        }


def not_before(date: Expr, day: Expr) -> Expr:
    """``date``, or ``day`` if ``date`` is earlier: no plan date falls before the assessment."""
    return If(IsTrue(date.lt(day)), day, date)


def overdue(date: Expr, day: Expr) -> Expr:
    """True when ``date`` was before ``day`` (due already: do it now); never Unknown."""
    return IsTrue(date.lt(day))


def dated(name: str, date: Expr) -> dict[str, Expr]:
    """A plan date as three values: ``name`` (never before the assessment day), ``name_was``
    (as counted) and ``name_overdue`` (it was due before the assessment day)."""
    return {
        name: not_before(date, ASSESSED_ON),
        f"{name}_was": date,
        f"{name}_overdue": overdue(date, ASSESSED_ON),
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
