"""Where she should be seen (NG126 section 1.3, 2019-2023 text; numbers not verified here).

- Haemodynamically unstable, or significant concern about the degree of pain (``pain`` is
  "significant") or of bleeding (``heavy_bleeding``): straight to emergency care (A&E).
- Otherwise, with pain, a pregnancy of 6 weeks or more, a gestation that is uncertain, or a
  risk factor for ectopic pregnancy (``previous_ectopic``): refer to an early pregnancy
  assessment unit (EPU). NICE names a previous ectopic as a risk factor that rules out community
  management; that such a woman goes to the EPU is our reading (a policy choice, said in the
  output).
- A scan that shows an ectopic pregnancy or a pregnancy of unknown location: the EPU (policy:
  such a woman is never sent home on community management).
- Otherwise (under 6 weeks, known gestation, no pain, no previous ectopic): expectant management
  in the community: a urine pregnancy test after 7 to 10 days, and return if it is positive or
  symptoms continue.

An unrecorded haemodynamic state, pain or concern about bleeding gives ``needs_information``:
any of them could mean emergency care. An unrecorded previous ectopic does too, under 6 weeks
without pain (it decides between the EPU and the community).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.dating import GESTATION_DAYS
from earlypath.facts import (
    HAEMODYNAMICALLY_UNSTABLE,
    HEAVY_BLEEDING,
    PAIN,
    PREVIOUS_ECTOPIC,
    VAGINAL_BLEEDING,
)
from earlypath.guideline.vocabulary import (
    ECTOPIC_SEEN,
    IS_PUL,
    SCAN_REPORT_MISSING,
    SCAN_REPORT_READ,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    recommendations,
    report_not_read_recommendation,
)
from earlypath.rules.decision import ALWAYS, Advice, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import Expr, IsNull, IsTrue, Match, Not, all_of, any_of

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
        "Use expectant management for women under 6 weeks who are bleeding but not in pain and "
        "have no risk factors, such as a previous ectopic pregnancy: a urine pregnancy test after "
        "7 to 10 days; return if it is positive, or if bleeding continues or pain starts.",
        "unverified",
    ),
}

HAS_PAIN = Match(PAIN, ("mild", "significant"), ("none",))
SIGNIFICANT_PAIN = Match(PAIN, ("significant",), ("none", "mild"))
# Significant concern about the bleeding: known False when she is not bleeding at all.
HEAVY = all_of(VAGINAL_BLEEDING, HEAVY_BLEEDING)


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
        "significant_pain": Criterion(
            "significant_pain",
            SIGNIFICANT_PAIN,
            _EMERGENCY,
            "There is significant concern about the degree of her pain: A&E now.",
            "There is no significant concern about the degree of her pain.",
            "Her pain is not recorded: significant pain means A&E, so it must be assessed.",
            ("pain",),
        ),
        "heavy_bleeding": Criterion(
            "heavy_bleeding",
            HEAVY,
            _EMERGENCY,
            "There is significant concern about the degree of her bleeding: A&E now.",
            "There is no significant concern about the degree of bleeding.",
            "Whether there is significant concern about the degree of bleeding is not recorded "
            "(heavy_bleeding): it would mean A&E, so it must be assessed.",
            ("heavy_bleeding",),
        ),
        "previous_ectopic": Criterion(
            "previous_ectopic",
            PREVIOUS_ECTOPIC,
            _COMMUNITY,
            "She has had a previous ectopic pregnancy: a risk factor, so not community management "
            "(policy: the early pregnancy unit assesses her).",
            "She has had no previous ectopic pregnancy.",
            "Whether she has had a previous ectopic pregnancy is not recorded: under 6 weeks "
            "without pain it decides between community management and the early pregnancy unit.",
            ("previous_ectopic",),
        ),
        "scan_shows_ectopic_or_pul": Criterion(
            "scan_shows_ectopic_or_unknown_location",
            # Unknown (not False) when the latest scan's report was not read: it may show either
            any_of(ECTOPIC_SEEN, IsTrue(IS_PUL), Not(SCAN_REPORT_READ)),
            _EPU,
            "Her latest scan shows an ectopic pregnancy or a pregnancy of unknown location: she "
            "is managed by the early pregnancy unit, never in the community (policy: NG126 asks "
            "that an ectopic pregnancy is excluded).",
            "",
            "A scan was done but its report has not been read: it may show an ectopic pregnancy "
            "or a pregnancy of unknown location, which the early pregnancy unit manages. Read the "
            "report of the latest scan before deciding where she is seen.",
            (SCAN_REPORT_MISSING,),
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
        "no_risk_factor": Criterion(
            "no_previous_ectopic",
            Not(PREVIOUS_ECTOPIC),
            _COMMUNITY,
            "No previous ectopic pregnancy.",
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
        Verdict(
            "emergency_care",
            "any_true",
            (c["unstable"], c["significant_pain"], c["heavy_bleeding"]),
            (_EMERGENCY,),
        ),
        Verdict(
            "early_pregnancy_unit",
            "any_true",
            (
                c["scan_shows_ectopic_or_pul"],
                c["pain"],
                c["six_weeks"],
                c["uncertain"],
                c["previous_ectopic"],
            ),
            (_EPU,),
        ),
        Verdict("no_referral", "all_true", (c["community"], c["no_risk_factor"]), (_COMMUNITY,)),
    )
    advice = (
        Advice(
            "previous_ectopic_policy",
            all_of(PREVIOUS_ECTOPIC, Not(HAS_PAIN)),
            _COMMUNITY,
            "Policy choice: NICE excludes women with a risk factor such as a previous ectopic "
            "pregnancy from community management without saying where they go; they are referred "
            "to the early pregnancy unit, as for pain.",
            ("early_pregnancy_unit",),
        ),
        Advice(
            "other_ectopic_risk_factors",
            ALWAYS,
            _COMMUNITY,
            "Before community management, check for other risk factors for ectopic pregnancy "
            "(previous tubal surgery or pelvic inflammatory disease, a coil in place, assisted "
            "conception): the record holds only a previous ectopic. If any is present, refer her "
            "to the early pregnancy unit.",
            ("no_referral",),
        ),
    )
    return DecisionTable(TOPIC, OUTCOMES, (Branch("referral", ALWAYS, verdicts),), advice, recs)


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": referral_table(version)}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return SCAN_REPORT_VALUES


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
        # after the table's own words: its missing facts may be others (A&E comes first)
        "recommendation": " ".join(
            t
            for t in (
                _TEXT[outcome],
                report_not_read_recommendation(outcome, values, "deciding where she is seen"),
            )
            if t
        ),
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
