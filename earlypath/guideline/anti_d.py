"""Anti-D rhesus prophylaxis in early pregnancy.

Default (`PathwayPolicy.anti_d_rule = "ng126-2012-2023"`, the CG154 text kept in NG126 from 2019
to 2023): offer 250 IU (50 micrograms) to RhD-negative women who have a surgical procedure to
manage an ectopic pregnancy or a miscarriage; do not offer it for solely medical management, a
threatened miscarriage, a complete miscarriage or a pregnancy of unknown location.

Optional (`"rewrite-unverified"`, date and numbering UNVERIFIED, from secondary sources): no
anti-D up to 11+6; offer at least 250 IU to RhD-negative women at 12+0 or more having medical or
surgical management of a miscarriage or ectopic (the text says 12+0 to 12+6; beyond that, follow
the national anti-D guidance for the dose); consider it for a threatened miscarriage at 12+0 to
12+6 with heavy or recurrent bleeding.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.dating import GESTATION_DAYS
from earlypath.facts import (
    MANAGEMENT,
    MISCARRIAGE_DIAGNOSED,
    MISCARRIAGE_TYPE,
    RHESUS_D,
    VAGINAL_BLEEDING,
)
from earlypath.guideline.miscarriage import DIAGNOSIS_NOT_YET_SAFE
from earlypath.guideline.vocabulary import (
    ECTOPIC_SEEN,
    IS_INTRAUTERINE,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    recommendations,
    report_not_read_recommendation,
    scan_report_gate,
)
from earlypath.rules.decision import ALWAYS, Advice, Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import Expr, IsNull, IsTrue, Match, Not, all_of, any_of

TOPIC = "anti_d"
OUTCOMES = ("offer", "consider", "do_not_offer", "needs_information")
DOSE_IU = 250
REWRITE_FROM_DAYS = 12 * 7  # 12+0
REWRITE_TO_DAYS = 12 * 7 + 6  # 12+6

COMPLETE = Match(MISCARRIAGE_TYPE, ("complete",), ("missed", "incomplete"))
# A diagnosed miscarriage that is not complete, or a scan-confirmed ectopic. Unknown when a
# miscarriage is diagnosed but its type is not recorded (a complete one gets no anti-D).
MISCARRIAGE_OR_ECTOPIC: Expr = any_of(
    all_of(IsTrue(MISCARRIAGE_DIAGNOSED), Not(COMPLETE)), ECTOPIC_SEEN
)
# The same when whether this pregnancy has miscarried is unknown (`miscarriage_diagnosed` null:
# a loss recorded with a month or a year only that may fall in it; stop 25): Unknown, unless an
# ectopic is seen or the miscarriage is known to be complete. Read in a branch of its own, so that
# what is missing is the diagnosis, not only the type.
MISCARRIAGE_OR_ECTOPIC_IF_UNKNOWN: Expr = any_of(
    all_of(MISCARRIAGE_DIAGNOSED, Not(COMPLETE)), ECTOPIC_SEEN
)
DIAGNOSIS_UNKNOWN = IsNull(MISCARRIAGE_DIAGNOSED)
RH_NEGATIVE = Match(RHESUS_D, ("negative",), ("positive",))
SURGICAL = Match(MANAGEMENT, ("surgical",), ("expectant", "medical"))
MEDICAL_OR_SURGICAL = Match(MANAGEMENT, ("medical", "surgical"), ("expectant",))
THREATENED: Expr = all_of(VAGINAL_BLEEDING, IS_INTRAUTERINE, Not(MISCARRIAGE_DIAGNOSED))

_OFFER = "1.7 anti-D offer"
_NOT = "1.7 anti-D do not offer"
_REWRITE = "anti-D rewrite"

# The cross-section rule: anti-D goes with the management of a miscarriage, so while the
# miscarriage section says the diagnosis is not yet safe, the offer says what must happen first.
_NOT_YET_CONFIRMED = Advice(
    "miscarriage_not_yet_confirmed",
    DIAGNOSIS_NOT_YET_SAFE,
    None,
    "The miscarriage diagnosis is not yet confirmed (see the miscarriage management section): "
    "confirm it first; give anti-D only if the management goes ahead.",
    ("offer", "consider"),
)


def _summaries(rule: str) -> dict[str, tuple[str, NumberSource]]:
    if rule == "rewrite-unverified":
        return {
            _REWRITE: (
                "(Later rewrite, date UNVERIFIED.) No anti-D up to 11+6. Offer at least 250 IU to "
                "RhD-negative women at 12+0 to 12+6 having medical or surgical management of an "
                "ectopic pregnancy or miscarriage; consider it for threatened miscarriage at 12+0 "
                "to 12+6 with heavy or recurrent bleeding.",
                "unverified",
            )
        }
    return {
        _OFFER: (
            "Offer anti-D rhesus prophylaxis, 250 IU (50 micrograms), to all RhD-negative women "
            "who have a surgical procedure to manage an ectopic pregnancy or a miscarriage.",
            "unverified",
        ),
        _NOT: (
            "Do not offer anti-D to women who have solely medical management of an ectopic "
            "pregnancy or miscarriage, a threatened miscarriage, a complete miscarriage or a "
            "pregnancy of unknown location.",
            "unverified",
        ),
    }


def _c(
    id: str, expr: Expr, rec: str, yes: str, no: str, unknown: str, missing: tuple[str, ...]
) -> Criterion:
    return Criterion(id, expr, rec, yes, no, unknown, missing)


def _common(rec: str) -> dict[str, Criterion]:
    return {
        "context": _c(
            "miscarriage_or_ectopic",
            MISCARRIAGE_OR_ECTOPIC,
            rec,
            "She has a diagnosed miscarriage (not complete) or a scan-confirmed ectopic pregnancy.",
            "No miscarriage needing management and no ectopic pregnancy has been diagnosed "
            "(threatened or complete miscarriage, or a pregnancy of unknown location): no anti-D.",
            "A miscarriage is diagnosed but its type is not recorded (a complete miscarriage gets "
            "no anti-D).",
            ("miscarriage_type",),
        ),
        "context_if_unknown": _c(
            "miscarriage_or_ectopic",
            MISCARRIAGE_OR_ECTOPIC_IF_UNKNOWN,
            rec,
            "She has a scan-confirmed ectopic pregnancy.",
            "A complete miscarriage: no anti-D.",
            "Whether this pregnancy has miscarried is not known: confirm it first (anti-D goes "
            "with the management of a miscarriage).",
            ("miscarriage_diagnosed",),
        ),
        "rh_negative": _c(
            "rhd_negative",
            RH_NEGATIVE,
            rec,
            "She is RhD negative.",
            "She is RhD positive: anti-D is not needed.",
            "Her RhD group is not recorded.",
            ("rhesus_d",),
        ),
    }


def _report_gate(number: str, management_rules_out: Expr) -> Verdict:
    """Not "no anti-D" because an unread scan report was not read as a miscarriage or an
    ectopic: it may show either. Unless the answer is no whatever it shows: RhD positive, or a
    management that gets no anti-D (a complete miscarriage is not enough: the report may show
    an ectopic pregnancy)."""
    unless = any_of(IsTrue(Not(RH_NEGATIVE)), management_rules_out)
    return scan_report_gate("do_not_offer", number, "deciding on anti-D", unless)


@cache
def anti_d_table(version: str, rule: str) -> DecisionTable:
    """The anti-D table for a version and the policy's anti-D rule."""
    recs, _ = recommendations(version, _summaries(rule))
    if rule == "rewrite-unverified":
        c = _common(_REWRITE)
        gestation_known = (
            "Gestational age is unknown: give the LMP or a scan with a crown-rump length."
        )
        from_12 = _c(
            "at_least_12_weeks",
            GESTATION_DAYS.ge(REWRITE_FROM_DAYS),
            _REWRITE,
            "She is 12+0 weeks or more.",
            "She is under 12+0 weeks: no anti-D up to 11+6.",
            gestation_known,
            ("lmp",),
        )
        window = _c(
            "12_to_12_6",
            all_of(GESTATION_DAYS.ge(REWRITE_FROM_DAYS), GESTATION_DAYS.le(REWRITE_TO_DAYS)),
            _REWRITE,
            "She is between 12+0 and 12+6 weeks.",
            "She is not between 12+0 and 12+6 weeks.",
            gestation_known,
            ("lmp",),
        )
        managed = _c(
            "medical_or_surgical",
            MEDICAL_OR_SURGICAL,
            _REWRITE,
            "She is having medical or surgical management.",
            "She is having expectant management.",
            "The management (expectant, medical or surgical) is not recorded.",
            ("management",),
        )
        threatened = _c(
            "threatened_miscarriage",
            THREATENED,
            _REWRITE,
            "Threatened miscarriage: bleeding with an intrauterine pregnancy and no miscarriage "
            "diagnosed (consider anti-D if the bleeding is heavy or recurrent).",
            "Not a threatened miscarriage.",
            "Whether this is a threatened miscarriage (bleeding, intrauterine) is not recorded.",
            ("vaginal_bleeding", "scans"),
        )
        offer: tuple[Criterion, ...] = (c["context"], c["rh_negative"], managed, from_12)
        verdicts: tuple[Verdict, ...] = (
            Verdict("offer", "all_true", offer, (_REWRITE,)),
            Verdict("consider", "all_true", (c["rh_negative"], threatened, window), (_REWRITE,)),
            _report_gate(
                _REWRITE,
                any_of(
                    IsTrue(Not(MEDICAL_OR_SURGICAL)),
                    IsTrue(GESTATION_DAYS.lt(REWRITE_FROM_DAYS)),
                ),
            ),
            Verdict("do_not_offer", "any_false", offer, (_REWRITE,)),
        )
    else:
        c = _common(_OFFER)
        surgical = _c(
            "surgical_management",
            SURGICAL,
            _OFFER,
            "She is having surgical management.",
            "She is not having surgical management (solely medical or expectant): no anti-D.",
            "The management (expectant, medical or surgical) is not recorded.",
            ("management",),
        )
        offer = (c["context"], c["rh_negative"], surgical)
        verdicts = (
            Verdict("offer", "all_true", offer, (_OFFER,)),
            _report_gate(_OFFER, IsTrue(Not(SURGICAL))),
            Verdict("do_not_offer", "any_false", offer, (_NOT,)),
        )
    # the same verdicts, the context read as Unknown while the diagnosis is (never "no")
    swap = {c["context"]: c["context_if_unknown"]}
    if rule == "rewrite-unverified":
        swap[threatened] = _c(
            threatened.id,
            THREATENED,
            threatened.recommendation,
            threatened.says_true,
            threatened.says_false,
            threatened.says_unknown,
            ("miscarriage_diagnosed", *threatened.missing),
        )
    unknown_verdicts = tuple(
        Verdict(v.outcome, v.mode, tuple(swap.get(k, k) for k in v.criteria), v.recommendations)
        for v in verdicts
    )
    branches = (
        Branch("miscarriage_diagnosed_unknown", DIAGNOSIS_UNKNOWN, unknown_verdicts),
        Branch("anti_d", ALWAYS, verdicts),
    )
    return DecisionTable(TOPIC, OUTCOMES, branches, (_NOT_YET_CONFIRMED,), recs)


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": anti_d_table(version, policy.anti_d_rule)}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return SCAN_REPORT_VALUES


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return {number: source for number, (_, source) in _summaries(policy.anti_d_rule).items()}


_TEXT = {
    "offer": "Offer anti-D immunoglobulin 250 IU (50 micrograms) intramuscularly. Do not use a "
    "Kleihauer test to quantify feto-maternal haemorrhage.",
    "consider": "Consider anti-D immunoglobulin at least 250 IU if the bleeding is heavy or "
    "recurrent (rewritten recommendation, UNVERIFIED).",
    "do_not_offer": "Anti-D is not indicated.",
    "needs_information": "Record the missing facts: anti-D may be needed.",
}


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome = outcomes["main"]
    return {
        "dose_iu": DOSE_IU if outcome in ("offer", "consider") else None,
        # after the table's own words: its missing facts may be others (her RhD group)
        "recommendation": " ".join(
            t
            for t in (
                _TEXT[outcome],
                report_not_read_recommendation(outcome, values, "deciding on anti-D"),
            )
            if t
        ),
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
