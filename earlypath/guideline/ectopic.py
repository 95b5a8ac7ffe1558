"""Management of a tubal ectopic pregnancy (NG126 section 1.6, 2019-2023 text).

Applies only when the latest scan shows an ectopic pregnancy. First line, in order:

1. surgery if she is haemodynamically unstable, or has significant pain, or hCG >= 5,000 IU/L, or
   an adnexal mass >= 35 mm, or a visible heartbeat, or cannot return for follow-up;
2. expectant if stable and pain free, mass < 35 mm, no heartbeat, hCG <= 1,000 IU/L and able to
   return (offered; between 1,000 and 1,500 IU/L it is only *considered*, see ``options``);
3. methotrexate if stable, no significant pain, an unruptured ectopic, mass < 35 mm, no
   heartbeat, hCG < 1,500 IU/L, no intrauterine pregnancy and able to return;
4. a choice of methotrexate or surgery at hCG 1,500 to 4,999 IU/L with the same conditions.

A known rupture (``ectopic_ruptured``) makes surgery first line: methotrexate and the choice
need an unruptured ectopic (NICE), so an unrecorded rupture gives ``needs_information`` there;
expectant management's own criteria (stable, pain free) do not name rupture.

Every criterion of (1) must be known before another first line can be named: an Unknown that
could make surgery first line gives ``needs_information``. A combination none of these covers
(for example an intrauterine pregnancy seen as well: heterotopic) is left to clinical review.
The hCG used is the latest result, and only if it is current (taken at most
`PathwayPolicy.hcg_max_age_days` before the assessment): an older one is reported with its
age and the criteria that need hCG are Unknown until a new sample is taken. Every follow-up date
is on or after the assessment day; one due before it is flagged overdue. The individual
recommendation numbers in section 1.6 are not verified here: citations name the section and say
so.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.facts import (
    ABLE_TO_RETURN,
    ADNEXAL_MASS_MM,
    ASSESSED_ON,
    ECTOPIC_RUPTURED,
    FETAL_HEARTBEAT,
    HAEMODYNAMICALLY_UNSTABLE,
    HCG_LATEST_DATE,
    HCG_LATEST_IU,
    INTRAUTERINE_SEEN,
    PAIN,
)
from earlypath.guideline.vocabulary import (
    ECTOPIC_SEEN,
    HCG_MAX_AGE_DAYS,
    NOT_APPLICABLE,
    SCAN_REPORT_NOT_READ,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    dated,
    not_applicable_branch,
    recommendations,
    report_not_read_recommendation,
    scan_report_gate,
)
from earlypath.rules.decision import Advice, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import (
    AddDays,
    Coalesce,
    Const,
    DaysBetween,
    Expr,
    If,
    IsTrue,
    Match,
    Not,
    all_of,
    any_of,
)

TOPIC = "ectopic_management"
FIRST_LINES = ("expectant", "methotrexate", "surgery", "choice_methotrexate_or_surgery")
OUTCOMES = (*FIRST_LINES, NOT_APPLICABLE, "needs_information")
EXPECTANT_OFFER_MAX_IU = 1000.0
METHOTREXATE_MAX_IU = 1500.0  # methotrexate first line below this; expectant considered to here
SURGERY_FROM_IU = 5000.0
MASS_LIMIT_MM = 35.0
EXPECTANT_HCG_DAYS = (2, 4, 7)
METHOTREXATE_HCG_DAYS = (4, 7, 14)  # then weekly until negative

SIGNIFICANT_PAIN = Match(PAIN, ("significant",), ("none", "mild"))
PAIN_FREE = Match(PAIN, ("none",), ("mild", "significant"))
HEARTBEAT = FETAL_HEARTBEAT
SMALL_MASS = ADNEXAL_MASS_MM.lt(MASS_LIMIT_MM)
HCG_AGE_DAYS = DaysBetween(HCG_LATEST_DATE, ASSESSED_ON)


def current_hcg(max_age_days: int) -> Expr:
    """The latest hCG if taken at most ``max_age_days`` before the assessment, else Unknown."""
    return If(IsTrue(HCG_AGE_DAYS.le(max_age_days)), HCG_LATEST_IU, Const(None))


def _hcg_unknown(max_age_days: int) -> str:
    return (
        f"No current serum hCG result (none recorded, or the latest was taken more than "
        f"{max_age_days} days before the assessment): take a new sample."
    )


_S: NumberSource = "unverified"
_SUMMARIES: dict[str, tuple[str, NumberSource]] = {
    "1.6 surgery first line": (
        "Offer surgery first line if she cannot return for follow-up after methotrexate, or has "
        "significant pain, an adnexal mass of 35 mm or more, a visible fetal heartbeat or hCG of "
        "5,000 IU/L or more.",
        _S,
    ),
    "1.6 expectant": (
        "Offer expectant management to women who are clinically stable and pain free, with a tubal "
        "ectopic under 35 mm with no visible heartbeat, hCG 1,000 IU/L or less, and able to return "
        "for follow-up; consider it with hCG above 1,000 and below 1,500 IU/L.",
        _S,
    ),
    "1.6 methotrexate first line": (
        "Offer systemic methotrexate first line to women able to return for follow-up with no "
        "significant pain, an unruptured ectopic with a mass under 35 mm and no visible heartbeat, "
        "hCG under 1,500 IU/L and no intrauterine pregnancy.",
        _S,
    ),
    "1.6 choice": (
        "Offer the choice of methotrexate or surgery with hCG of at least 1,500 and under 5,000 "
        "IU/L, for women able to return for follow-up, with no significant pain, a mass under 35 mm "
        "with no visible heartbeat and no intrauterine pregnancy.",
        _S,
    ),
    "1.6 follow-up": (
        "Expectant management: serum hCG on days 2, 4 and 7 after the original test (a fall of 15% "
        "or more each time: then weekly until under 20 IU/L; otherwise senior review). "
        "Methotrexate: serum hCG on days 4 and 7 after treatment, then weekly until negative.",
        _S,
    ),
}


def _c(id: str, expr: Expr, rec: str, yes: str, no: str, unknown: str, missing: str) -> Criterion:
    return Criterion(id, expr, rec, yes, no, unknown, (missing,))


def _criteria(max_age_days: int) -> dict[str, Criterion]:
    hcg = current_hcg(max_age_days)
    no_hcg = _hcg_unknown(max_age_days)
    s, e, m, ch = (
        "1.6 surgery first line",
        "1.6 expectant",
        "1.6 methotrexate first line",
        "1.6 choice",
    )
    hb_unknown = "Whether a heartbeat is visible in the ectopic is not recorded."
    mass_unknown = "The size of the adnexal mass is not recorded."
    return {
        "unstable": _c(
            "haemodynamically_unstable",
            HAEMODYNAMICALLY_UNSTABLE,
            s,
            "She is haemodynamically unstable.",
            "She is haemodynamically stable.",
            "Whether she is haemodynamically stable is not recorded.",
            "haemodynamically_unstable",
        ),
        "significant_pain": _c(
            "significant_pain",
            SIGNIFICANT_PAIN,
            s,
            "She has significant pain.",
            "She has no significant pain.",
            "Her pain is not recorded.",
            "pain",
        ),
        "hcg_5000": _c(
            "hcg_at_least_5000",
            hcg.ge(SURGERY_FROM_IU),
            s,
            "hCG is 5,000 IU/L or more.",
            "hCG is under 5,000 IU/L.",
            no_hcg,
            "hcg",
        ),
        "mass_35": _c(
            "mass_at_least_35mm",
            ADNEXAL_MASS_MM.ge(MASS_LIMIT_MM),
            s,
            "The adnexal mass is 35 mm or more.",
            "The adnexal mass is under 35 mm.",
            mass_unknown,
            "adnexal_mass_mm",
        ),
        "heartbeat": _c(
            "heartbeat_visible",
            HEARTBEAT,
            s,
            "A fetal heartbeat is visible in the ectopic pregnancy.",
            "No fetal heartbeat is visible.",
            hb_unknown,
            "scans.fetal_heartbeat",
        ),
        "cannot_return": _c(
            "cannot_return",
            Not(ABLE_TO_RETURN),
            s,
            "She cannot return for follow-up.",
            "She can return for follow-up.",
            "Whether she can return for follow-up is not recorded.",
            "able_to_return_for_follow_up",
        ),
        "ruptured": _c(
            "ruptured",
            IsTrue(ECTOPIC_RUPTURED),
            s,
            "The ectopic pregnancy has ruptured.",
            "No rupture is recorded.",
            "",
            "ectopic_ruptured",
        ),
        "unruptured": _c(
            "unruptured",
            Not(ECTOPIC_RUPTURED),
            m,
            "The ectopic pregnancy is unruptured.",
            "The ectopic pregnancy has ruptured.",
            "Whether the ectopic pregnancy has ruptured is not recorded: methotrexate needs an "
            "unruptured ectopic.",
            "ectopic_ruptured",
        ),
        "stable_for_methotrexate": _c(
            "stable",
            Not(HAEMODYNAMICALLY_UNSTABLE),
            m,
            "She is haemodynamically stable.",
            "She is haemodynamically unstable.",
            "Whether she is haemodynamically stable is not recorded.",
            "haemodynamically_unstable",
        ),
        "stable": _c(
            "stable",
            Not(HAEMODYNAMICALLY_UNSTABLE),
            e,
            "She is clinically stable.",
            "She is not stable.",
            "Stability is not recorded.",
            "haemodynamically_unstable",
        ),
        "pain_free": _c(
            "pain_free",
            PAIN_FREE,
            e,
            "She is pain free.",
            "She has some pain.",
            "Her pain is not recorded.",
            "pain",
        ),
        "no_significant_pain": _c(
            "no_significant_pain",
            Not(SIGNIFICANT_PAIN),
            m,
            "She has no significant pain.",
            "She has significant pain.",
            "Her pain is not recorded.",
            "pain",
        ),
        "small_mass": _c(
            "mass_under_35mm",
            SMALL_MASS,
            m,
            "The adnexal mass is under 35 mm.",
            "The adnexal mass is 35 mm or more.",
            mass_unknown,
            "adnexal_mass_mm",
        ),
        "no_heartbeat": _c(
            "no_heartbeat",
            Not(HEARTBEAT),
            m,
            "No fetal heartbeat is visible.",
            "A fetal heartbeat is visible.",
            hb_unknown,
            "scans.fetal_heartbeat",
        ),
        "hcg_1000": _c(
            "hcg_at_most_1000",
            hcg.le(EXPECTANT_OFFER_MAX_IU),
            e,
            "hCG is 1,000 IU/L or less.",
            "hCG is above 1,000 IU/L.",
            no_hcg,
            "hcg",
        ),
        "hcg_under_1500": _c(
            "hcg_under_1500",
            hcg.lt(METHOTREXATE_MAX_IU),
            m,
            "hCG is under 1,500 IU/L.",
            "hCG is 1,500 IU/L or more.",
            no_hcg,
            "hcg",
        ),
        "hcg_1500_to_4999": _c(
            "hcg_1500_to_4999",
            all_of(hcg.ge(METHOTREXATE_MAX_IU), hcg.lt(SURGERY_FROM_IU)),
            ch,
            "hCG is between 1,500 and 4,999 IU/L.",
            "hCG is not between 1,500 and 4,999 IU/L.",
            no_hcg,
            "hcg",
        ),
        "no_iup": _c(
            "no_intrauterine_pregnancy",
            Not(INTRAUTERINE_SEEN),
            m,
            "No intrauterine pregnancy has been seen.",
            "An intrauterine pregnancy has been seen on a scan (heterotopic pregnancy "
            "possible): methotrexate is not first line; review clinically.",
            "",
            "scans",
        ),
        "able": _c(
            "able_to_return",
            ABLE_TO_RETURN,
            m,
            "She can return for follow-up.",
            "She cannot return for follow-up.",
            "Whether she can return for follow-up is not recorded.",
            "able_to_return_for_follow_up",
        ),
    }


SURGERY_FIRST_LINE = (
    "unstable",
    "ruptured",
    "significant_pain",
    "hcg_5000",
    "mass_35",
    "heartbeat",
    "cannot_return",
)
# What methotrexate needs (NICE: able to return, no significant pain, an unruptured ectopic
# under 35 mm with no visible heartbeat, no intrauterine pregnancy) and a stable woman (an
# unstable one goes to A&E and surgery).
METHOTREXATE_NEEDS = (
    "stable_for_methotrexate",
    "no_significant_pain",
    "unruptured",
    "small_mass",
    "no_heartbeat",
    "no_iup",
    "able",
)


def _option_exprs(max_age_days: int) -> dict[str, Expr]:
    c = _criteria(max_age_days)
    hcg = current_hcg(max_age_days)
    common = (c["small_mass"].expr, c["no_heartbeat"].expr, c["able"].expr)
    return {
        "option_expectant": all_of(
            c["stable"].expr,
            c["pain_free"].expr,
            Not(c["ruptured"].expr),
            *common,
            hcg.lt(METHOTREXATE_MAX_IU),
        ),
        "option_methotrexate": all_of(
            *(c[k].expr for k in METHOTREXATE_NEEDS), hcg.lt(SURGERY_FROM_IU)
        ),
        "option_surgery": any_of(
            *(c[k].expr for k in SURGERY_FIRST_LINE), hcg.ge(METHOTREXATE_MAX_IU)
        ),
    }


@cache
def ectopic_table(version: str, max_age_days: int = HCG_MAX_AGE_DAYS) -> DecisionTable:
    """The ectopic first-line table (the same text in the 2019, 2021 and 2023 versions), for a
    limit on the age of the hCG result (policy ``hcg_max_age_days``)."""
    c = _criteria(max_age_days)
    recs, _ = recommendations(version, _SUMMARIES)
    surgery = tuple(c[k] for k in SURGERY_FIRST_LINE)
    verdicts = (
        Verdict("surgery", "any_true", surgery, ("1.6 surgery first line",)),
        Verdict(
            "expectant",
            "all_true",
            tuple(
                c[k]
                for k in ("stable", "pain_free", "small_mass", "no_heartbeat", "hcg_1000", "able")
            ),
            ("1.6 expectant", "1.6 follow-up"),
        ),
        Verdict(
            "methotrexate",
            "all_true",
            (*(c[k] for k in METHOTREXATE_NEEDS), c["hcg_under_1500"]),
            ("1.6 methotrexate first line", "1.6 follow-up"),
        ),
        Verdict(
            "choice_methotrexate_or_surgery",
            "all_true",
            (*(c[k] for k in METHOTREXATE_NEEDS), c["hcg_1500_to_4999"]),
            ("1.6 choice", "1.6 follow-up"),
        ),
    )
    branches = (
        Branch("ectopic", ECTOPIC_SEEN, verdicts),
        # an unread report may show an ectopic pregnancy: not "no ectopic" until it is read
        Branch(
            "scan_report_not_read",
            SCAN_REPORT_NOT_READ,
            (
                scan_report_gate(
                    NOT_APPLICABLE,
                    "1.6 surgery first line",
                    "ruling an ectopic pregnancy in or out",
                ),
            ),
        ),
        not_applicable_branch("The latest scan does not show an ectopic pregnancy."),
    )
    advice = (
        Advice(
            "hcg_too_old",
            IsTrue(HCG_AGE_DAYS.gt(max_age_days)),
            "1.6 expectant",
            f"The latest serum hCG was taken more than {max_age_days} days before this "
            "assessment (see hcg_age_days): NICE's thresholds for expectant management, "
            "methotrexate and surgery are read on a current level. Take a new sample now "
            f"(policy hcg_max_age_days = {max_age_days}).",
            (*FIRST_LINES, "needs_information"),
        ),
    )
    return DecisionTable(TOPIC, OUTCOMES, branches, advice, recs)


@cache
def _values_exprs(max_age_days: int) -> dict[str, Expr]:
    # NICE counts the expectant schedule from the original test: the latest (current) sample.
    expectant_base = Coalesce((HCG_LATEST_DATE, ASSESSED_ON))
    values: dict[str, Expr] = dict(_option_exprs(max_age_days))
    values["hcg_age_days"] = HCG_AGE_DAYS
    values |= SCAN_REPORT_VALUES
    for day in EXPECTANT_HCG_DAYS:
        values |= dated(f"expectant_hcg_day_{day}", AddDays(expectant_base, Const(day)))
    for day in METHOTREXATE_HCG_DAYS:
        values |= dated(f"methotrexate_hcg_day_{day}", AddDays(ASSESSED_ON, Const(day)))
    return values


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": ectopic_table(version, policy.hcg_max_age_days)}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return _values_exprs(policy.hcg_max_age_days)


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return {number: source for number, (_, source) in _SUMMARIES.items()}


_TEXT = {
    "surgery": "Surgery is first line (laparoscopic salpingectomy, or salpingotomy if she has a risk "
    "factor for infertility).",
    "expectant": "Expectant management is first line, with serum hCG follow-up (see options for "
    "the alternatives she meets the criteria for).",
    "methotrexate": "Systemic methotrexate is first line, with serum hCG follow-up.",
    "choice_methotrexate_or_surgery": "Offer her the choice of methotrexate or surgery.",
    "needs_information": "Record the missing findings (see missing): each of them decides which "
    "first-line treatment she meets NICE's criteria for.",
    NOT_APPLICABLE: "The latest scan does not show an ectopic pregnancy.",
}


def _schedule(kind: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "expectant":
        actions = [_step(d, values, "expectant", "serum hCG") for d in EXPECTANT_HCG_DAYS]
        actions.append(
            {
                "day": None,
                "on": None,
                "action": "if hCG fell by 15% or more each time: weekly serum hCG until under "
                "20 IU/L; if not, review and seek senior advice",
            }
        )
        return actions
    if kind == "methotrexate":
        return [
            _step(4, values, "methotrexate", "serum hCG"),
            _step(7, values, "methotrexate", "serum hCG"),
            _step(14, values, "methotrexate", "serum hCG, then weekly until negative"),
        ]
    return []


def _step(day: int, values: dict[str, Any], kind: str, action: str) -> dict[str, Any]:
    name = f"{kind}_hcg_day_{day}"
    overdue = values[f"{name}_overdue"] is True
    return {
        "day": day,
        "on": values[name],
        "action": action,
        "overdue": overdue,
        **({"was_due": values[f"{name}_was"], "note": "overdue: do it now"} if overdue else {}),
    }


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome = outcomes["main"]
    options = [
        name
        for name in ("expectant", "methotrexate", "surgery")
        if outcome in FIRST_LINES and values[f"option_{name}"] is True
    ]
    schedules = {}
    if outcome in ("expectant", "methotrexate", "choice_methotrexate_or_surgery"):
        for kind in ("expectant", "methotrexate"):
            if kind in options:
                schedules[kind] = _schedule(kind, values)
    overdue = [
        {"what": f"{kind} serum hCG day {step['day']}", "was_due": step["was_due"]}
        for kind, steps in schedules.items()
        for step in steps
        if step.get("overdue")
    ]
    return {
        "first_line": outcome if outcome in FIRST_LINES else None,
        "options": options,
        "follow_up": schedules,
        "follow_up_note": "Expectant schedule counted from the latest hCG sample; methotrexate "
        "schedule counted from the assessment day (assumed treatment day). No date is before the "
        "assessment day: a step that was due earlier is marked overdue (do it now).",
        "overdue": overdue,
        "hcg_age_days": values["hcg_age_days"],
        "recommendation": report_not_read_recommendation(
            outcome, values, "ruling an ectopic pregnancy in or out"
        )
        or _TEXT[outcome],
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
