"""Plain clinical words for the pages: every engine token and contract field name has one label.

The engine speaks in tokens (``epu_review_within_24h``, ``hcg_assessment``, ``assessed_on``);
a reader should never see one. `label` looks a token up in `LABELS` (the one table); a token that
is missing is humanised and remembered in `UNLABELLED`, so a test can name it. Engine sentences
that mention a token (``on or after rescan_not_before``) are rewritten by `in_text`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from earlypath.model.checks import CROSS_FIELD_CHECKS

LABELS: dict[str, str] = {
    # sections of the assessment
    "referral": "Where she should be seen",
    "progesterone": "Progesterone",
    "scan_assessment": "Viability scan",
    "hcg_assessment": "Serum hCG",
    "ectopic_management": "Ectopic pregnancy management",
    "miscarriage_management": "Miscarriage management",
    "anti_d": "Anti-D",
    "medical_regimen": "Medical management regimen",
    # decisions and actions
    "offer": "Offer",
    "continue": "Continue",
    "stop": "Stop",
    "do_not_offer": "Do not offer",
    "consider": "Consider",
    "needs_information": "More information needed",
    "not_applicable": "Does not apply",
    "none": "None",
    "emergency_care": "Emergency care (A&E) now",
    "early_pregnancy_unit": "Early pregnancy assessment unit",
    "no_referral": "Expectant management in the community",
    "rescan": "Rescan",
    "second_opinion_or_rescan": "Second opinion or rescan",
    "second_scan_done": "Second scan done: the two-scan rule is met",
    "second_opinion_done": "Second opinion done: it agrees there is no heartbeat",
    "confirm_diagnosis_first": "Confirm the diagnosis first",
    "repeat_hcg_pair_48h_apart": "New pair of hCG samples 48 hours apart",
    "read_scan_report": "Read the scan report",
    "rise_over_63": "Rise of more than 63% in 48 hours",
    "fall_over_50": "Fall of more than 50% in 48 hours",
    "other": "Neither a rise over 63% nor a fall over 50%",
    "transvaginal_scan": "Transvaginal scan",
    "urine_pregnancy_test": "Urine pregnancy test",
    "epu_review_within_24h": "Review in the early pregnancy unit within 24 hours",
    "expectant": "Expectant management",
    "medical": "Medical management",
    "surgical": "Surgical management",
    "methotrexate": "Methotrexate",
    "surgery": "Surgery",
    "choice_methotrexate_or_surgery": "Her choice of methotrexate or surgery",
    "no_management_needed": "No management needed (complete miscarriage)",
    "misoprostol_800": "Misoprostol 800 micrograms",
    "misoprostol_600": "Misoprostol 600 micrograms",
    "mifepristone_200_then_misoprostol_800": "Mifepristone 200 mg, then misoprostol 800 micrograms",
    # contract fields (the episode) and the facts the engine names
    "assessed_on": "date of assessment",
    "guideline_version": "NG126 version",
    "previous_miscarriages": "number of previous miscarriages",
    "vaginal_bleeding": "vaginal bleeding",
    "heavy_bleeding": "whether there is significant concern about the amount of bleeding",
    "previous_ectopic": "whether she has had an ectopic pregnancy before",
    "ectopic_ruptured": "whether the ectopic pregnancy has ruptured",
    "second_opinion_no_heartbeat": "a second opinion that there is no heartbeat",
    "lmp": "LMP",
    "scans": "a scan showing where the pregnancy is",
    "scan_report": "what the latest scan report shows (it could not be read)",
    "scan_location": "where the scan showed the pregnancy",
    "scan_date": "scan date",
    "fetal_pole": "fetal pole",
    "fetal_heartbeat": "fetal heartbeat",
    "crl_mm": "crown-rump length",
    "msd_mm": "mean sac diameter",
    "miscarriage_diagnosed": "miscarriage diagnosed",
    "on_progesterone": "already taking progesterone",
    "allergies": "allergies",
    "hcg": "current serum hCG results",
    "pain": "pain",
    "haemodynamically_unstable": "haemodynamic state (stable or unstable)",
    "rhesus_d": "RhD group",
    "adnexal_mass_mm": "adnexal mass size",
    "able_to_return_for_follow_up": "whether she can return for follow-up",
    "miscarriage_type": "type of miscarriage",
    "management": "management chosen",
    "rescan_not_before": "the rescan date",
    "stop_at": "stop progesterone at",
    "anti_d_rule": "Anti-D rule",
    "hcg_pair_max_hours": "Longest gap between two hCG results compared (hours)",
    "hcg_max_age_days": "Oldest hCG result used for the ectopic thresholds (days)",
    "preferred_product": "Preferred product",
    # fields of the sections, shown when a section is opened
    "destination": "Destination",
    "next_step": "Next step",
    "due_on": "Due on",
    "due_by": "Due by",
    "ratio": "hCG ratio (second / first)",
    "category": "hCG change",
    "samples": "hCG results",
    "results": "Results recorded",
    "compared": "Results compared",
    "hours_apart": "Hours apart",
    "not_used": "Results not used",
    "all_under_48h": "All results under 48 hours apart",
    "pair_too_far_apart": "Results too far apart to compare",
    "second_sample_days_ago": "Days since the second hCG sample",
    "hcg_age_days": "Days since the latest hCG sample",
    "overdue": "Overdue",
    "what": "What",
    "was_due": "Was due",
    "do": "Do",
    "note": "Note",
    "first_line": "First line",
    "options": "Options",
    "follow_up": "Follow-up",
    "follow_up_note": "Follow-up note",
    "day": "Day",
    "on": "On",
    "action": "Action",
    "dose_iu": "Dose (IU)",
    "expectant_review_window": "Expectant management review",
    "from": "From",
    "to": "To",
    "check_before_expectant": "Check before expectant management",
    "key": "Regimen",
    "drug": "Drug",
    "dose_mg": "Dose (mg)",
    "dose_micrograms": "Dose (micrograms)",
    "route": "Route",
    "when": "When",
    "steps": "Steps",
    "version_rule": "Version rule",
    "urine_pregnancy_test_on": "Urine pregnancy test on",
    "urine_pregnancy_test_note": "Urine pregnancy test",
    # values
    "intrauterine": "intrauterine",
    "ectopic": "ectopic",
    "unknown": "unknown",
    "report_not_read": "scan done, report not read",
    "transvaginal": "transvaginal",
    "transabdominal": "transabdominal",
    "mild": "mild",
    "significant": "significant",
    "negative": "RhD negative",
    "positive": "RhD positive",
    "missed": "missed",
    "incomplete": "incomplete",
    "complete": "complete",
}

# Plurals that adding an "s" gets wrong.
PLURALS = {"capsule": "capsules", "pessary": "pessaries", "tablet": "tablets"}

UNLABELLED: set[str] = set()

# A snake_case token (two or more words joined by "_"), as engine sentences carry them.
TOKEN = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def label(token: Any) -> str:
    """The label of an engine token or contract field, first letter as in the table."""
    key = str(token)
    if key in LABELS:
        return LABELS[key]
    if "." in key and key.rsplit(".", 1)[1] in LABELS:  # scans.fetal_heartbeat: the latest scan's
        return LABELS[key.rsplit(".", 1)[1]] + " on the latest scan"
    UNLABELLED.add(key)
    return key.replace("_", " ")


def title(token: Any) -> str:
    """A label with a capital first letter (headings, list terms)."""
    text = label(token)
    if text[1:2].isupper():  # hCG, mL: keep as written
        return text
    return text[:1].upper() + text[1:]


def plural(unit: str) -> str:
    return PLURALS.get(unit, unit + "s")


def in_text(sentence: Any) -> str:
    """An engine sentence with any token in it replaced by its label."""
    return TOKEN.sub(lambda m: label(m.group(0)), str(sentence))


def uk_date(value: Any) -> str:
    """An ISO date (or date) as a UK date: 1 December 2026. Anything else is left as it is."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def number_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def check_message(scope: str, field: str) -> re.Pattern[str]:
    """The message of the model's one cross-field check on ``field`` (`CROSS_FIELD_CHECKS`), as
    a pattern matching it whole: read from the check, so the words here cannot drift from it."""
    found = [c.message for c in CROSS_FIELD_CHECKS if (c.scope, c.field) == (scope, field)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} cross-field checks of {scope} field {field}, not one")
    return re.compile("^" + re.escape(found[0]) + "$")


# Contract messages (pydantic's or the episode's own) in clinical words, first match wins.
# {0}, {1}: the message's groups, each a label when it names a field.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"valid integer|int_type|must be a whole"), "Enter a whole number, like 2"),
    (re.compile(r"must be a number|valid number|float_type"), "Enter a number, like 9.5"),
    (re.compile(r"valid date|date written|input is too short|invalid"), "Enter a real date"),
    (re.compile(r"greater than or equal to (\S+)"), "Enter a number of {0} or more"),
    (re.compile(r"less than or equal to (\S+)"), "Enter a number no larger than {0}"),
    (re.compile(r"^is required$"), "Enter this: it is needed"),
    (re.compile(r"^is after (\w+)$"), "Must not be after the {0}"),
    (re.compile(r"^is before the (\w+)$"), "Must not be before the {0}"),
    (re.compile(r"^is more than (\d+) weeks before (\w+)$"), "Must be within {0} weeks of the {1}"),
    (check_message("scan", "fetal_pole"), "Record a fetal pole when a heartbeat is seen"),
    (check_message("scan", "crl_mm"), "A crown-rump length needs a fetal pole"),
    (
        check_message("episode", "miscarriage_type"),
        "Give the type only when a miscarriage is diagnosed",
    ),
    (
        check_message("episode", "on_other_progestogen"),
        "With another progestogen, answer Unknown (or Yes) to Already taking progesterone: "
        "whether to offer progesterone beside it needs a clinician's review",
    ),
    (re.compile(r"Input should be"), "Choose one of the options"),
)


def clinical_message(message: str) -> str:
    """A contract error message in clinical words, without field tokens."""
    for pattern, words in _MESSAGES:
        match = pattern.search(message)
        if match:
            names = [LABELS.get(g, g) for g in match.groups()]
            return in_text(words.format(*names))
    text = in_text(message)
    return text[:1].upper() + text[1:]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def display(value: Any) -> str:
    """A value from the engine's output in words: unknown, yes/no, a UK date, or plain text."""
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str) and _ISO_DATE.match(value):
        return uk_date(value)
    if isinstance(value, str) and TOKEN.fullmatch(value):
        return label(value)
    return in_text(value)
