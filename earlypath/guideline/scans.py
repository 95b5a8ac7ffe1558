"""Viability scans (NG126 1.4.6 to 1.4.11, 2019-2023 numbering): when a second scan is needed.

Reads the latest scan. A heartbeat seen means no rescan for viability. With no heartbeat: a
fetal pole is measured by its crown-rump length (CRL, 7.0 mm threshold), no fetal pole by the
mean sac diameter (MSD, 25.0 mm threshold); a transabdominal measurement always needs a second
scan at least 14 days later. A single scan never diagnoses a miscarriage by itself.
Unknowns give ``needs_information`` naming them, never "none".

When an earlier scan showed the pregnancy in the uterus at least 7 days (14 when it or the
latest is transabdominal) before the latest one and the latest shows no heartbeat, the second scan
NICE asks for is done: ``second_scan_done`` (the diagnosis is the clinician's, on both scans).
Between 7 and 13 days with a route not recorded, whether it is done is Unknown (``scans.route``).
Where NICE accepts a second opinion instead (a transvaginal CRL of 7.0 mm or more, or MSD of
25.0 mm or more), ``second_opinion_no_heartbeat`` gives ``second_opinion_done``.
`VIABILITY_NOT_SETTLED` is the cross-section rule: while it holds, no section gives treatment
for a miscarriage (see ``earlypath.guideline.miscarriage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from earlypath.facts import (
    ASSESSED_ON,
    CRL_MM,
    FETAL_HEARTBEAT,
    FETAL_POLE,
    FIRST_INTRAUTERINE_SCAN_DATE,
    FIRST_INTRAUTERINE_SCAN_ROUTE,
    MSD_MM,
    SCAN_DATE,
    SCAN_ROUTE,
    SECOND_OPINION,
)
from earlypath.guideline.vocabulary import (
    IS_ECTOPIC,
    IS_INTRAUTERINE,
    IS_PUL,
    NOT_APPLICABLE,
    SCAN_REPORT_VALUES,
    NumberSource,
    PathwayPolicy,
    Section,
    not_before,
    recommendations,
    report_not_read_recommendation,
    scan_report_gate,
)
from earlypath.rules.decision import (
    ALWAYS,
    Branch,
    Criterion,
    DecisionTable,
    Recommendation,
    Verdict,
)
from earlypath.rules.ir import (
    AddDays,
    Const,
    DaysBetween,
    Expr,
    If,
    IsNull,
    IsTrue,
    Match,
    Not,
    Or,
    all_of,
)

TOPIC = "scan_assessment"
OUTCOMES = (
    "none",
    "rescan",
    "second_opinion_or_rescan",
    "second_scan_done",
    "second_opinion_done",
    NOT_APPLICABLE,
    "needs_information",
)
CRL_THRESHOLD_MM = 7.0
MSD_THRESHOLD_MM = 25.0
TVS_RESCAN_DAYS = 7
TA_RESCAN_DAYS = 14

# The measurements that decide between a second scan and a second opinion (NG126 1.4.6/1.4.7 and
# 1.4.9/1.4.10), named once: the viability table, `SECOND_OPINION_DONE` and the steps below read them.
CRL_AT_LEAST_THRESHOLD: Expr = CRL_MM.ge(CRL_THRESHOLD_MM)
CRL_UNDER_THRESHOLD: Expr = CRL_MM.lt(CRL_THRESHOLD_MM)
MSD_AT_LEAST_THRESHOLD: Expr = MSD_MM.ge(MSD_THRESHOLD_MM)
MSD_UNDER_THRESHOLD: Expr = MSD_MM.lt(MSD_THRESHOLD_MM)

# A fetal pole is present if recorded, or if a CRL was measured (a CRL needs a pole).
POLE: Expr = If(IsTrue(CRL_MM.gt(0.0)), Const(True), FETAL_POLE)
# No pole means no heartbeat; otherwise the recorded heartbeat (Unknown stays Unknown).
HEARTBEAT_SEEN: Expr = all_of(FETAL_HEARTBEAT, POLE)
TRANSABDOMINAL: Expr = Match(SCAN_ROUTE, ("transabdominal",), ("transvaginal",))
FIRST_TRANSABDOMINAL: Expr = Match(
    FIRST_INTRAUTERINE_SCAN_ROUTE, ("transabdominal",), ("transvaginal",)
)
# The next scan after the latest (the scan section's `rescan_not before`, shown only when the
# latest scan's route is known).
RESCAN_DAYS: Expr = If(IsTrue(TRANSABDOMINAL), Const(TA_RESCAN_DAYS), Const(TVS_RESCAN_DAYS))
RESCAN_NOT_BEFORE: Expr = AddDays(SCAN_DATE, RESCAN_DAYS)
_SCANS_APART: Expr = DaysBetween(FIRST_INTRAUTERINE_SCAN_DATE, SCAN_DATE)
# An earlier scan showed the pregnancy in the uterus long enough before the latest scan for the
# latest to be NICE's second scan: 14 days or more whatever the routes; 7 to 13 days only when
# neither the first scan (NG126 1.4.8/1.4.11: "at least 14 days after the first scan" when it
# measured transabdominally) nor the latest is transabdominal. False under 7 days or with no such
# scan; Unknown at 7 to 13 days when a route is not recorded and neither is known transabdominal
# (HAZ-11 C11.6: an Unknown route is never read as transvaginal).
SECOND_SCAN_DONE: Expr = Or(
    (
        IsTrue(_SCANS_APART.ge(TA_RESCAN_DAYS)),
        all_of(
            IsTrue(_SCANS_APART.ge(TVS_RESCAN_DAYS)),
            Not(Or((TRANSABDOMINAL, FIRST_TRANSABDOMINAL))),
        ),
    )
)
# A second opinion agreed there is no heartbeat, on a transvaginal scan whose measurement allows
# a second opinion instead of a second scan (NG126 1.4.7: CRL 7.0 mm or more; 1.4.10: MSD 25.0 mm
# or more with no pole). False when no second opinion is recorded; Unknown when one is recorded
# but the route or the measurement that decides whether it suffices is not.
SECOND_OPINION_DONE: Expr = all_of(
    SECOND_OPINION,
    Not(TRANSABDOMINAL),
    Or(
        (
            all_of(POLE, CRL_AT_LEAST_THRESHOLD),
            all_of(Not(POLE), MSD_AT_LEAST_THRESHOLD),
        )
    ),
)
# The latest scan shows an intrauterine pregnancy with no heartbeat and is not NICE's second scan.
# Unknown when the heartbeat is not recorded, or whether it is the second scan is not known.
NO_HEARTBEAT_ON_A_FIRST_SCAN: Expr = all_of(
    IsTrue(IS_INTRAUTERINE),
    Not(HEARTBEAT_SEEN),
    Not(SECOND_SCAN_DONE),
)
# ... and no second opinion that NICE accepts in its place has confirmed it: a miscarriage cannot
# be diagnosed on it (NG126 1.4.6 to 1.4.11). Unknown when either part is.
VIABILITY_NOT_SETTLED: Expr = all_of(NO_HEARTBEAT_ON_A_FIRST_SCAN, Not(SECOND_OPINION_DONE))
# The latest scan shows an intrauterine pregnancy with no heartbeat (known), is known not to be
# NICE's second scan, and its route is not recorded: the steps for a known route below cannot be
# named (the scan section asks for ``scans.route``), so the card names the step for each route.
# (A second opinion cannot settle it: NICE accepts one only on a transvaginal scan.) Never Unknown.
_ROUTE_NOT_RECORDED_ON_A_FIRST_SCAN: Expr = all_of(
    IsNull(SCAN_ROUTE),
    IsTrue(IS_INTRAUTERINE),
    IsTrue(Not(HEARTBEAT_SEEN)),
    IsTrue(Not(SECOND_SCAN_DONE)),
)
# The latest scan shows an intrauterine pregnancy with no heartbeat (known) 7 to 13 days after the
# first that showed it there, and a route not recorded leaves whether it is NICE's second scan
# Unknown (the scan section asks for ``scans.route``): never read as done. Never Unknown.
_SECOND_SCAN_HANGS_ON_A_ROUTE: Expr = all_of(
    IsTrue(IS_INTRAUTERINE),
    IsTrue(Not(HEARTBEAT_SEEN)),
    IsNull(SECOND_SCAN_DONE),
)


@dataclass(frozen=True)
class ViabilityStep:
    """What NG126 asks for before a miscarriage is diagnosed on the latest scan, by number, and
    ``advice`` saying it in a line (the progesterone card's): ``when`` is True exactly where
    `scan_table` gives ``rescan`` or ``second_opinion_or_rescan`` citing ``number`` (never on an
    Unknown heartbeat, pole, route or measurement). With a ``suffix``, the step for one route
    when the route is not recorded: True only where `scan_table` asks for ``scans.route``."""

    number: str
    when: Expr
    advice: str
    # "_route_unknown" (a first scan) or "_second_scan_route_unknown" (7 to 13 days after the
    # first): the step for each route when a route is not recorded, where the scan section says
    # ``needs_information`` naming ``scans.route`` (HAZ-11 C11.6, C11.7)
    suffix: str = ""

    @property
    def id(self) -> str:
        """The progesterone advice id, e.g. ``viability_1_4_7`` or ``viability_1_4_7_route_unknown``."""
        return f"viability_{self.number.replace('.', '_')}{self.suffix}"


_NOT_ON_ONE = "do not diagnose a miscarriage on this scan"
_TVS_LATER = f"a second scan at least {TVS_RESCAN_DAYS} days after it"
_TA_LATER = f"a second scan at least {TA_RESCAN_DAYS} days after it"
_TV_OPINION = f"get a second opinion on viability and/or {_TVS_LATER}"
_OPINION = f"{_NOT_ON_ONE} alone; {_TV_OPINION}"
_ROUTE_UNKNOWN = "_route_unknown"
_SECOND_SCAN_ROUTE_UNKNOWN = "_second_scan_route_unknown"
_TA_AFTER_FIRST = f"a second scan at least {TA_RESCAN_DAYS} days after the first scan"
# (number, the pole, the measurement, what the scan shows, whether a second opinion may stand in
# for the second scan), on a transvaginal scan
_MEASURED = (
    (
        "1.4.7",
        POLE,
        CRL_AT_LEAST_THRESHOLD,
        f"No heartbeat with a crown-rump length of {CRL_THRESHOLD_MM:.1f} mm or more",
        True,
    ),
    (
        "1.4.6",
        POLE,
        CRL_UNDER_THRESHOLD,
        f"No heartbeat with a crown-rump length under {CRL_THRESHOLD_MM:.1f} mm",
        False,
    ),
    (
        "1.4.10",
        Not(POLE),
        MSD_AT_LEAST_THRESHOLD,
        f"No fetal pole with a mean sac diameter of {MSD_THRESHOLD_MM:.1f} mm or more",
        True,
    ),
    (
        "1.4.9",
        Not(POLE),
        MSD_UNDER_THRESHOLD,
        f"No fetal pole with a mean sac diameter under {MSD_THRESHOLD_MM:.1f} mm",
        False,
    ),
)
# In `scan_table`'s order: a transabdominal scan whatever its measurement, then by pole and
# measurement; then, where a route is not recorded (a record's, or a route given as null), the
# step for each route. (The input contract reads a scan with no route key as transvaginal.)
VIABILITY_STEPS: tuple[ViabilityStep, ...] = (
    ViabilityStep(
        "1.4.8",
        all_of(VIABILITY_NOT_SETTLED, TRANSABDOMINAL, POLE),
        "No heartbeat, with a crown-rump length measured on a transabdominal scan: record its "
        f"size; {_TA_LATER} before diagnosing a miscarriage.",
    ),
    ViabilityStep(
        "1.4.11",
        all_of(VIABILITY_NOT_SETTLED, TRANSABDOMINAL, Not(POLE)),
        "No fetal pole, with a mean sac diameter measured on a transabdominal scan: record its "
        f"size; {_TA_LATER} before diagnosing a miscarriage.",
    ),
    *(
        ViabilityStep(
            number,
            all_of(VIABILITY_NOT_SETTLED, Not(TRANSABDOMINAL), pole, measured),
            f"{shows} (transvaginal): {_OPINION if opinion else f'{_NOT_ON_ONE}; {_TVS_LATER}'}.",
        )
        for number, pole, measured, shows, opinion in _MEASURED
    ),
    # A route not recorded (most real records do not code it): what NICE asks for on each
    # route, the transvaginal step by the measurement, then the transabdominal one by the pole.
    *(
        ViabilityStep(
            number,
            all_of(_ROUTE_NOT_RECORDED_ON_A_FIRST_SCAN, pole, measured),
            f"{shows}, and the scan's route is not recorded: {_NOT_ON_ONE} alone. If it was "
            f"transvaginal: {_TV_OPINION if opinion else _TVS_LATER}. Record the route.",
            _ROUTE_UNKNOWN,
        )
        for number, pole, measured, shows, opinion in _MEASURED
    ),
    ViabilityStep(
        "1.4.8",
        all_of(_ROUTE_NOT_RECORDED_ON_A_FIRST_SCAN, POLE),
        "No heartbeat, with a crown-rump length measured, and the scan's route is not recorded: "
        f"if it was transabdominal, record its size; {_TA_LATER} before diagnosing a miscarriage.",
        _ROUTE_UNKNOWN,
    ),
    ViabilityStep(
        "1.4.11",
        all_of(_ROUTE_NOT_RECORDED_ON_A_FIRST_SCAN, Not(POLE)),
        "No fetal pole, with a mean sac diameter measured, and the scan's route is not recorded: "
        f"if it was transabdominal, record its size; {_TA_LATER} before diagnosing a miscarriage.",
        _ROUTE_UNKNOWN,
    ),
    # 7 to 13 days after the first scan with a route not recorded: what each route means.
    *(
        ViabilityStep(
            number,
            all_of(_SECOND_SCAN_HANGS_ON_A_ROUTE, pole),
            f"{shows} on a scan {TVS_RESCAN_DAYS} to {TA_RESCAN_DAYS - 1} days after the first "
            "scan that showed the pregnancy in the uterus, and a scan's route is not recorded: if "
            "both were transvaginal, this is the second scan NICE asks for before a miscarriage is "
            f"diagnosed; if either was transabdominal, NICE asks for {_TA_AFTER_FIRST}. Record "
            "the routes.",
            _SECOND_SCAN_ROUTE_UNKNOWN,
        )
        for number, pole, shows in (
            ("1.4.8", POLE, "No heartbeat"),
            ("1.4.11", Not(POLE), "No fetal pole"),
        )
    ),
)


_SUMMARIES: dict[str, tuple[str, NumberSource]] = {
    "1.4.6": (
        "CRL under 7.0 mm on a transvaginal scan with no visible heartbeat: a second scan at least "
        "7 days after the first before making a diagnosis.",
        "reference",
    ),
    "1.4.7": (
        "CRL 7.0 mm or more on a transvaginal scan with no visible heartbeat: a second opinion on "
        "viability and/or a second scan at least 7 days after the first before making a diagnosis.",
        "reference",
    ),
    "1.4.8": (
        "CRL measured on a transabdominal scan: record its size and do a second scan at least 14 "
        "days after the first before making a diagnosis.",
        "reference",
    ),
    "1.4.9": (
        "MSD under 25.0 mm on a transvaginal scan with no visible fetal pole: a second scan at "
        "least 7 days after the first before making a diagnosis.",
        "reference",
    ),
    "1.4.10": (
        "MSD 25.0 mm or more on a transvaginal scan with no visible fetal pole: a second opinion "
        "and/or a second scan at least 7 days after the first before making a diagnosis.",
        "reference",
    ),
    "1.4.11": (
        "MSD measured on a transabdominal scan with no fetal pole: record its size and do a second "
        "scan at least 14 days after the first before making a diagnosis.",
        "reference",
    ),
}


def _criteria() -> dict[str, Criterion]:
    return {
        "located": Criterion(
            "located_outside_uterus_or_unknown",
            Or((IS_ECTOPIC, IS_PUL)),
            "",
            "The latest scan shows an ectopic pregnancy or a pregnancy of unknown location: these "
            "viability rules are for an intrauterine pregnancy (see the ectopic management and hCG "
            "sections).",
            "The latest scan shows an intrauterine pregnancy.",
            "No scan is recorded: these viability rules apply once a scan is done (whether and "
            "where she needs one: see the referral section).",
            ("scans",),
        ),
        "heartbeat": Criterion(
            "heartbeat_seen",
            HEARTBEAT_SEEN,
            "",
            "A fetal heartbeat is visible on the latest scan: no second scan is needed for viability.",
            "No fetal heartbeat is visible on the latest scan.",
            "Whether a fetal heartbeat was seen on the latest scan is not recorded.",
            ("scans.fetal_heartbeat",),
        ),
        "second_scan": Criterion(
            "second_scan_done",
            SECOND_SCAN_DONE,
            "",
            "An earlier scan showed the pregnancy in the uterus at least 7 days (14 if it or this "
            "scan is transabdominal) before this one: this is the second scan NICE asks for before "
            "a miscarriage is diagnosed; no heartbeat is visible on it.",
            "This is the first scan to judge viability on.",
            "This scan is 7 to 13 days after the first scan that showed the pregnancy in the "
            "uterus, and the route of one of them is not recorded: it is the second scan NICE asks "
            "for after a transvaginal scan (7 days), not after a transabdominal one (14 days, NG126 "
            "1.4.8 and 1.4.11).",
            ("scans.route",),
        ),
        "second_opinion": Criterion(
            "second_opinion_no_heartbeat",
            IsTrue(SECOND_OPINION),
            "",
            "A second opinion on viability agreed there is no heartbeat: with this measurement "
            "NICE accepts it instead of a second scan.",
            "No second opinion is recorded.",
            "",
            (),
        ),
        "ta": Criterion(
            "transabdominal",
            TRANSABDOMINAL,
            "1.4.8",
            "The measurement was made on a transabdominal scan: a second scan at least 14 days later.",
            "The scan was transvaginal.",
            "The scan route is not recorded.",
            ("scans.route",),
        ),
        "pole": Criterion(
            "fetal_pole",
            POLE,
            "1.4.6",
            "A fetal pole is visible (so the crown-rump length decides).",
            "No fetal pole is visible (so the mean sac diameter decides).",
            "Whether a fetal pole was seen is not recorded.",
            ("scans.fetal_pole",),
        ),
        "no_pole": Criterion(
            "no_fetal_pole",
            Not(POLE),
            "1.4.9",
            "No fetal pole is visible (so the mean sac diameter decides).",
            "A fetal pole is visible.",
            "Whether a fetal pole was seen is not recorded.",
            ("scans.fetal_pole",),
        ),
        "crl_big": Criterion(
            "crl_at_least_7mm",
            CRL_AT_LEAST_THRESHOLD,
            "1.4.7",
            "The crown-rump length is 7.0 mm or more with no heartbeat.",
            "The crown-rump length is under 7.0 mm.",
            "The crown-rump length is not recorded.",
            ("scans.crl_mm",),
        ),
        "crl_small": Criterion(
            "crl_under_7mm",
            CRL_UNDER_THRESHOLD,
            "1.4.6",
            "The crown-rump length is under 7.0 mm with no heartbeat.",
            "The crown-rump length is 7.0 mm or more.",
            "The crown-rump length is not recorded.",
            ("scans.crl_mm",),
        ),
        "msd_big": Criterion(
            "msd_at_least_25mm",
            MSD_AT_LEAST_THRESHOLD,
            "1.4.10",
            "The mean sac diameter is 25.0 mm or more with no fetal pole.",
            "The mean sac diameter is under 25.0 mm.",
            "The mean sac diameter is not recorded.",
            ("scans.msd_mm",),
        ),
        "msd_small": Criterion(
            "msd_under_25mm",
            MSD_UNDER_THRESHOLD,
            "1.4.9",
            "The mean sac diameter is under 25.0 mm with no fetal pole.",
            "The mean sac diameter is 25.0 mm or more.",
            "The mean sac diameter is not recorded.",
            ("scans.msd_mm",),
        ),
    }


@cache
def scan_table(version: str) -> DecisionTable:
    """The viability-scan decision table (the same text in the 2019, 2021 and 2023 versions)."""
    c = _criteria()
    recs, _ = recommendations(version, _SUMMARIES)
    verdicts = (
        # a scan whose report was not read is neither a scan to judge viability on nor "no scan"
        scan_report_gate(NOT_APPLICABLE, "1.4.6", "judging viability on it (1.4.6 to 1.4.11)"),
        Verdict(NOT_APPLICABLE, "all_true", (c["located"],), ()),
        Verdict("none", "all_true", (c["heartbeat"],), ()),
        Verdict(
            "second_scan_done",
            "all_true",
            (c["second_scan"],),
            ("1.4.6", "1.4.7", "1.4.8", "1.4.9", "1.4.10", "1.4.11"),
        ),
        Verdict("rescan", "all_true", (c["ta"], c["pole"]), ("1.4.8",)),
        Verdict("rescan", "all_true", (c["ta"], c["no_pole"]), ("1.4.11",)),
        Verdict(
            "second_opinion_done",
            "all_true",
            (c["second_opinion"], c["pole"], c["crl_big"]),
            ("1.4.7",),
        ),
        Verdict("second_opinion_or_rescan", "all_true", (c["pole"], c["crl_big"]), ("1.4.7",)),
        Verdict("rescan", "all_true", (c["pole"], c["crl_small"]), ("1.4.6",)),
        Verdict(
            "second_opinion_done",
            "all_true",
            (c["second_opinion"], c["no_pole"], c["msd_big"]),
            ("1.4.10",),
        ),
        Verdict("second_opinion_or_rescan", "all_true", (c["no_pole"], c["msd_big"]), ("1.4.10",)),
        Verdict("rescan", "all_true", (c["no_pole"], c["msd_small"]), ("1.4.9",)),
    )
    return DecisionTable(TOPIC, OUTCOMES, (Branch("latest_scan", ALWAYS, verdicts),), (), recs)


def viability_recommendations(version: str) -> dict[str, Recommendation]:
    """NG126 1.4.6 to 1.4.11 as one version states them (cited by `VIABILITY_STEPS` elsewhere)."""
    return recommendations(version, _SUMMARIES)[0]


def _tables(version: str, policy: PathwayPolicy) -> dict[str, DecisionTable]:
    return {"main": scan_table(version)}


VALUES: dict[str, Expr] = {
    # A rescan whose earliest day has passed is due now: never a date before the assessment.
    "rescan_not_before": not_before(RESCAN_NOT_BEFORE, ASSESSED_ON),
    "rescan_due_since": RESCAN_NOT_BEFORE,
    **SCAN_REPORT_VALUES,
}


def _values(version: str, policy: PathwayPolicy) -> dict[str, Expr]:
    return VALUES


def _sources(version: str, policy: PathwayPolicy) -> dict[str, NumberSource]:
    return {number: source for number, (_, source) in _SUMMARIES.items()}


_RECOMMENDATION_TEXT = {
    "none": "A fetal heartbeat is visible: no second scan is needed to confirm viability.",
    "rescan": (
        "Do not diagnose a miscarriage on this scan: arrange a second scan on or after "
        "rescan_not_before."
    ),
    "second_opinion_or_rescan": (
        "Do not diagnose a miscarriage on this scan alone: get a second opinion on viability "
        "and/or a second scan on or after rescan_not_before."
    ),
    "second_opinion_done": (
        "No heartbeat, and a second opinion on viability agrees: with this measurement NICE "
        "accepts a second opinion instead of a second scan before a miscarriage is diagnosed."
    ),
    "second_scan_done": (
        "No heartbeat on a second scan at least 7 days (14 if either is transabdominal) after the "
        "first scan that showed the pregnancy in the uterus: the two-scan rule is met; the "
        "diagnosis is made on both scans (compare the measurements)."
    ),
    NOT_APPLICABLE: "Not an intrauterine pregnancy on the latest scan: see the other sections.",
    "needs_information": "Record the missing scan findings; no next step can be given without them.",
}


def _render(outcomes: dict[str, str], values: dict[str, Any], version: str) -> dict[str, Any]:
    outcome = outcomes["main"]
    rescan = outcome in ("rescan", "second_opinion_or_rescan")
    due_now = rescan and values["rescan_due_since"] != values["rescan_not_before"]
    return {
        "next_step": outcome if outcome in ("none", "rescan", "second_opinion_or_rescan") else None,
        "rescan_not_before": values["rescan_not_before"] if rescan else None,
        "overdue": [
            {
                "what": "second scan",
                "was_due": values["rescan_due_since"],
                "do": "overdue: do it now",
            }
        ]
        if due_now
        else [],
        "recommendation": report_not_read_recommendation(outcome, values, "judging viability on it")
        or _RECOMMENDATION_TEXT[outcome],
    }


SECTION = Section(TOPIC, _tables, _values, _sources, _render)
