"""The "Next steps" panel: what the assessment says must happen, and by when, most urgent first.

No clinical logic: each step is a section's own decision or next-step token, its own sentence,
its own dates and its own NG126 numbers. `URGENCY` is the one table that ranks the engine's
action tokens for display order (0 = now); a token missing from it is shown last, never hidden.
A step the engine flags overdue (its date has passed: do it now) moves up to `OVERDUE_RANK` and
says so, with the date it was due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from earlypath.web.words import in_text, label, number_list, uk_date

SECTIONS = (
    "referral",
    "progesterone",
    "scan_assessment",
    "hcg_assessment",
    "ectopic_management",
    "miscarriage_management",
    "anti_d",
)
# Decisions that ask for nothing to be done.
NO_ACTION = frozenset({"not_applicable", "none", "do_not_offer"})
# Actions that hold back treatment until a diagnosis is safe: the step gives the reasons.
CONFIRM_FIRST = frozenset({"confirm_diagnosis_first"})
# Which key of a section carries its action token (the section's decision otherwise).
ACTION_KEY = {"scan_assessment": "next_step", "hcg_assessment": "next_step"}

# (section, action token) -> rank. Lower is more urgent. Display order only.
URGENCY: dict[tuple[str, str], int] = {
    # 0: now, in A&E (NG126 1.3).
    ("referral", "emergency_care"): 0,
    # 1: an unrecorded fact that decides where she is seen; haemodynamic state, pain and heavy
    # bleeding could each mean A&E, so assess them before anything else (unknown is never "no").
    ("referral", "needs_information"): 1,
    # 2: today: the EPU within 24 hours, a new hCG pair (the first now), surgery.
    ("hcg_assessment", "epu_review_within_24h"): 2,
    ("hcg_assessment", "repeat_hcg_pair_48h_apart"): 2,
    # a scan report not read may show an ectopic pregnancy: read it today (stop 25)
    ("hcg_assessment", "read_scan_report"): 2,
    ("ectopic_management", "surgery"): 2,
    # 3: where she is seen, and what decides her ectopic treatment.
    ("ectopic_management", "needs_information"): 3,
    ("referral", "early_pregnancy_unit"): 3,
    ("ectopic_management", "choice_methotrexate_or_surgery"): 3,
    ("ectopic_management", "methotrexate"): 3,
    # 4: a diagnosis that is not yet safe is confirmed before any treatment for it.
    ("miscarriage_management", "confirm_diagnosis_first"): 4,
    ("scan_assessment", "second_opinion_or_rescan"): 4,
    ("scan_assessment", "rescan"): 4,
    # 5 and later: treatment and follow-up, by date.
    ("ectopic_management", "expectant"): 5,
    ("progesterone", "stop"): 5,
    ("anti_d", "offer"): 5,
    ("anti_d", "consider"): 5,
    ("anti_d", "needs_information"): 6,
    ("hcg_assessment", "transvaginal_scan"): 6,
    ("hcg_assessment", "needs_information"): 6,
    ("progesterone", "offer"): 7,
    ("progesterone", "continue"): 7,
    ("progesterone", "needs_information"): 7,
    ("scan_assessment", "needs_information"): 7,
    ("miscarriage_management", "expectant"): 7,
    ("miscarriage_management", "needs_information"): 7,
    ("hcg_assessment", "urine_pregnancy_test"): 8,
    ("miscarriage_management", "no_management_needed"): 8,
    ("referral", "no_referral"): 9,
}
# An overdue step is due now: after A&E and the facts that could mean A&E, with today's steps.
OVERDUE_RANK = 2
UNRANKED = 10


@dataclass
class Citation:
    number: str
    unverified: bool
    url: str | None = None


@dataclass
class Step:
    rank: int
    section: str
    title: str
    text: str
    when: str | None
    citations: list[Citation] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    overdue: bool = False


def citations(section: dict[str, Any]) -> list[Citation]:
    """The section's NG126 numbers, each flagged when the JSON marks it unverified."""
    sources = {c.get("number"): c for c in section.get("citations") or []}
    out = []
    for number in section.get("recommendations") or []:
        c = sources.get(number, {})
        out.append(Citation(number, c.get("number_source") == "unverified", c.get("url")))
    return out


def action_token(key: str, section: dict[str, Any]) -> str | None:
    """The section's action: its next step when it names one (an hCG pair too far apart still
    gives "take a new pair"), else "needs_information" or its decision."""
    step = section.get(ACTION_KEY[key]) if key in ACTION_KEY else None
    if step is not None and step not in NO_ACTION:
        return str(step)
    if section.get("decision") == "needs_information":
        return "needs_information"
    token = section.get(ACTION_KEY.get(key, "decision"))
    return None if token is None or token in NO_ACTION else str(token)


def overdue_since(section: dict[str, Any]) -> str | None:
    """The earliest date an overdue item of the section was due, as the engine flags it."""
    dates = sorted(
        str(item["was_due"]) for item in section.get("overdue") or [] if item.get("was_due")
    )
    return dates[0] if dates else None


def _when(key: str, token: str, s: dict[str, Any]) -> str | None:
    """By when, from the section's own dates."""
    if token == "emergency_care":
        return "Now"
    since = overdue_since(s)
    if since:
        return f"Overdue: do now (was due {uk_date(since)})"
    if key == "hcg_assessment":
        if s.get("due_on") and s.get("due_by"):
            return f"{uk_date(s['due_on'])} to {uk_date(s['due_by'])}"
        if s.get("due_by"):
            return f"By {uk_date(s['due_by'])}"
        if s.get("due_on"):
            return f"On {uk_date(s['due_on'])}"
    if key == "scan_assessment" and s.get("rescan_not_before"):
        return f"On or after {uk_date(s['rescan_not_before'])}"
    if key == "progesterone" and s.get("plan"):
        plan = s["plan"]
        return f"Start {uk_date(plan['start_on'])}; stop on {uk_date(plan['stop_on'])}"
    if key == "ectopic_management":
        for schedule in (s.get("follow_up") or {}).values():
            dated = [item for item in schedule if item.get("on")]
            if dated:
                return f"First serum hCG on {uk_date(dated[0]['on'])}"
    if key == "miscarriage_management":
        window = s.get("expectant_review_window")
        if window:
            return f"Review {uk_date(window['from'])} to {uk_date(window['to'])}"
        if s.get("urine_pregnancy_test_on"):
            return f"Urine pregnancy test on {uk_date(s['urine_pregnancy_test_on'])}"
    return None


def gather(assessment: dict[str, Any], decision_words: dict[str, str]) -> list[Step]:
    """Every action across the sections, most urgent first (then in section order)."""
    steps = []
    for key in SECTIONS:
        s = assessment.get(key)
        if not isinstance(s, dict):
            continue
        token = action_token(key, s)
        if token is None:
            continue
        missing = [label(m) for m in s.get("missing") or []]
        rank = URGENCY.get((key, token), UNRANKED)
        if overdue_since(s):
            rank = min(rank, OVERDUE_RANK)
        if token == "needs_information":
            text = f"Record {number_list(missing)}."
            if s.get("recommendation"):
                text += " " + in_text(s["recommendation"])
        elif key == "progesterone":
            text = decision_words.get(token, label(token)) + "."
        elif token in CONFIRM_FIRST:
            # Its sentence says "see reasons": the reasons say what must happen first.
            text = " ".join([label(token) + ".", *(in_text(r) for r in s.get("reasons") or [])])
        else:
            text = in_text(s.get("recommendation") or label(token))
        steps.append(
            Step(
                rank,
                key,
                label(key),
                text,
                _when(key, token, s),
                citations(s),
                missing,
                overdue=overdue_since(s) is not None,
            )
        )
    return sorted(steps, key=lambda step: step.rank)  # stable: section order within a rank
