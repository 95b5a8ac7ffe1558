"""Properties of the pathway rules over generated episodes (Hypothesis)."""

from __future__ import annotations

import copy
import json
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from earlypath import InputError, assess
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import PathwayPolicy, sections
from earlypath.model import parse_episode
from tests.pathway.strategies import FILLABLE, SCAN_FILLABLE, episodes

# EARLYPATH_PATHWAY_EXAMPLES=5000 for a deeper run.
EXAMPLES = int(os.environ.get("EARLYPATH_PATHWAY_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SECTION_NAMES = [s.name for s in sections()]


def latest_scan(episode: dict[str, Any]) -> dict[str, Any] | None:
    return parse_episode(episode).latest_scan


@SETTINGS
@given(episodes())
def test_every_assessment_is_json_and_every_section_has_a_known_decision(episode: dict) -> None:
    assessment = assess(episode)
    json.dumps(assessment)
    for section in sections():
        table = section.tables(assessment["guideline"]["version"], PathwayPolicy())["main"]
        assert assessment[section.name]["decision"] in table.outcomes


@SETTINGS
@given(episodes())
def test_visible_ectopic_heartbeat_never_gets_methotrexate_first_line(episode: dict) -> None:
    ectopic = assess(episode)["ectopic_management"]
    scan = latest_scan(episode)
    if scan is not None and scan.location == "ectopic" and scan.fetal_heartbeat is True:
        assert ectopic["first_line"] == "surgery"
    if ectopic["first_line"] in ("methotrexate", "expectant", "choice_methotrexate_or_surgery"):
        assert scan is not None and scan.fetal_heartbeat is False


@SETTINGS
@given(episodes())
def test_scan_none_only_with_a_recorded_heartbeat(episode: dict) -> None:
    scan = latest_scan(episode)
    decision = assess(episode)["scan_assessment"]["decision"]
    if decision == "none":
        assert scan is not None and scan.fetal_heartbeat is True
    if scan is None:
        assert decision == "needs_information"


@SETTINGS
@given(episodes(), st.data())
def test_a_definite_decision_never_depends_on_an_unknown(
    episode: dict, data: st.DataObject
) -> None:
    """Unknown never becomes a definite answer that the missing value could change: filling an
    unknown field with any value keeps every definite section decision."""
    filled = copy.deepcopy(episode)
    for field in [f for f in FILLABLE if episode.get(f) is None]:
        filled[field] = data.draw(st.sampled_from(FILLABLE[field]), label=field)
    if episode["miscarriage_diagnosed"] and episode["miscarriage_type"] is None:
        filled["miscarriage_type"] = data.draw(
            st.sampled_from(["missed", "incomplete", "complete"])
        )
    latest = parse_episode(episode).latest_scan
    if latest is not None:
        # The latest scan's own unknowns (not its CRL: a CRL can make it the dating scan, which
        # changes the gestation's basis by design, not an Unknown becoming known).
        index = max(
            i for i, s in enumerate(episode["scans"]) if s["date"] == latest.date.isoformat()
        )
        scan = filled["scans"][index]
        # A scan of unknown location with no pole recorded saw no pregnancy: a pole or a
        # heartbeat on it would be another scan, not an unknown made known (as with the CRL).
        saw_nothing = scan["location"] == "unknown" and scan.get("fetal_pole") is None
        for field, values in SCAN_FILLABLE.items():
            if saw_nothing and field in ("fetal_pole", "fetal_heartbeat"):
                continue
            if scan.get(field) is None:
                scan[field] = data.draw(st.sampled_from(values), label=field)
    try:
        parse_episode(filled)
    except InputError:
        assume(False)
    before = assess(episode)
    after = assess(filled)
    for name in [*SECTION_NAMES, "progesterone"]:
        if before[name]["decision"] != "needs_information":
            assert after[name]["decision"] == before[name]["decision"], name


READ_LOCATIONS = ("intrauterine", "ectopic", "unknown")


@SETTINGS
@given(episodes(), st.data())
def test_a_definite_decision_never_waits_on_a_scan_report_not_read(
    episode: dict, data: st.DataObject
) -> None:
    """Stop 25: her latest scan's report was not read. Whatever it shows once read (any location,
    pole, heartbeat or sac), every definite decision stands: a section that the report could
    change says `needs_information` (naming the report), never an answer read off "no scan" or
    a pregnancy of unknown location."""
    assume(episode["scans"])
    latest = parse_episode(episode).latest_scan
    assert latest is not None
    index = max(i for i, s in enumerate(episode["scans"]) if s["date"] == latest.date.isoformat())
    unread = copy.deepcopy(episode)
    scan = unread["scans"][index]
    unread["scans"][index] = {"date": scan["date"], "location": "report_not_read"}
    if "route" in scan:
        unread["scans"][index]["route"] = scan["route"]
    read = copy.deepcopy(unread)
    shown = read["scans"][index]
    shown["location"] = data.draw(st.sampled_from(READ_LOCATIONS), label="location")
    for field in ("fetal_pole", "fetal_heartbeat", "msd_mm"):
        shown[field] = data.draw(st.sampled_from(SCAN_FILLABLE[field]), label=field)
    try:
        parse_episode(read)
    except InputError:
        assume(False)
    # An ectopic seen before the unread report stands (stop 26): the location is then the
    # ectopic's, not a report to read, and reading the report may change it.
    assume(episode_facts(parse_episode(unread))["scan_location"] == "report_not_read")
    before = assess(unread)
    after = assess(read)
    for name in [*SECTION_NAMES, "progesterone"]:
        if before[name]["decision"] != "needs_information":
            assert after[name]["decision"] == before[name]["decision"], name


@SETTINGS
@given(episodes())
def test_needs_information_always_names_what_is_missing_or_says_why(episode: dict) -> None:
    assessment = assess(episode)
    for name in SECTION_NAMES:
        section = assessment[name]
        if section["decision"] == "needs_information":
            assert section["missing"] or section["reasons"], name


@SETTINGS
@given(episodes())
def test_anti_d_is_never_silently_omitted(episode: dict) -> None:
    e = parse_episode(episode)
    scan = e.latest_scan
    context = (e.miscarriage_diagnosed and e.miscarriage_type != "complete") or (
        scan is not None and scan.location == "ectopic"
    )
    decision = assess(episode)["anti_d"]["decision"]
    if context and e.management == "surgical" and e.rhesus_d != "positive":
        assert decision in ("offer", "needs_information")
        known = e.miscarriage_type is not None or (scan is not None and scan.location == "ectopic")
        if e.rhesus_d == "negative" and known:
            assert decision == "offer"


@SETTINGS
@given(episodes())
def test_haemodynamic_instability_always_means_emergency_care(episode: dict) -> None:
    if episode["haemodynamically_unstable"] is True:
        assert assess(episode)["referral"]["decision"] == "emergency_care"


def _pul(first: float, second: float) -> dict[str, Any]:
    return {
        "assessed_on": "2024-03-06",
        "scans": [{"date": "2024-03-04", "location": "unknown"}],
        "hcg": [
            {"taken_at": "2024-03-04T09:00:00", "iu_per_l": first},
            {"taken_at": "2024-03-06T09:00:00", "iu_per_l": second},
        ],
    }


def _exact_category(first: Decimal, second: Decimal) -> str:
    ratio = Fraction(second) / Fraction(first)
    if ratio > Fraction(163, 100):
        return "rise_over_63"
    if ratio < Fraction(1, 2):
        return "fall_over_50"
    return "other"


decimals = st.decimals(min_value="1.00", max_value="200000.00", places=2)


@settings(max_examples=500, deadline=None)
@given(decimals, decimals)
def test_hcg_category_matches_exact_decimal_arithmetic(first: Decimal, second: Decimal) -> None:
    got = assess(_pul(float(first), float(second)))["hcg_assessment"]["category"]
    assert got == _exact_category(first, second)


@settings(max_examples=500, deadline=None)
@given(decimals, st.sampled_from([Fraction(163, 100), Fraction(1, 2)]))
def test_hcg_ratio_exactly_on_a_boundary_is_other(first: Decimal, ratio: Fraction) -> None:
    second = Decimal(first) * Decimal(ratio.numerator) / Decimal(ratio.denominator)
    assert assess(_pul(float(first), float(second)))["hcg_assessment"]["category"] == "other"


@SETTINGS
@given(episodes())
def test_hcg_samples_under_48_hours_apart_are_never_compared(episode: dict) -> None:
    from earlypath.facts import HCG_MIN_HOURS, episode_facts

    facts = episode_facts(parse_episode(episode))
    if facts["hcg_hours_apart"] is not None:
        assert facts["hcg_hours_apart"] >= HCG_MIN_HOURS
    elif facts["hcg_count"] >= 2:
        assert facts["hcg_too_close"] is True


NOT_YET_SAFE_SCAN = ("rescan", "second_opinion_or_rescan")
NO_TREATMENT = ("confirm_diagnosis_first", "not_applicable", "needs_information")


@SETTINGS
@given(episodes())
def test_no_section_treats_a_diagnosis_another_section_says_is_not_yet_safe(
    episode: dict,
) -> None:
    """Issue 13, finding 5: while the scan section says a miscarriage cannot be diagnosed on this
    scan, or the pregnancy is of unknown location and never seen in the uterus, the miscarriage
    section gives no management (no expectant plan, no regimen) and says what comes first."""
    assessment = assess(episode)
    miscarriage = assessment["miscarriage_management"]
    e = parse_episode(episode)
    scan = e.latest_scan
    # where the rules place the pregnancy: the latest scan's location, but an ectopic seen
    # before an unread report stands (stop 26)
    location = episode_facts(e)["scan_location"]
    pul_never_in_uterus = (
        scan is not None
        and scan.location == "unknown"
        and not any(s.location == "intrauterine" for s in e.scans)
    )
    ectopic = location == "ectopic"
    not_yet_safe = assessment["scan_assessment"]["decision"] in NOT_YET_SAFE_SCAN
    # A heartbeat on the latest scan: viable on it, so no miscarriage management either.
    heartbeat = scan is not None and scan.fetal_heartbeat is True
    if not_yet_safe or pul_never_in_uterus or ectopic or heartbeat:
        assert miscarriage["decision"] in NO_TREATMENT
        assert miscarriage["first_line"] is None
        assert miscarriage["medical_regimen"] is None
        assert miscarriage["expectant_review_window"] is None
        if e.miscarriage_diagnosed:
            assert miscarriage["decision"] in ("confirm_diagnosis_first", "needs_information")
    if miscarriage["decision"] in ("expectant", "no_management_needed"):
        assert assessment["scan_assessment"]["decision"] not in NOT_YET_SAFE_SCAN
    # Anti-D goes with the management: while the miscarriage (not an ectopic) is held back, an
    # offer says to confirm the diagnosis first.
    anti_d = assessment["anti_d"]
    held_back = miscarriage["decision"] == "confirm_diagnosis_first" and not ectopic
    if held_back and anti_d["decision"] in ("offer", "consider"):
        assert "miscarriage_not_yet_confirmed" in [a["id"] for a in anti_d["advice"]]
    # An ectopic is treated only once a scan has shown it (never for a pregnancy of unknown
    # location).
    if assessment["ectopic_management"]["first_line"] is not None:
        assert location == "ectopic"


# Output keys that hold dates that are not plan dates (history, provenance, what was due).
_NOT_PLAN_DATES = {"trace", "citations", "was_due", "advice", "other_decisions", "samples"}


def _plan_dates(value: Any, path: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_PLAN_DATES:
                found += _plan_dates(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _plan_dates(item, f"{path}[{i}]")
    elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        found.append((path, value))
    return found


@SETTINGS
@given(episodes())
def test_no_plan_date_is_before_the_assessment(episode: dict) -> None:
    """Issue 13, finding 3: every date in every plan is on or after assessed_on (a step due
    earlier is shown on assessed_on and flagged overdue)."""
    assessment = assess(episode)
    day = assessment["assessed_on"]
    sections_out = {name: assessment[name] for name in SECTION_NAMES}
    sections_out["progesterone_plan"] = assessment["progesterone"]["plan"]
    for path, date in _plan_dates(sections_out):
        assert date >= day, (path, date, day)


@SETTINGS
@given(episodes())
def test_hcg_pairs_far_apart_are_never_categorised(episode: dict) -> None:
    """Issue 13, finding 4: a pair more than 72 hours apart is not read against the 48-hour
    thresholds."""
    from earlypath.facts import episode_facts

    facts = episode_facts(parse_episode(episode))
    hours = facts["hcg_hours_apart"]
    hcg = assess(episode)["hcg_assessment"]
    if hours is not None and hours > PathwayPolicy().hcg_pair_max_hours:
        assert hcg["category"] is None
        assert hcg["decision"] in ("needs_information", "not_applicable")
