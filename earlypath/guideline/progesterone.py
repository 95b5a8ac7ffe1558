"""NG126 on progesterone for threatened miscarriage, as decision tables (one per version).

2021 numbering: 1.5.1 (bleeding, no previous miscarriage: 14-day advice), 1.5.2 (offer vaginal
micronised progesterone 400 mg twice daily: scan-confirmed IUP + bleeding + previous
miscarriage), 1.5.3 (once a heartbeat is confirmed, continue to 16 completed weeks).
The 2019 text had 1.5.1 for everyone with bleeding and a confirmed IUP with a heartbeat, and
no recommendation to offer progesterone.
"""

from __future__ import annotations

from functools import cache

from earlypath.dating import GESTATION_DAYS
from earlypath.facts import (
    FETAL_HEARTBEAT,
    MISCARRIAGE_DIAGNOSED,
    ON_OTHER_PROGESTOGEN,
    ON_PROGESTERONE,
    ON_RECOMMENDED_PROGESTERONE,
    PREVIOUS_MISCARRIAGES,
    VAGINAL_BLEEDING,
)
from earlypath.guideline.scans import VIABILITY_STEPS, viability_recommendations
from earlypath.guideline.versions import BY_VERSION, recommendation
from earlypath.guideline.vocabulary import (
    IS_ECTOPIC,
    IS_INTRAUTERINE,
    SCAN_REPORT_NOT_READ,
    report_read_criterion,
)
from earlypath.rules.decision import (
    ALWAYS,
    Advice,
    Branch,
    Criterion,
    DecisionTable,
    Recommendation,
    Verdict,
)
from earlypath.rules.ir import IsNull, IsTrue, Not, all_of

TOPIC = "progesterone"
OUTCOMES = ("offer", "continue", "stop", "do_not_offer", "needs_information")
RECOMMENDATIONS_URL = (
    "https://www.nice.org.uk/guidance/ng126/chapter/Recommendations#threatened-miscarriage"
)

# Defined in the shared vocabulary (one rule, one place); still importable from here.
__all__ = ["IS_ECTOPIC", "IS_INTRAUTERINE", "OUTCOMES", "TOPIC", "progesterone_table"]

_SUMMARIES_2021 = {
    "1.5.1": (
        "Vaginal bleeding, a confirmed intrauterine pregnancy with a fetal heartbeat and no previous "
        "miscarriage: advise her to return if bleeding gets worse or persists beyond 14 days; if it "
        "stops, start or continue routine antenatal care."
    ),
    "1.5.2": (
        "Offer vaginal micronised progesterone 400 mg twice daily to women with an intrauterine "
        "pregnancy confirmed by a scan who have vaginal bleeding and have previously had a miscarriage."
    ),
    "1.5.3": "If a fetal heartbeat is confirmed, continue progesterone until 16 completed weeks of pregnancy.",
}
_SUMMARIES_2019 = {
    "1.5.1": (
        "Vaginal bleeding and a confirmed intrauterine pregnancy with a fetal heartbeat: advise her to "
        "return if bleeding gets worse or persists beyond 14 days; if it stops, start or continue "
        "routine antenatal care."
    ),
}


def _recommendations(version: str, summaries: dict[str, str]) -> dict[str, Recommendation]:
    """The table's own recommendations, then the viability ones its advice may cite."""
    return {
        **{
            number: recommendation(version, number, text, RECOMMENDATIONS_URL)
            for number, text in summaries.items()
        },
        **viability_recommendations(version),
    }


def _criteria(stop_day: int, stop_label: str) -> dict[str, Criterion]:
    return {
        "intrauterine": Criterion(
            "intrauterine",
            IS_INTRAUTERINE,
            "1.5.2",
            "A scan has confirmed the pregnancy is intrauterine.",
            "The latest scan shows an ectopic pregnancy, not an intrauterine one.",
            "The latest scan does not show where the pregnancy is (no scan, or location unknown; "
            "an earlier intrauterine scan does not count once a later scan cannot find it): "
            "progesterone needs a scan-confirmed intrauterine pregnancy.",
            ("scans",),
        ),
        "bleeding": Criterion(
            "bleeding",
            VAGINAL_BLEEDING,
            "1.5.2",
            "She has vaginal bleeding in this pregnancy.",
            "She has no vaginal bleeding in this pregnancy.",
            "Whether she has vaginal bleeding is not recorded.",
            ("vaginal_bleeding",),
        ),
        "previous_miscarriage": Criterion(
            "previous_miscarriage",
            PREVIOUS_MISCARRIAGES.ge(1),
            "1.5.2",
            "She has had at least one previous miscarriage.",
            "She has had no previous miscarriage.",
            "The number of previous miscarriages is not recorded.",
            ("previous_miscarriages",),
        ),
        "no_miscarriage_diagnosed": Criterion(
            "no_miscarriage_diagnosed",
            Not(MISCARRIAGE_DIAGNOSED),
            "1.5.2",
            "No miscarriage has been diagnosed in this pregnancy.",
            "A miscarriage has been diagnosed in this pregnancy.",
            "Whether a miscarriage has been diagnosed is not recorded.",
            ("miscarriage_diagnosed",),
        ),
        "before_stop": Criterion(
            "before_stop",
            GESTATION_DAYS.lt(stop_day),
            "1.5.3",
            f"She is below {stop_label} weeks of pregnancy.",
            f"She is {stop_label} weeks or more: 16 completed weeks of pregnancy are reached.",
            "Gestational age is unknown: give the LMP or a scan with a crown-rump length.",
            ("lmp",),
        ),
        "reached_stop": Criterion(
            "reached_stop",
            GESTATION_DAYS.ge(stop_day),
            "1.5.3",
            f"She has reached {stop_label} weeks: 16 completed weeks of pregnancy.",
            f"She is below {stop_label} weeks of pregnancy.",
            "Gestational age is unknown: give the LMP or a scan with a crown-rump length.",
            ("lmp",),
        ),
        "miscarriage_diagnosed": Criterion(
            "miscarriage_diagnosed",
            MISCARRIAGE_DIAGNOSED,
            "1.5.3",
            "A miscarriage has been diagnosed.",
            "No miscarriage has been diagnosed.",
            "Whether a miscarriage has been diagnosed is not recorded.",
            ("miscarriage_diagnosed",),
        ),
        "ectopic_seen": Criterion(
            "ectopic",
            IsTrue(IS_ECTOPIC),
            "1.5.2",
            "The latest scan shows an ectopic pregnancy: progesterone is only for a "
            "scan-confirmed intrauterine pregnancy (1.5.2).",
            "The latest scan does not show an ectopic pregnancy.",
            "",
        ),
        "ectopic": Criterion(
            "ectopic",
            IS_ECTOPIC,
            "1.5.2",
            "The latest scan shows an ectopic pregnancy: progesterone is for intrauterine pregnancies.",
            "The latest scan shows an intrauterine pregnancy.",
            "The latest scan does not show where the pregnancy is (no scan, or location unknown).",
            ("scans",),
        ),
        # In place of the two above when the latest scan's report was not read (the location
        # "report_not_read"): the scan that may confirm the pregnancy was done, so what is
        # missing is its report, not a scan (HAZ-20 C20.13).
        "scan_report": report_read_criterion(
            "1.5.2",
            "offering or continuing progesterone (it needs a scan-confirmed intrauterine "
            "pregnancy)",
        ),
    }


_RESCAN_ADVICE = Advice(
    "rescan_for_heartbeat",
    Not(IsTrue(FETAL_HEARTBEAT)),
    "1.5.3",
    "No fetal heartbeat has been confirmed yet: arrange a rescan to confirm it. Progesterone may "
    "start before a heartbeat is seen; it continues to 16 completed weeks once one is confirmed.",
    ("offer", "continue"),
)
# The scan shows no heartbeat (or no fetal pole) and its measurements call for a second scan or a
# second opinion before a miscarriage is diagnosed (NG126 1.4.6 to 1.4.11, the viability table's
# own expressions and thresholds): the card names that step, whatever the decision, since
# progesterone may start before a heartbeat is seen and one scan never diagnoses a miscarriage
# (HAZ-11 C11.3). Each holds only when the heartbeat is recorded as not seen (or there is no pole).
# When the scan's route is not recorded, the step for each route (``..._route_unknown``, C11.7).
_VIABILITY_ADVICE = tuple(
    Advice(step.id, step.when, step.number, step.advice) for step in VIABILITY_STEPS
)
# Already on progesterone: 1.5.3 says continue to 16 completed weeks, but NICE offers it only
# under 1.5.2. The decision stays "continue" (NICE does not say to stop progesterone that was
# started outside 1.5.2), with these words so no one reads it as a NICE indication.
_CRITERIA_NOT_MET_ADVICE = (
    Advice(
        "did_not_meet_1_5_2",
        PREVIOUS_MISCARRIAGES.eq(0),
        "1.5.2",
        "She has had no previous miscarriage, so she did NOT meet NG126 1.5.2 (progesterone is "
        "offered to women with bleeding who have previously had a miscarriage; NICE found no "
        "benefit without one). Policy choice: 'continue' is shown because NICE does not say to "
        "stop progesterone already started; review with her whether to continue, and record why "
        "it was started.",
        ("continue",),
    ),
    Advice(
        "criteria_unchecked_1_5_2",
        IsNull(PREVIOUS_MISCARRIAGES),
        "1.5.2",
        "Her number of previous miscarriages is not recorded, so whether she met NG126 1.5.2 "
        "cannot be checked: record it ('continue' rests on 1.5.3 only).",
        ("continue",),
    ),
)
# Already on progesterone that is not NG126 1.5.2's product, or may not be (stop 52): the
# decision stays "continue" (duplication is the hazard: a second progesterone is never offered
# beside hers), with these words so that no one reads it as the guideline's product. The record
# reading names, per medicine, what differs or is missing.
_PRODUCT_ADVICE = (
    Advice(
        "not_the_ng126_product",
        Not(ON_RECOMMENDED_PROGESTERONE),
        "1.5.2",
        "Her current progesterone is NOT the product NG126 1.5.2 recommends (vaginal micronised "
        "progesterone 400 mg twice daily): its route, dose or frequency differ. NICE found no "
        "benefit for any other preparation or dose. 'Continue' means do not stop her progesterone "
        "and do not add a second one beside it: review with her whether to change to the "
        "recommended product.",
        ("continue",),
    ),
    Advice(
        "ng126_product_unknown",
        IsNull(ON_RECOMMENDED_PROGESTERONE),
        "1.5.2",
        "Whether her current progesterone is the product NG126 1.5.2 recommends (vaginal "
        "micronised progesterone 400 mg twice daily) is unknown: its route, dose or frequency is "
        "not recorded. Check them (NICE found no benefit for any other preparation or dose), and "
        "do not add a second progesterone beside it.",
        ("continue",),
    ),
)
_FOURTEEN_DAY_TEXT = (
    "Advise her to return if the bleeding gets worse or persists beyond 14 days; if the bleeding "
    "stops, start or continue routine antenatal care."
)


@cache
def progesterone_table(version: str, stop_day: int) -> DecisionTable:
    """The progesterone decision table of one NG126 version, for a stop day (policy)."""
    if version not in BY_VERSION:
        raise KeyError(version)
    from earlypath.dating import display

    c = _criteria(stop_day, display(stop_day))
    not_on = Not(ON_PROGESTERONE)
    # Whether she is already on progesterone is Unknown (a current prescription whose medicine
    # cannot be identified): offering could duplicate it, continuing could go on with something
    # she is not taking. Checked first, so the other guards are never Unknown.
    on_unknown = IsNull(ON_PROGESTERONE)
    is_she_on_it = Criterion(
        "on_progesterone_known",
        ON_PROGESTERONE,
        "1.5.2",
        "She is already taking progesterone.",
        "She is not taking progesterone.",
        "Whether she is already taking progesterone is unknown (a current prescription's "
        "medicine could not be identified): check her medicines before offering or continuing it.",
        ("on_progesterone",),
    )
    # Whether she is on progesterone is Unknown because a current medicine of hers was identified
    # as a progestogen that is not progesterone (stop 53): the same question and decision, with
    # the reason it is asked. It was identified, so "could not be identified" would be wrong.
    on_progestogen = all_of(on_unknown, IsTrue(ON_OTHER_PROGESTOGEN))
    is_she_on_it_progestogen = Criterion(
        "on_progesterone_known",
        ON_PROGESTERONE,
        "1.5.2",
        "She is already taking progesterone.",
        "She is not taking progesterone.",
        "She is taking a progestogen that is not progesterone (such as dydrogesterone, "
        "norethisterone, medroxyprogesterone or hydroxyprogesterone caproate): it is not the "
        "vaginal micronised progesterone 400 mg twice daily of NG126 1.5.2, and NICE found no "
        "benefit for any other preparation. Whether to offer progesterone beside it, or instead "
        "of it, needs a clinician's review: check her medicines before offering progesterone.",
        ("on_progesterone",),
    )
    if version == "2019-04-17":
        no_recommendation = Criterion(
            "no_recommendation_in_version",
            ALWAYS,
            "",
            "NG126 as published on 2019-04-17 made no recommendation to offer progesterone for "
            "threatened miscarriage (it asked for research).",
            "",
            "",
        )
        verdict = Verdict("do_not_offer", "all_true", (no_recommendation,), ())
        return DecisionTable(
            TOPIC,
            OUTCOMES,
            (
                # no branch of its own for a progestogen: every branch gives this one verdict
                Branch("on_progesterone_unknown", on_unknown, (verdict,)),
                Branch("not_on_progesterone", not_on, (verdict,)),
                Branch("on_progesterone", ON_PROGESTERONE, (verdict,)),
            ),
            advice=(
                Advice(
                    "fourteen_day_bleeding_advice",
                    all_of(VAGINAL_BLEEDING, IS_INTRAUTERINE, FETAL_HEARTBEAT),
                    "1.5.1",
                    _FOURTEEN_DAY_TEXT,
                ),
                *_VIABILITY_ADVICE,
            ),
            recommendations=_recommendations(version, _SUMMARIES_2019),
        )

    others = (
        c["bleeding"],
        c["previous_miscarriage"],
        c["no_miscarriage_diagnosed"],
        c["before_stop"],
    )
    eligibility = (c["intrauterine"], *others)
    # The latest scan's report was not read: the same verdicts with the report in place of the
    # location, so `needs_information` names `scan_report` (an answer the report cannot change,
    # such as no bleeding or 16 weeks reached, stands). The guard is never Unknown.
    report_not_read = SCAN_REPORT_NOT_READ
    awaiting_report = (c["scan_report"], *others)
    return DecisionTable(
        TOPIC,
        OUTCOMES,
        (
            Branch(
                "on_another_progestogen",
                on_progestogen,
                (Verdict("continue", "all_true", (is_she_on_it_progestogen,), ("1.5.2", "1.5.3")),),
            ),
            Branch(
                "on_progesterone_unknown",
                on_unknown,
                (Verdict("continue", "all_true", (is_she_on_it,), ("1.5.2", "1.5.3")),),
            ),
            Branch(
                "not_on_progesterone_scan_report_not_read",
                all_of(not_on, report_not_read),
                (
                    Verdict("do_not_offer", "any_false", awaiting_report, ("1.5.2",)),
                    Verdict("offer", "all_true", awaiting_report, ("1.5.2", "1.5.3")),
                ),
            ),
            Branch(
                "not_on_progesterone",
                not_on,
                (
                    Verdict("do_not_offer", "any_false", eligibility, ("1.5.2",)),
                    Verdict("offer", "all_true", eligibility, ("1.5.2", "1.5.3")),
                ),
            ),
            Branch(
                "on_progesterone_scan_report_not_read",
                all_of(ON_PROGESTERONE, report_not_read),
                (
                    Verdict(
                        "stop",
                        "any_true",
                        (c["reached_stop"], c["miscarriage_diagnosed"], c["scan_report"]),
                        ("1.5.3",),
                    ),
                    Verdict(
                        "continue",
                        "all_true",
                        (c["scan_report"], c["no_miscarriage_diagnosed"], c["before_stop"]),
                        ("1.5.3",),
                    ),
                ),
            ),
            Branch(
                "on_progesterone",
                ON_PROGESTERONE,
                (
                    # Not intrauterine: the basis of 1.5.2 is gone (cited as such), whatever else.
                    Verdict("stop", "any_true", (c["ectopic_seen"],), ("1.5.2",)),
                    Verdict(
                        "stop",
                        "any_true",
                        (c["reached_stop"], c["miscarriage_diagnosed"], c["ectopic"]),
                        ("1.5.3",),
                    ),
                    Verdict(
                        "continue",
                        "all_true",
                        (c["intrauterine"], c["no_miscarriage_diagnosed"], c["before_stop"]),
                        ("1.5.3",),
                    ),
                ),
            ),
        ),
        advice=(
            Advice(
                "fourteen_day_bleeding_advice",
                all_of(
                    VAGINAL_BLEEDING,
                    IS_INTRAUTERINE,
                    FETAL_HEARTBEAT,
                    PREVIOUS_MISCARRIAGES.eq(0),
                ),
                "1.5.1",
                _FOURTEEN_DAY_TEXT,
            ),
            _RESCAN_ADVICE,
            *_VIABILITY_ADVICE,
            *_CRITERIA_NOT_MET_ADVICE,
            *_PRODUCT_ADVICE,
        ),
        recommendations=_recommendations(version, _SUMMARIES_2021),
    )
