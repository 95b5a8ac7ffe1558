"""Management of a diagnosed miscarriage (NG126 section 1.5, after the threatened-miscarriage recs).

- Expectant management for 7 to 14 days is first line for a missed or incomplete miscarriage,
  unless one of the listed exceptions applies (then explore other options). The exceptions are not
  part of the input contract, so they are always returned as checks to make first.
- Medical management, by version: before 2023-08-23, misoprostol alone (800 micrograms for a
  missed miscarriage, 600 micrograms for an incomplete one, no mifepristone); from 2023-08-23, a
  missed miscarriage gets mifepristone 200 mg orally then misoprostol 800 micrograms 48 hours
  later; an incomplete one still 600 micrograms of misoprostol.
- A urine pregnancy test 3 weeks after (the 2021 text: women are *given* one to take).

Before any of this, the cross-section rule: a diagnosis that another section says is not yet
safe gets no management here (``confirm_diagnosis_first``, for the main table and the regimen):

- the latest scan shows a fetal heartbeat (the pregnancy is viable on it: a recorded diagnosis of
  miscarriage contradicts it, so it is reviewed before any medicine or surgery);
- the latest scan shows an intrauterine pregnancy with no heartbeat recorded and it is not yet a
  second scan (NG126 1.4.6 to 1.4.11: a second scan, or a second opinion, before a diagnosis);
- the latest scan shows an ectopic pregnancy (managed as an ectopic; a heterotopic pregnancy
  needs senior review);
- the latest scan shows a pregnancy of unknown location and no scan ever showed it in the uterus
  (NG126: a complete miscarriage diagnosed without a previous scan confirming an intrauterine
  pregnancy may be a pregnancy of unknown location: follow up until the diagnosis is definite).

Numbering: the 2021 update inserted 1.5.2 and 1.5.3 (progesterone) so the later 1.5 numbers
moved. The project reference gives 1.5.5 (the exceptions) and 1.5.17 (the test) in the 2021
numbering; every other number here, and every 2019 number, is our reading and marked unverified.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from earlypath.facts import (
    ASSESSED_ON,
    FETAL_HEARTBEAT,
    INTRAUTERINE_SEEN,
    MISCARRIAGE_DIAGNOSED,
    MISCARRIAGE_TYPE,
)
from earlypath.guideline.scans import (
    HEARTBEAT_SEEN,
    NO_HEARTBEAT_ON_A_FIRST_SCAN,
    POLE,
    SECOND_OPINION_DONE,
    VIABILITY_NOT_SETTLED,
)
from earlypath.guideline.vocabulary import (
    ECTOPIC_SEEN,
    IS_INTRAUTERINE,
    IS_PUL,
    NOT_APPLICABLE,
    SCAN_REPORT_NOT_READ,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    not_applicable_branch,
    recommendations,
    report_not_read_recommendation,
    scan_report_gate,
)
from earlypath.rules.decision import Branch, Criterion, DecisionTable, Verdict
from earlypath.rules.ir import AddDays, Const, Expr, IsNull, IsTrue, Match, Not, all_of, any_of

TOPIC = "miscarriage_management"
CONFIRM_FIRST = "confirm_diagnosis_first"
OUTCOMES = (
    "expectant",
    "no_management_needed",
    CONFIRM_FIRST,
    NOT_APPLICABLE,
    "needs_information",
)
REGIMENS = (
    CONFIRM_FIRST,
    "misoprostol_800",
    "misoprostol_600",
    "mifepristone_200_then_misoprostol_800",
    NOT_APPLICABLE,
    "needs_information",
)
MIFEPRISTONE_FROM = "2023-08-23"
URINE_TEST_DAYS = 21

DIAGNOSED = IsTrue(MISCARRIAGE_DIAGNOSED)
MISSED = Match(MISCARRIAGE_TYPE, ("missed",), ("incomplete", "complete"))
INCOMPLETE = Match(MISCARRIAGE_TYPE, ("incomplete",), ("missed", "complete"))
COMPLETE = Match(MISCARRIAGE_TYPE, ("complete",), ("missed", "incomplete"))
# A pregnancy of unknown location that no scan has shown in the uterus. Never Unknown.
PUL_NEVER_IN_UTERUS = all_of(IsTrue(IS_PUL), Not(INTRAUTERINE_SEEN))
# A heartbeat on the latest scan (the cross-section verdict `heartbeat_on_latest_scan`): a
# recorded heartbeat decides, whatever else the scan says; Unknown (not False) when it is not
# recorded on an intrauterine scan with a possible fetal pole, or on any scan that recorded a pole
# (a pregnancy of unknown location that saw a pole saw a pregnancy). A scan of unknown location
# with no pole recorded saw none.
HEARTBEAT_ON_LATEST_SCAN: Expr = any_of(
    IsTrue(FETAL_HEARTBEAT),
    all_of(any_of(IsTrue(IS_INTRAUTERINE), IsTrue(POLE)), HEARTBEAT_SEEN),
)


def _not_known_false(expr: Expr) -> Expr:
    """True when ``expr`` is True or Unknown: what the section cannot rule out."""
    return Not(IsTrue(Not(expr)))


# A recorded miscarriage (not an ectopic) that the cross-section rule holds back, or may: a
# heartbeat on the latest scan, a first scan not yet settled (each also when it is Unknown: the
# miscarriage section then gives no management either, it says `needs_information`; stop 44, an
# Unknown read as False let anti-D's offer go without its "confirm first"), a PUL never seen in
# the uterus, or a latest scan whose report was not read. Never Unknown (for other sections'
# advice; the tables above name what is missing).
DIAGNOSIS_NOT_YET_SAFE: Expr = all_of(
    DIAGNOSED,
    Not(ECTOPIC_SEEN),
    any_of(
        _not_known_false(HEARTBEAT_ON_LATEST_SCAN),
        _not_known_false(VIABILITY_NOT_SETTLED),
        IsTrue(PUL_NEVER_IN_UTERUS),
        SCAN_REPORT_NOT_READ,
    ),
)

EXPECTANT_EXCEPTIONS = (
    "she is at increased risk of haemorrhage (for example, late in the first trimester)",
    "she has had a previous adverse or traumatic experience with pregnancy (for example "
    "stillbirth, miscarriage or antepartum haemorrhage)",
    "she is at increased risk from the effects of haemorrhage (for example coagulopathy, or she "
    "cannot have a blood transfusion)",
    "there is evidence of infection",
)


def _numbers(version: str) -> dict[str, tuple[str, str, NumberSource]]:
    """Key -> (number, summary, source) for one version."""
    later = version >= "2021-11-24"
    upt_text = (
        "Give her a urine pregnancy test to take 3 weeks after medical management (or after "
        "expectant management once bleeding and pain have settled)."
        if later
        else "Advise her to take a urine pregnancy test 3 weeks after medical management (or after "
        "expectant management once bleeding and pain have settled)."
    )
    if version >= MIFEPRISTONE_FROM:
        missed_text = (
            "Missed miscarriage, medical management: mifepristone 200 mg orally, then 48 hours "
            "later misoprostol 800 micrograms (vaginal, oral or sublingual)."
        )
    else:
        missed_text = (
            "Missed miscarriage, medical management: misoprostol 800 micrograms (vaginal, or oral "
            "if she prefers); do not offer mifepristone."
        )
    return {
        "expectant": (
            "1.5.4" if later else "1.5.2",
            "Use expectant management for 7 to 14 days as the first-line strategy for a confirmed "
            "miscarriage.",
            "unverified",
        ),
        "exceptions": (
            "1.5.5" if later else "1.5.3",
            "Explore options other than expectant management if she is at increased risk of "
            "haemorrhage or from its effects, has had a previous adverse or traumatic pregnancy "
            "experience, or there is evidence of infection.",
            "reference" if later else "unverified",
        ),
        "missed": ("1.5 medical (missed)", missed_text, "unverified"),
        "incomplete": (
            "1.5 medical (incomplete)",
            "Incomplete miscarriage, medical management: misoprostol 600 micrograms (vaginal, or "
            "oral if she prefers).",
            "unverified",
        ),
        "urine_test": (
            "1.5.17" if later else "1.5.15",
            upt_text,
            "reference" if later else "unverified",
        ),
        "second_scan": (
            "1.4.6",
            "No visible heartbeat on a first scan: a second scan at least 7 days later (14 after a "
            "transabdominal scan), or a second opinion, before a miscarriage is diagnosed "
            "(1.4.6 to 1.4.11).",
            "reference",
        ),
        "ectopic": (
            "1.6 ectopic on scan",
            "A tubal ectopic pregnancy seen on scan is managed as section 1.6 sets out (expectant, "
            "methotrexate or surgery).",
            "unverified",
        ),
        "heartbeat": (
            "1.4 heartbeat on the latest scan",
            "A miscarriage is diagnosed only when no fetal heartbeat is seen (1.4.6 to 1.4.11): "
            "a heartbeat on the latest scan means the pregnancy is viable on that scan.",
            "unverified",
        ),
        "pul": (
            "1.4 complete miscarriage without a previous scan",
            "When a complete miscarriage is diagnosed on a scan without a previous scan that "
            "confirmed an intrauterine pregnancy, be aware it may be a pregnancy of unknown "
            "location; follow her up (hCG, scans) until the diagnosis is definite.",
            "unverified",
        ),
    }


def _recs(version: str) -> tuple[dict[str, Any], dict[str, NumberSource]]:
    return recommendations(
        version, {number: (text, source) for number, text, source in _numbers(version).values()}
    )


def _confirm_first(n: dict[str, str]) -> tuple[Verdict, ...]:
    """The cross-section rule: no management while the diagnosis is not yet safe. A pregnancy of
    unknown location never seen in the uterus is judged before the heartbeat: it is never Unknown,
    so an unrecorded heartbeat on such a scan does not hide it."""
    return (
        Verdict(
            CONFIRM_FIRST,
            "all_true",
            (
                Criterion(
                    "ectopic_on_scan",
                    ECTOPIC_SEEN,
                    n["ectopic"],
                    "The latest scan shows an ectopic pregnancy: it is managed as an ectopic (see "
                    "ectopic_management); a miscarriage diagnosis beside it (a heterotopic "
                    "pregnancy) needs senior review before any miscarriage management.",
                    "",
                    "",
                    (),
                ),
            ),
            (n["ectopic"],),
        ),
        # an unread report may show a heartbeat or a pregnancy of unknown location
        scan_report_gate(CONFIRM_FIRST, n["second_scan"], "any miscarriage management is chosen"),
        Verdict(
            CONFIRM_FIRST,
            "all_true",
            (
                Criterion(
                    "pregnancy_of_unknown_location",
                    PUL_NEVER_IN_UTERUS,
                    n["pul"],
                    "The latest scan shows a pregnancy of unknown location and no scan has shown it in "
                    "the uterus: it may be an ectopic pregnancy. Follow the hCG pathway (see "
                    "hcg_assessment) until the diagnosis is definite; no miscarriage management is "
                    "given until then.",
                    "",
                    "",
                    (),
                ),
            ),
            (n["pul"],),
        ),
        Verdict(
            CONFIRM_FIRST,
            "all_true",
            (
                Criterion(
                    "heartbeat_on_latest_scan",
                    # a heartbeat would mean a viable pregnancy
                    HEARTBEAT_ON_LATEST_SCAN,
                    n["heartbeat"],
                    "The latest scan shows a fetal heartbeat: the pregnancy is viable on that scan, "
                    "so the recorded miscarriage contradicts it. Review the diagnosis (and the scan "
                    "record) before any miscarriage management; no medicine or surgery is given "
                    "until then.",
                    "The latest scan shows no fetal heartbeat.",
                    "Whether a heartbeat was seen on the latest scan is not recorded: a heartbeat "
                    "would mean the pregnancy is viable, so no miscarriage management is chosen "
                    "until it is known.",
                    ("scans.fetal_heartbeat",),
                ),
            ),
            (n["heartbeat"],),
        ),
        Verdict(
            CONFIRM_FIRST,
            "all_true",
            (
                Criterion(
                    "single_scan_not_settled",
                    NO_HEARTBEAT_ON_A_FIRST_SCAN,
                    n["second_scan"],
                    "The latest scan shows an intrauterine pregnancy with no heartbeat, and "
                    "it is not a second scan: a miscarriage cannot be diagnosed on it alone. Get the "
                    "second scan or second opinion first (see scan_assessment); no management is "
                    "given until then.",
                    "The scans allow a diagnosis of miscarriage.",
                    # (An unrecorded heartbeat stops at the verdict above: only the route is left.)
                    "The latest scan is 7 to 13 days after the first scan that showed the "
                    "pregnancy in the uterus, and the route of one of them is not recorded: after "
                    "a transabdominal scan NICE asks for the second scan at least 14 days later "
                    "(NG126 1.4.8, 1.4.11), so whether this is the second scan is not known. No "
                    "management is given until it is.",
                    ("scans.route",),
                ),
                Criterion(
                    "no_accepted_second_opinion",
                    Not(SECOND_OPINION_DONE),
                    n["second_scan"],
                    "No second opinion that NICE accepts in place of a second scan is recorded "
                    "(NG126 1.4.7: CRL 7.0 mm or more; 1.4.10: MSD 25.0 mm or more with no fetal "
                    "pole; both on a transvaginal scan).",
                    "A second opinion on a transvaginal scan with this measurement confirmed there "
                    "is no heartbeat: NICE accepts it in place of a second scan.",
                    "A second opinion is recorded, but whether NICE accepts it in place of a second "
                    "scan depends on the scan's route and its crown-rump length or mean sac "
                    "diameter, which are not recorded.",
                    ("scans.route", "scans.crl_mm", "scans.msd_mm"),
                ),
            ),
            (n["second_scan"],),
        ),
    )


def _diagnosis_unknown_branch() -> Branch:
    """Whether this pregnancy has miscarried is unknown (``miscarriage_diagnosed`` null: a loss
    recorded with a month or a year only that may fall in it; stop 25). No management, and not
    "not applicable" either (that would read the unknown as "no miscarriage"): the verdict's one
    criterion is that Unknown, so the table says ``needs_information`` naming it."""
    criterion = Criterion(
        "miscarriage_diagnosed",
        MISCARRIAGE_DIAGNOSED,
        "",
        "A miscarriage has been diagnosed.",
        "No miscarriage has been diagnosed.",
        "Whether this pregnancy has miscarried is not known: confirm it before any management.",
        ("miscarriage_diagnosed",),
    )
    return Branch(
        "miscarriage_diagnosed_unknown",
        IsNull(MISCARRIAGE_DIAGNOSED),
        (Verdict(CONFIRM_FIRST, "all_true", (criterion,), ()),),
    )


def _type_criterion(id: str, expr: Expr, rec: str, yes: str) -> Criterion:
    return Criterion(
        id,
        expr,
        rec,
        yes,
        "",
        "The type of miscarriage (missed, incomplete or complete) is not recorded.",
        ("miscarriage_type",),
    )


@cache
def miscarriage_table(version: str) -> DecisionTable:
    """First-line management of a diagnosed miscarriage in one NG126 version."""
    n = {key: number for key, (number, _, _) in _numbers(version).items()}
    recs, _ = _recs(version)
    verdicts = (
        *_confirm_first(n),
        Verdict(
            "no_management_needed",
            "all_true",
            (
                _type_criterion(
                    "complete",
                    COMPLETE,
                    n["urine_test"],
                    "The miscarriage is complete: no management of retained tissue is needed.",
                ),
            ),
            (n["urine_test"],),
        ),
        Verdict(
            "expectant",
            "all_true",
            (
                _type_criterion(
                    "missed_or_incomplete",
                    Match(MISCARRIAGE_TYPE, ("missed", "incomplete"), ("complete",)),
                    n["expectant"],
                    "A missed or incomplete miscarriage: expectant management for 7 to 14 days "
                    "is first line.",
                ),
            ),
            (n["expectant"], n["exceptions"], n["urine_test"]),
        ),
    )
    branches = (
        Branch("miscarriage_diagnosed", DIAGNOSED, verdicts),
        _diagnosis_unknown_branch(),
        not_applicable_branch("No miscarriage has been diagnosed."),
    )
    return DecisionTable(TOPIC, OUTCOMES, branches, (), recs)


@cache
def regimen_table(version: str) -> DecisionTable:
    """The medical-management regimen in one NG126 version (if she chooses medical management)."""
    n = {key: number for key, (number, _, _) in _numbers(version).items()}
    recs, _ = _recs(version)
    missed_outcome = (
        "mifepristone_200_then_misoprostol_800"
        if version >= MIFEPRISTONE_FROM
        else "misoprostol_800"
    )
    verdicts = (
        *_confirm_first(n),
        Verdict(
            missed_outcome,
            "all_true",
            (_type_criterion("missed", MISSED, n["missed"], "A missed miscarriage."),),
            (n["missed"], n["urine_test"]),
        ),
        Verdict(
            "misoprostol_600",
            "all_true",
            (
                _type_criterion(
                    "incomplete", INCOMPLETE, n["incomplete"], "An incomplete miscarriage."
                ),
            ),
            (n["incomplete"], n["urine_test"]),
        ),
        Verdict(
            NOT_APPLICABLE,
            "all_true",
            (
                _type_criterion(
                    "complete", COMPLETE, "", "A complete miscarriage needs no medicine."
                ),
            ),
            (),
        ),
    )
    branches = (
        Branch("miscarriage_diagnosed", DIAGNOSED, verdicts),
        _diagnosis_unknown_branch(),
        not_applicable_branch("No miscarriage has been diagnosed."),
    )
    return DecisionTable("medical_regimen", REGIMENS, branches, (), recs)


REGIMEN_STEPS: dict[str, list[dict[str, Any]]] = {
    "misoprostol_800": [
        {
            "drug": "misoprostol",
            "dose_micrograms": 800,
            "route": "vaginal (oral if she prefers)",
            "when": "day 0",
        },
    ],
    "misoprostol_600": [
        {
            "drug": "misoprostol",
            "dose_micrograms": 600,
            "route": "vaginal (oral if she prefers)",
            "when": "day 0",
        },
    ],
    "mifepristone_200_then_misoprostol_800": [
        {"drug": "mifepristone", "dose_mg": 200, "route": "oral", "when": "day 0"},
        {
            "drug": "misoprostol",
            "dose_micrograms": 800,
            "route": "vaginal, oral or sublingual",
            "when": "48 hours after mifepristone",
        },
    ],
}

VALUES: dict[str, Expr] = {
    "expectant_review_from": AddDays(ASSESSED_ON, Const(7)),
    "expectant_review_by": AddDays(ASSESSED_ON, Const(14)),
    "urine_pregnancy_test_on": AddDays(ASSESSED_ON, Const(URINE_TEST_DAYS)),
    **SCAN_REPORT_VALUES,
}


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": miscarriage_table(version), "medical_regimen": regimen_table(version)}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return VALUES


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return _recs(version)[1]


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome, regimen = outcomes["main"], outcomes["medical_regimen"]
    active = outcome in ("expectant", "no_management_needed")
    return {
        "first_line": "expectant" if outcome == "expectant" else None,
        "expectant_review_window": (
            {"from": values["expectant_review_from"], "to": values["expectant_review_by"]}
            if outcome == "expectant"
            else None
        ),
        "check_before_expectant": list(EXPECTANT_EXCEPTIONS) if outcome == "expectant" else [],
        "medical_regimen": {
            "key": regimen,
            "steps": REGIMEN_STEPS.get(regimen, []),
            "version_rule": "mifepristone then misoprostol for a missed miscarriage from "
            f"{MIFEPRISTONE_FROM}; misoprostol alone before",
        }
        if regimen in REGIMEN_STEPS
        else None,
        "urine_pregnancy_test_on": values["urine_pregnancy_test_on"] if active else None,
        "urine_pregnancy_test_note": "3 weeks after management starts (counted from the "
        "assessment day); if positive, return for review."
        if active
        else None,
        "recommendation": report_not_read_recommendation(
            outcome, values, "any miscarriage management is chosen"
        )
        or {
            "expectant": "Expectant management for 7 to 14 days first line, unless an exception "
            "applies; medical or surgical management if she prefers or it is not suitable.",
            "no_management_needed": "Complete miscarriage: no management of retained tissue; "
            "urine pregnancy test at 3 weeks.",
            "needs_information": "Record the type of miscarriage (missed, incomplete or complete).",
            CONFIRM_FIRST: "The diagnosis of miscarriage is not yet safe (see reasons): confirm it "
            "first; no expectant, medical or surgical management is given until then.",
            NOT_APPLICABLE: "No miscarriage has been diagnosed.",
        }[outcome],
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
