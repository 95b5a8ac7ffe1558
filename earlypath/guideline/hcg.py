"""Serum hCG in a pregnancy of unknown location (NG126 1.4.27 to 1.4.32, 2019-2023 numbering).

Applies to a pregnancy of unknown location (the latest scan's location is "unknown"): with no
scan the answer is ``needs_information`` (a scan comes first); once a scan shows an intrauterine
or ectopic pregnancy, ``not_applicable``.

Two samples as close as possible to 48 hours apart and never earlier (the pair is chosen in
``earlypath.facts.choose_hcg_pair``). R = second / first:

- R > 1.63 (a rise of more than 63%): transvaginal scan 7 to 14 days later; consider an earlier
  scan if hCG >= 1,500 IU/L (1.4.29);
- R < 0.50 (a fall of more than 50%): urine pregnancy test 14 days after the second sample;
  positive -> review within 24 hours (1.4.30);
- otherwise (including exactly 1.63 and exactly 0.50): early pregnancy unit review within
  24 hours (1.4.31).

Boundaries, the same on every engine: the ratio is never computed for the category. Each side
is one IEEE double multiplication (``100 * h2`` against ``h1 * 163.000000163``; for the fall,
``h1 * 49.99999995``): a ratio within one part in a billion of 1.63 (or 0.50) counts as exactly
1.63 (or 0.50), so decimal inputs whose exact ratio is 1.63, such as 12.5 and 20.375, are "other"
despite binary rounding, and every engine (Python, DuckDB, Spark) computes the same two
correctly-rounded products.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.facts import (
    ASSESSED_ON,
    HCG_COUNT,
    HCG_FIRST_IU,
    HCG_HOURS_APART,
    HCG_SECOND_DATE,
    HCG_SECOND_IU,
    HCG_TOO_CLOSE,
    SCAN_LOCATION,
)
from earlypath.guideline.pathway import (
    NOT_APPLICABLE,
    NumberSource,
    PathwayPolicy,
    Section,
    recommendations,
)
from earlypath.rules.decision import ALWAYS, Advice, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import AddDays, Const, Expr, If, IsTrue, Match, Not, all_of

TOPIC = "hcg_assessment"
CATEGORIES = ("rise_over_63", "fall_over_50", "other")
OUTCOMES = (*CATEGORIES, NOT_APPLICABLE, "needs_information")
EARLIER_SCAN_IU = 1500.0


# One part in a billion: far below any real change in hCG, far above binary rounding error.
TOLERANCE = 1e-9
RISE_FACTOR = 163.0 * (1 + TOLERANCE)  # 163.000000163
FALL_FACTOR = 50.0 * (1 - TOLERANCE)  # 49.99999995
RISE_OVER_63: Expr = (HCG_SECOND_IU * 100.0).gt(HCG_FIRST_IU * RISE_FACTOR)
FALL_OVER_50: Expr = (HCG_SECOND_IU * 100.0).lt(HCG_FIRST_IU * FALL_FACTOR)
# For display only (the category never uses it). Unknown if the first value is 0.
RATIO: Expr = If(HCG_FIRST_IU.gt(0.0), HCG_SECOND_IU / HCG_FIRST_IU, Const(None))
# The ratio is for a pregnancy of unknown location: False for a PUL, Unknown with no scan.
LOCATED: Expr = Match(SCAN_LOCATION, ("intrauterine", "ectopic"), ("unknown",))

_SUMMARIES: dict[str, tuple[str, NumberSource]] = {
    "1.4.27": (
        "Pregnancy of unknown location: take two serum hCG samples as close as possible to 48 hours "
        "apart (but no earlier) to decide further management.",
        "reference",
    ),
    "1.4.29": (
        "hCG rise of more than 63% in 48 hours: a developing intrauterine pregnancy is likely (an "
        "ectopic is not excluded): transvaginal scan 7 to 14 days later; consider an earlier scan if "
        "hCG is 1,500 IU/L or more.",
        "reference",
    ),
    "1.4.30": (
        "hCG fall of more than 50% in 48 hours: the pregnancy is unlikely to continue: urine "
        "pregnancy test 14 days after the second hCG; if positive, review within 24 hours.",
        "reference",
    ),
    "1.4.31": (
        "hCG change between a 50% fall and a 63% rise: review in the early pregnancy unit within "
        "24 hours of the second result.",
        "reference",
    ),
    "1.4.32": (
        "Do not use serum progesterone measurements to predict an ectopic pregnancy or the outcome "
        "of a pregnancy of unknown location.",
        "reference",
    ),
}

_MISSING = ("hcg",)
_UNKNOWN = (
    "Two serum hCG results taken at least 48 hours apart are needed (results under 48 hours "
    "apart are not compared)."
)


def _criteria() -> dict[str, Criterion]:
    return {
        "rise": Criterion(
            "rise_over_63",
            RISE_OVER_63,
            "1.4.29",
            "hCG rose by more than 63% over at least 48 hours.",
            "hCG did not rise by more than 63%.",
            _UNKNOWN,
            _MISSING,
        ),
        "fall": Criterion(
            "fall_over_50",
            FALL_OVER_50,
            "1.4.30",
            "hCG fell by more than 50% over at least 48 hours.",
            "hCG did not fall by more than 50%.",
            _UNKNOWN,
            _MISSING,
        ),
        "other": Criterion(
            "neither",
            all_of(Not(RISE_OVER_63), Not(FALL_OVER_50)),
            "1.4.31",
            "hCG changed by between a 50% fall and a 63% rise (inclusive of both).",
            "",
            _UNKNOWN,
            _MISSING,
        ),
    }


@cache
def hcg_table(version: str) -> DecisionTable:
    """The hCG-ratio decision table (the same text in the 2019, 2021 and 2023 versions)."""
    c = _criteria()
    recs, _ = recommendations(version, _SUMMARIES)
    located = Criterion(
        "location_known",
        LOCATED,
        "1.4.27",
        "The latest scan shows where the pregnancy is (intrauterine or ectopic): the hCG ratio "
        "is for a pregnancy of unknown location.",
        "The latest scan shows a pregnancy of unknown location.",
        "No scan is recorded: the hCG ratio is used once a transvaginal scan shows a pregnancy "
        "of unknown location.",
        ("scans",),
    )
    applies = Branch(
        "latest_scan",
        ALWAYS,
        (
            Verdict(NOT_APPLICABLE, "all_true", (located,), ()),
            Verdict("rise_over_63", "all_true", (c["rise"],), ("1.4.27", "1.4.29")),
            Verdict("fall_over_50", "all_true", (c["fall"],), ("1.4.27", "1.4.30")),
            Verdict("other", "all_true", (c["other"],), ("1.4.27", "1.4.31")),
        ),
    )
    advice = (
        Advice(
            "earlier_scan",
            HCG_SECOND_IU.ge(EARLIER_SCAN_IU),
            "1.4.29",
            "hCG is 1,500 IU/L or more: consider an earlier transvaginal scan.",
            ("rise_over_63",),
        ),
        Advice(
            "samples_under_48h",
            IsTrue(HCG_TOO_CLOSE),
            "1.4.27",
            "The hCG results were taken less than 48 hours apart, so they are not compared: take "
            "another sample at least 48 hours after the first.",
            ("needs_information",),
        ),
        Advice(
            "no_serum_progesterone",
            ALWAYS,
            "1.4.32",
            "Do not use serum progesterone to predict an ectopic pregnancy or the outcome of a "
            "pregnancy of unknown location.",
            (*CATEGORIES, "needs_information"),
        ),
    )
    return DecisionTable(TOPIC, OUTCOMES, (applies,), advice, recs)


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": hcg_table(version)}


VALUES: dict[str, Expr] = {
    "ratio": RATIO,
    "scan_from": AddDays(HCG_SECOND_DATE, Const(7)),
    "scan_by": AddDays(HCG_SECOND_DATE, Const(14)),
    "urine_test_on": AddDays(HCG_SECOND_DATE, Const(14)),
    "review_by": AddDays(HCG_SECOND_DATE, Const(1)),
    "assessed_on": ASSESSED_ON,
    "hours_apart": HCG_HOURS_APART,
    "count": HCG_COUNT,
    "too_close": HCG_TOO_CLOSE,
}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return VALUES


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return {number: source for number, (_, source) in _SUMMARIES.items()}


def _samples(values: dict[str, Any]) -> dict[str, Any] | None:
    """Which results were compared, and how many were not (flagged, never silently used)."""
    count = values["count"]
    if not count:
        return None
    hours = values["hours_apart"]
    used = 2 if hours is not None else 0
    return {
        "results": count,
        "compared": used,
        "hours_apart": round(hours, 1) if hours is not None else None,
        "not_used": count - used,
        "all_under_48h": bool(values["too_close"]),
    }


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome = outcomes["main"]
    ratio = values["ratio"]
    out: dict[str, Any] = {
        "ratio": round(ratio, 3) if isinstance(ratio, float) and outcome in CATEGORIES else None,
        "category": outcome if outcome in CATEGORIES else None,
        "next_step": None,
        "due_on": None,
        "due_by": None,
        "recommendation": None,
        "samples": _samples(values),
    }
    if outcome == "rise_over_63":
        out |= {
            "next_step": "transvaginal_scan",
            "due_on": values["scan_from"],
            "due_by": values["scan_by"],
            "recommendation": "Transvaginal scan 7 to 14 days after the second hCG sample to "
            "find the pregnancy (an ectopic is not excluded).",
        }
    elif outcome == "fall_over_50":
        out |= {
            "next_step": "urine_pregnancy_test",
            "due_on": values["urine_test_on"],
            "recommendation": "Urine pregnancy test 14 days after the second hCG sample; if "
            "positive, review within 24 hours.",
        }
    elif outcome == "other":
        out |= {
            "next_step": "epu_review_within_24h",
            "due_by": values["review_by"],
            "recommendation": "Review in the early pregnancy unit within 24 hours of the second "
            "hCG result.",
        }
    elif outcome == "needs_information":
        out["recommendation"] = _UNKNOWN
    return out


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
