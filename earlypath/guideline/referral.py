"""Where she should be seen (NG126 section 1.3, 2019-2023 text; numbers not verified here).

- Haemodynamically unstable: straight to emergency care (A&E).
- Otherwise, with pain, a pregnancy of 6 weeks or more, or a gestation that is uncertain: refer
  to an early pregnancy assessment unit (EPU).
- Otherwise (under 6 weeks, known gestation, no pain): expectant management in the community:
  a urine pregnancy test after 7 to 10 days, and return if it is positive or symptoms continue.

An unrecorded haemodynamic state gives ``needs_information``: it could mean emergency care.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.dating import GESTATION_DAYS
from earlypath.facts import HAEMODYNAMICALLY_UNSTABLE, PAIN
from earlypath.guideline.pathway import NumberSource, PathwayPolicy, Section, recommendations
from earlypath.rules.decision import ALWAYS, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import Expr, IsNull, Match, Not

TOPIC = "referral"
OUTCOMES = ("emergency_care", "early_pregnancy_unit", "no_referral", "needs_information")
SIX_WEEKS_DAYS = 42

_EMERGENCY = "1.3 emergency"
_EPU = "1.3 early pregnancy unit"
_COMMUNITY = "1.3 under 6 weeks"
_SUMMARIES: dict[str, tuple[str, NumberSource]] = {
    _EMERGENCY: (
        "Refer women who are haemodynamically unstable, or where there is significant concern about "
        "the degree of pain or bleeding, directly to A&E.",
        "unverified",
    ),
    _EPU: (
        "Refer women with bleeding or other symptoms and signs of early pregnancy complications who "
        "have pain, or a pregnancy of 6 weeks or more, or a pregnancy of uncertain gestation, to an "
        "early pregnancy assessment service.",
        "unverified",
    ),
    _COMMUNITY: (
        "Under 6 weeks with bleeding but no pain (and no risk factors such as a previous ectopic): "
        "expectant management; a urine pregnancy test after 7 to 10 days; return if positive.",
        "unverified",
    ),
}

HAS_PAIN = Match(PAIN, ("mild", "significant"), ("none",))


def _criteria() -> dict[str, Criterion]:
    return {
        "unstable": Criterion(
            "haemodynamically_unstable",
            HAEMODYNAMICALLY_UNSTABLE,
            _EMERGENCY,
            "She is haemodynamically unstable: emergency care now.",
            "She is haemodynamically stable.",
            "Whether she is haemodynamically stable is not recorded.",
            ("haemodynamically_unstable",),
        ),
        "pain": Criterion(
            "pain",
            HAS_PAIN,
            _EPU,
            "She has pain.",
            "She has no pain.",
            "Whether she has pain is not recorded.",
            ("pain",),
        ),
        "six_weeks": Criterion(
            "six_weeks_or_more",
            GESTATION_DAYS.ge(SIX_WEEKS_DAYS),
            _EPU,
            "She is 6 weeks pregnant or more.",
            "She is under 6 weeks pregnant.",
            "",
            (),
        ),
        "uncertain": Criterion(
            "uncertain_gestation",
            IsNull(GESTATION_DAYS),
            _EPU,
            "Her gestation is uncertain (no LMP and no dating scan).",
            "Her gestation is known.",
            "",
            (),
        ),
        "community": Criterion(
            "under_6_weeks_no_pain",
            Not(HAS_PAIN),
            _COMMUNITY,
            "Under 6 weeks with a known gestation and no pain.",
            "",
            "",
            (),
        ),
    }


@cache
def referral_table(version: str) -> DecisionTable:
    """The referral table (the same text in the 2019, 2021 and 2023 versions)."""
    c = _criteria()
    recs, _ = recommendations(version, _SUMMARIES)
    verdicts = (
        Verdict("emergency_care", "any_true", (c["unstable"],), (_EMERGENCY,)),
        Verdict(
            "early_pregnancy_unit",
            "any_true",
            (c["pain"], c["six_weeks"], c["uncertain"]),
            (_EPU,),
        ),
        Verdict("no_referral", "all_true", (c["community"],), (_COMMUNITY,)),
    )
    return DecisionTable(TOPIC, OUTCOMES, (Branch("referral", ALWAYS, verdicts),), (), recs)


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": referral_table(version)}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return {}


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return {number: source for number, (_, source) in _SUMMARIES.items()}


_TEXT = {
    "emergency_care": "Send her directly to emergency care (A&E) now.",
    "early_pregnancy_unit": "Refer her to the early pregnancy assessment unit.",
    "no_referral": "Expectant management: urine pregnancy test after 7 to 10 days; return if it is "
    "positive, or if bleeding continues or pain starts.",
    "needs_information": "Record the missing facts: they decide where she should be seen.",
}


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome = outcomes["main"]
    return {
        "destination": outcome if outcome != "needs_information" else None,
        "recommendation": _TEXT[outcome],
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
