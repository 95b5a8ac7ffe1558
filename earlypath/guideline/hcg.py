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
  24 hours (1.4.31);
- a result later than the compared pair that turns against its direction (higher after a fall,
  lower after a rise) is not ignored: EPU review within 24 hours (NG126 is silent: policy).

The thresholds are changes over 48 hours: a pair more than `PathwayPolicy.hcg_pair_max_hours`
(72 by default) apart is not categorised (``needs_information``): take a new pair 48 hours apart
and review in the early pregnancy unit. Every date is on or after the assessment day; one that
was due before it is flagged overdue (do it now).

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
    HCG_LATEST_IU,
    HCG_SECOND_DATE,
    HCG_SECOND_IU,
    HCG_TOO_CLOSE,
    SCAN_LOCATION,
)
from earlypath.guideline.vocabulary import (
    HCG_MAX_AGE_DAYS,
    HCG_PAIR_MAX_HOURS,
    NOT_APPLICABLE,
    SCAN_REPORT_NOT_READ,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    dated,
    recommendations,
    report_not_read_text,
    scan_report_gate,
)
from earlypath.rules.decision import ALWAYS, Advice, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import AddDays, Const, DaysBetween, Expr, If, IsTrue, Match, Not, all_of

TOPIC = "hcg_assessment"
CATEGORIES = ("rise_over_63", "fall_over_50", "other")
OUTCOMES = (*CATEGORIES, NOT_APPLICABLE, "needs_information")
EARLIER_SCAN_IU = 1500.0


# One part in a billion: far below any real change in hCG, far above binary rounding error.
TOLERANCE = 1e-9
RISE_FACTOR = 163.0 * (1 + TOLERANCE)  # 163.000000163
FALL_FACTOR = 50.0 * (1 - TOLERANCE)  # 49.99999995


def within(max_hours: float) -> Expr:
    """True when the chosen pair is at most ``max_hours`` apart; never Unknown."""
    return IsTrue(HCG_HOURS_APART.le(float(max_hours)))


def _first(max_hours: float) -> Expr:
    """The first value of the pair, Unknown if the pair is too far apart to compare."""
    return If(within(max_hours), HCG_FIRST_IU, Const(None))


def rise_over_63(max_hours: float) -> Expr:
    return (HCG_SECOND_IU * 100.0).gt(_first(max_hours) * RISE_FACTOR)


def fall_over_50(max_hours: float) -> Expr:
    return (HCG_SECOND_IU * 100.0).lt(_first(max_hours) * FALL_FACTOR)


# A result later than the compared pair that turns against its direction: higher than the pair's
# second value after a fall, lower after a rise (the latest result is the pair's second when no
# later one exists, so both are then False). Never Unknown. NG126 is silent on a third result; a
# change of direction is not reassuring in a pregnancy of unknown location (an ectopic is not
# excluded), so neither the fall nor the rise pathway is followed: EPU review within 24 hours.
LATER_RISE: Expr = IsTrue(HCG_LATEST_IU.gt(HCG_SECOND_IU))
LATER_FALL: Expr = IsTrue(HCG_LATEST_IU.lt(HCG_SECOND_IU))

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


def _unknown(max_hours: float) -> str:
    return (
        f"Two serum hCG results taken 48 to {max_hours:g} hours apart are needed (results under "
        f"48 hours apart are not compared, and NICE's thresholds are changes over 48 hours, so "
        f"results more than {max_hours:g} hours apart are not compared either)."
    )


def _criteria(max_hours: float) -> dict[str, Criterion]:
    unknown = _unknown(max_hours)
    rise, fall = rise_over_63(max_hours), fall_over_50(max_hours)
    return {
        "rise": Criterion(
            "rise_over_63",
            rise,
            "1.4.29",
            "hCG rose by more than 63% over at least 48 hours.",
            "hCG did not rise by more than 63%.",
            unknown,
            _MISSING,
        ),
        "fall": Criterion(
            "fall_over_50",
            fall,
            "1.4.30",
            "hCG fell by more than 50% over at least 48 hours.",
            "hCG did not fall by more than 50%.",
            unknown,
            _MISSING,
        ),
        "later_rise": Criterion(
            "later_result_higher",
            LATER_RISE,
            "1.4.31",
            "A later hCG result is higher than the second result of the compared pair: the fall "
            "has not continued, so it is not read as a fall of more than 50%. Review in the early "
            "pregnancy unit within 24 hours; an ectopic pregnancy is not excluded (NG126 does not "
            "cover a third result: policy choice).",
            "",
            "",
            (),
        ),
        "later_fall": Criterion(
            "later_result_lower",
            LATER_FALL,
            "1.4.31",
            "A later hCG result is lower than the second result of the compared pair: the rise "
            "has not continued, so it is not read as a rise of more than 63%. Review in the early "
            "pregnancy unit within 24 hours; an ectopic pregnancy is not excluded (NG126 does not "
            "cover a third result: policy choice).",
            "",
            "",
            (),
        ),
        "other": Criterion(
            "neither",
            all_of(Not(rise), Not(fall)),
            "1.4.31",
            "hCG changed by between a 50% fall and a 63% rise (inclusive of both).",
            "",
            unknown,
            _MISSING,
        ),
    }


@cache
def hcg_table(
    version: str, max_hours: float = HCG_PAIR_MAX_HOURS, max_age_days: int = HCG_MAX_AGE_DAYS
) -> DecisionTable:
    """The hCG-ratio decision table (the same text in the 2019, 2021 and 2023 versions), for the
    policy limits on the pair's interval and on the age of the pair."""
    c = _criteria(max_hours)
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
            # a scan whose report was not read is not a pregnancy of unknown location: no hCG
            # pathway until it is read
            scan_report_gate(
                NOT_APPLICABLE,
                "1.4.27",
                "following the pregnancy of unknown location pathway (serum hCG 48 hours apart)",
            ),
            Verdict(NOT_APPLICABLE, "all_true", (located,), ()),
            Verdict("other", "all_true", (c["rise"], c["later_fall"]), ("1.4.27", "1.4.31")),
            Verdict("other", "all_true", (c["fall"], c["later_rise"]), ("1.4.27", "1.4.31")),
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
            all_of(IsTrue(HCG_TOO_CLOSE), Not(SCAN_REPORT_NOT_READ)),
            "1.4.27",
            "The hCG results were taken less than 48 hours apart, so they are not compared: take "
            "another sample at least 48 hours after the first.",
            ("needs_information",),
        ),
        Advice(
            "samples_too_far_apart",
            all_of(IsTrue(HCG_HOURS_APART.gt(float(max_hours))), Not(SCAN_REPORT_NOT_READ)),
            "1.4.27",
            f"The closest pair of hCG results is more than {max_hours:g} hours apart, so it is not "
            "compared with NICE's 48-hour thresholds (1.4.29 to 1.4.31): a slow change can pass "
            "them over a longer interval. Take a new pair of samples 48 hours apart (the first "
            "now) and review her in the early pregnancy unit, as for an uncertain result "
            f"(policy hcg_pair_max_hours = {max_hours:g}).",
            ("needs_information",),
        ),
        Advice(
            "hcg_pair_is_old",
            IsTrue(DaysBetween(HCG_SECOND_DATE, ASSESSED_ON).gt(max_age_days)),
            "1.4.27",
            f"The second hCG sample was taken more than {max_age_days} days before this "
            "assessment (its age is given as second sample days ago): the next step was due "
            "counting from it; a date that has passed is marked overdue: do it now. If she still "
            "has symptoms, take a new hCG sample as well.",
            CATEGORIES,
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
    return {"main": hcg_table(version, float(policy.hcg_pair_max_hours), policy.hcg_max_age_days)}


@cache
def _values_exprs(max_hours: float) -> dict[str, Expr]:
    return {
        "ratio": RATIO,
        **dated("scan_from", AddDays(HCG_SECOND_DATE, Const(7))),
        **dated("scan_by", AddDays(HCG_SECOND_DATE, Const(14))),
        **dated("urine_test_on", AddDays(HCG_SECOND_DATE, Const(14))),
        **dated("review_by", AddDays(HCG_SECOND_DATE, Const(1))),
        "assessed_on": ASSESSED_ON,
        "hours_apart": HCG_HOURS_APART,
        "count": HCG_COUNT,
        "too_close": HCG_TOO_CLOSE,
        "too_far": IsTrue(HCG_HOURS_APART.gt(float(max_hours))),
        "second_taken_days_ago": DaysBetween(HCG_SECOND_DATE, ASSESSED_ON),
        **SCAN_REPORT_VALUES,
    }


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return _values_exprs(float(policy.hcg_pair_max_hours))


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
        "pair_too_far_apart": values["too_far"] is True,
        "second_sample_days_ago": values["second_taken_days_ago"],
        "overdue": [],
    }
    if outcome == "rise_over_63":
        out |= {
            "next_step": "transvaginal_scan",
            "due_on": values["scan_from"],
            "due_by": values["scan_by"],
            "overdue": _overdue(values, "scan_by", "transvaginal scan"),
            "recommendation": "Transvaginal scan 7 to 14 days after the second hCG sample to "
            "find the pregnancy (an ectopic is not excluded).",
        }
    elif outcome == "fall_over_50":
        out |= {
            "next_step": "urine_pregnancy_test",
            "due_on": values["urine_test_on"],
            "overdue": _overdue(values, "urine_test_on", "urine pregnancy test"),
            "recommendation": "Urine pregnancy test 14 days after the second hCG sample; if "
            "positive, review within 24 hours.",
        }
    elif outcome == "other":
        out |= {
            "next_step": "epu_review_within_24h",
            "due_by": values["review_by"],
            "overdue": _overdue(values, "review_by", "early pregnancy unit review"),
            "recommendation": "Review in the early pregnancy unit within 24 hours of the second "
            "hCG result.",
        }
    elif outcome == "needs_information" and values["scan_report_not_read"] is True:
        out |= {
            "next_step": "read_scan_report",
            "recommendation": report_not_read_text(
                values["scan_date"], "following the pregnancy of unknown location pathway"
            ),
        }
    elif outcome == "needs_information" and values["too_far"] is True:
        out |= {
            "next_step": "repeat_hcg_pair_48h_apart",
            "recommendation": "The hCG results are too far apart to compare with NICE's 48-hour "
            "thresholds: take a new pair 48 hours apart (the first now) and review her in the "
            "early pregnancy unit.",
        }
    elif outcome == "needs_information":
        out["recommendation"] = (
            "The hCG ratio cannot be read yet: see missing and advice. For a pregnancy of unknown "
            "location on scan, two serum hCG results about 48 hours apart are needed (never under "
            "48 hours; a pair too far apart is not compared)."
        )
    return out


def _overdue(values: dict[str, Any], name: str, what: str) -> list[dict[str, Any]]:
    """The step, if its date had passed before the assessment: it is due now."""
    if values[f"{name}_overdue"] is not True:
        return []
    return [{"what": what, "was_due": values[f"{name}_was"], "do": "overdue: do it now"}]


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
