"""HTML form answers -> an episode (the input contract). Type conversion only, no rules.

The clinician form is drawn from one table, `GROUPS`: one `FormField` a line, in the order a
clinician takes a history. A new contract field is one line here. Values that do not convert are
passed through unchanged so that the contract (pydantic) names the field and says what is wrong.
"Unknown" and "I don't know" always become None, never False.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

_INT = re.compile(r"^\s*\d+\s*$")
_FLOAT = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_ROW = re.compile(r"^([a-z_]+)-(\d+)-([a-z_]+)$")

Kind = Literal["date", "datetime", "whole", "decimal", "yes_no_unknown", "yes_no", "choice", "list"]
# Answers that leave a yes/no fact unknown. For a choice only "" is blank: "unknown" is a real
# scan location (a pregnancy of unknown location).
BLANK = ("", "unknown")
MAX_ROWS = 12


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as {name: last value}."""
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def _text(form: dict[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _int(value: str) -> Any:
    return int(value) if _INT.match(value) else value


def _float(value: str) -> Any:
    return float(value) if _FLOAT.match(value) else value


def _tristate(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@dataclass(frozen=True)
class FormField:
    """One input of the clinician form for one contract field (``name``: its key in the contract
    or, inside a repeated row, in the row's object)."""

    name: str
    kind: Kind
    label: str
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    default: str = ""
    # False for a field with a default (scan route) that alone does not make a row worth sending.
    fills_row: bool = True

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        if self.options:
            return self.options
        return {"yes_no": YES_NO, "yes_no_unknown": YES_NO_UNKNOWN}.get(self.kind, ())

    def is_blank(self, raw: str) -> bool:
        value = raw.strip()
        return value in BLANK if self.kind == "yes_no_unknown" else value == ""

    def convert(self, raw: str) -> Any:
        value = raw.strip()
        if self.kind == "yes_no":
            return value == "yes"
        if self.kind == "yes_no_unknown":
            return _tristate(value)
        if value == "":
            return [] if self.kind == "list" else None
        if self.kind == "whole":
            return _int(value)
        if self.kind == "decimal":
            return _float(value)
        if self.kind == "list":
            return [item.strip() for item in value.split(",") if item.strip()]
        return value


@dataclass(frozen=True)
class Repeat:
    """Rows of a contract list (scans, hCG results): HTML names ``{key}-{row}-{field}``."""

    key: str
    row_label: str
    fields: tuple[FormField, ...]
    min_rows: int
    add_label: str


@dataclass(frozen=True)
class Group:
    key: str
    legend: str
    fields: tuple[FormField, ...] = ()
    repeat: Repeat | None = None
    hint: str = ""
    after: tuple[FormField, ...] = field(default_factory=tuple)


YES_NO_UNKNOWN = (("yes", "Yes"), ("no", "No"), ("unknown", "Unknown"))
YES_NO = (("yes", "Yes"), ("no", "No"))

SCAN_FIELDS = (
    FormField("date", "date", "Scan date"),
    FormField(
        "location",
        "choice",
        "Where the scan showed the pregnancy",
        options=(
            ("", "Choose"),
            ("intrauterine", "Intrauterine"),
            ("ectopic", "Ectopic"),
            ("unknown", "Location unknown (PUL)"),
            # not a PUL: the sections ask for the report to be read (stop 25)
            ("report_not_read", "Scan done, report not read"),
        ),
    ),
    FormField(
        "route",
        "choice",
        "Scan route",
        options=(("transvaginal", "Transvaginal"), ("transabdominal", "Transabdominal")),
        default="transvaginal",
        fills_row=False,
    ),
    FormField("fetal_pole", "yes_no_unknown", "Fetal pole seen", default="unknown"),
    FormField("fetal_heartbeat", "yes_no_unknown", "Fetal heartbeat seen", default="unknown"),
    FormField("crl_mm", "decimal", "Crown-rump length", unit="mm"),
    FormField(
        "crl_verified",
        "yes_no",
        "Crown-rump length is a final result",
        hint="No: a preliminary result. It does not date the pregnancy; it still counts for "
        "viability.",
        default="yes",
        fills_row=False,
    ),
    FormField("msd_mm", "decimal", "Mean sac diameter", unit="mm"),
)

HCG_FIELDS = (
    FormField("taken_at", "datetime", "Date and time the blood was taken"),
    FormField("iu_per_l", "decimal", "Serum hCG", unit="IU/L"),
)

# The clinician form, in the order a clinician takes a history. One line per contract field.
GROUPS: tuple[Group, ...] = (
    Group(
        "assessment",
        "This assessment",
        (
            FormField("assessed_on", "date", "Date of assessment"),
            FormField("guideline_version", "choice", "NG126 version"),
        ),
    ),
    Group(
        "presentation",
        "Symptoms and observations now",
        (
            FormField(
                "vaginal_bleeding",
                "yes_no_unknown",
                "Vaginal bleeding in this pregnancy",
                default="unknown",
            ),
            FormField(
                "pain",
                "choice",
                "Abdominal or pelvic pain",
                options=(
                    ("none", "None"),
                    ("mild", "Mild"),
                    ("significant", "Significant"),
                    ("", "Unknown"),
                ),
            ),
            FormField(
                "haemodynamically_unstable",
                "yes_no_unknown",
                "Haemodynamically unstable",
                options=(
                    ("yes", "Yes, unstable"),
                    ("no", "No, stable"),
                    ("unknown", "Not assessed"),
                ),
                default="unknown",
            ),
            FormField(
                "heavy_bleeding",
                "yes_no_unknown",
                "Significant concern about the amount of bleeding",
                hint="As NG126 1.3 asks. Leave unknown until it is assessed.",
                default="unknown",
            ),
        ),
    ),
    Group(
        "history",
        "History",
        (
            FormField(
                "lmp",
                "date",
                "First day of last menstrual period (LMP)",
                hint="Leave empty if not known. A crown-rump length dates the pregnancy instead.",
            ),
            FormField(
                "previous_miscarriages",
                "whole",
                "Number of previous miscarriages",
                hint="Leave empty if not known.",
            ),
            FormField(
                "previous_ectopic",
                "yes_no_unknown",
                "Previous ectopic pregnancy",
                hint="A risk factor for ectopic pregnancy (NG126 1.3).",
                default="unknown",
            ),
            FormField(
                "on_progesterone",
                "yes_no_unknown",
                "Already taking progesterone",
                hint="Unknown if her medicines are not known, or if she takes another progestogen.",
                default="no",
            ),
            FormField(
                "on_other_progestogen",
                "yes_no",
                "Taking another progestogen",
                hint="Dydrogesterone, norethisterone, medroxyprogesterone or hydroxyprogesterone "
                "caproate: not NG126's progesterone (1.5.2).",
                default="no",
            ),
            FormField(
                "on_recommended_progesterone",
                "yes_no_unknown",
                "Her progesterone is vaginal micronised 400 mg twice daily (NG126 1.5.2)",
                hint="Only if she is already taking progesterone.",
                default="unknown",
            ),
            FormField(
                "allergies",
                "list",
                "Allergies",
                hint="Separate with commas, for example: peanut, penicillin.",
            ),
        ),
    ),
    Group(
        "scans",
        "Ultrasound scans",
        repeat=Repeat("scans", "Scan", SCAN_FIELDS, 1, "Add another scan"),
        hint="Leave a row empty if there was no scan. The latest scan describes the pregnancy now.",
        after=(
            FormField(
                "adnexal_mass_mm",
                "decimal",
                "Size of an ectopic adnexal mass",
                unit="mm",
                hint="Ectopic pregnancy only. Leave empty if not measured.",
            ),
            FormField(
                "ectopic_ruptured",
                "yes_no_unknown",
                "Ectopic pregnancy ruptured",
                hint="Ectopic pregnancy only. Leave unknown if not known.",
                default="unknown",
            ),
            FormField(
                "second_opinion_no_heartbeat",
                "yes_no",
                "Second opinion agrees: no heartbeat on the latest scan",
                hint="Answer yes only when a second opinion on viability has been obtained.",
                default="no",
            ),
        ),
    ),
    Group(
        "bloods",
        "Blood tests",
        repeat=Repeat("hcg", "hCG result", HCG_FIELDS, 2, "Add another hCG result"),
        hint="Serum hCG results with the time the blood was taken. Leave empty if none.",
        after=(
            FormField(
                "rhesus_d",
                "choice",
                "RhD group",
                options=(
                    ("negative", "RhD negative"),
                    ("positive", "RhD positive"),
                    ("", "Unknown"),
                ),
            ),
        ),
    ),
    Group(
        "diagnosis",
        "Diagnosis and management",
        (
            FormField(
                "miscarriage_diagnosed",
                "yes_no",
                "Miscarriage diagnosed in this pregnancy",
                default="no",
            ),
            FormField(
                "miscarriage_type",
                "choice",
                "Type of miscarriage",
                options=(
                    ("missed", "Missed"),
                    ("incomplete", "Incomplete"),
                    ("complete", "Complete"),
                    ("", "Unknown or none"),
                ),
            ),
            FormField(
                "management",
                "choice",
                "Management chosen (miscarriage or ectopic)",
                options=(
                    ("expectant", "Expectant"),
                    ("medical", "Medical"),
                    ("surgical", "Surgical"),
                    ("", "Not chosen yet"),
                ),
            ),
            FormField(
                "able_to_return_for_follow_up",
                "yes_no_unknown",
                "Able to return for follow-up",
                default="unknown",
            ),
        ),
    ),
)


def contract_paths() -> set[str]:
    """Every contract field the form has an input for (``scans[].date`` for a row's field)."""
    paths: set[str] = set()
    for group in GROUPS:
        paths |= {f.name for f in (*group.fields, *group.after)}
        if group.repeat:
            paths |= {f"{group.repeat.key}[].{f.name}" for f in group.repeat.fields}
    return paths


def clinician_defaults(today: dt.date) -> dict[str, str]:
    """Prefilled values: the date of assessment only; every clinical fact starts unknown."""
    values = {"assessed_on": today.isoformat(), "stop_at": "16+0"}
    for group in GROUPS:
        for f in (*group.fields, *group.after):
            values.setdefault(f.name, f.default)
    return values


def row_indexes(form: dict[str, str], key: str) -> list[int]:
    """The row numbers of a repeated group present in the form, in order."""
    return sorted(
        {int(m.group(2)) for name in form if (m := _ROW.match(name)) and m.group(1) == key}
    )


def _row_filled(form: dict[str, str], repeat: Repeat, row: int) -> bool:
    return any(
        not f.is_blank(form.get(f"{repeat.key}-{row}-{f.name}", ""))
        for f in repeat.fields
        if f.fills_row
    )


def rows_to_show(form: dict[str, str], repeat: Repeat, add: bool = False) -> list[int]:
    """Rows to draw: at least ``min_rows``, every filled row (none is ever dropped), and one more
    when asked (up to MAX_ROWS; beyond that the page offers the JSON box)."""
    filled = [i for i in row_indexes(form, repeat.key) if _row_filled(form, repeat, i)]
    rows = sorted(
        set(range(repeat.min_rows))
        | set(range(min(filled[-1] + 1, MAX_ROWS) if filled else 0))
        | set(filled)
    )
    if add and len(rows) < MAX_ROWS:
        rows.append(rows[-1] + 1 if rows else 0)
    return rows


@dataclass
class FormEpisode:
    """The episode made from the form, and the input id of each contract path (for errors)."""

    episode: dict[str, Any]
    inputs: dict[str, str]
    labels: dict[str, str]


def clinician_episode(form: dict[str, str]) -> FormEpisode:
    """The clinician form as an episode dict. Empty rows are left out."""
    episode: dict[str, Any] = {}
    inputs: dict[str, str] = {}
    labels: dict[str, str] = {}
    for group in GROUPS:
        for f in (*group.fields, *group.after):
            value = f.convert(form.get(f.name, f.default))
            if f.name == "guideline_version" and value is None:
                continue  # the version in force on the date of assessment
            episode[f.name] = value
            inputs[f.name], labels[f.name] = f.name, f.label
        if group.repeat:
            repeat = group.repeat
            items: list[dict[str, Any]] = []
            for row in row_indexes(form, repeat.key):
                if not _row_filled(form, repeat, row):
                    continue
                index = len(items)
                item: dict[str, Any] = {}
                for f in repeat.fields:
                    value = f.convert(form.get(f"{repeat.key}-{row}-{f.name}", f.default))
                    if value is not None or f.kind == "yes_no_unknown":
                        item[f.name] = value
                    path = f"{repeat.key}[{index}].{f.name}"
                    inputs[path] = f"{repeat.key}-{row}-{f.name}"
                    labels[path] = (
                        f"{repeat.row_label} {row + 1}: {f.label[:1].lower()}{f.label[1:]}"
                    )
                inputs[f"{repeat.key}[{index}]"] = f"{repeat.key}-{row}"
                labels[f"{repeat.key}[{index}]"] = f"{repeat.row_label} {row + 1}"
                items.append(item)
            episode[repeat.key] = items
            inputs[repeat.key], labels[repeat.key] = repeat.key, group.legend
    return FormEpisode(episode, inputs, labels)


# --- the page for women -----------------------------------------------------------------------

SCAN_ANSWERS = {
    "womb": "intrauterine",
    "outside": "ectopic",
    "unclear": "unknown",
    "none": None,
    "dont_know": None,
}
BLEEDING_ANSWERS = {"heavy": True, "yes": True, "no": False, "dont_know": None}
HEAVY_BLEEDING_ANSWERS = {"heavy": True, "yes": False, "no": False, "dont_know": None}
PAIN_ANSWERS = {"bad": "significant", "mild": "mild", "no": "none", "dont_know": None}
MISCARRIAGE_ANSWERS = {"0": 0, "1": 1, "2": 2, "3": 3, "dont_know": None}
# Contract path -> the question it comes from. Anything else (such as the scan's date, which she
# is not asked) is about her period date: it is the only date she gives.
CHECK_FIELDS = {
    "lmp": "period",
    "previous_miscarriages": "miscarriages",
    "vaginal_bleeding": "bleeding",
    "heavy_bleeding": "bleeding",
    "pain": "pain",
    "scans[0].location": "scan",
}


def check_episode(form: dict[str, str], today: dt.date) -> dict[str, Any]:
    """A woman's answers as an episode. "I don't know" is unknown (None), never "no"."""
    episode: dict[str, Any] = {"assessed_on": today.isoformat()}
    location = SCAN_ANSWERS.get(_text(form, "scan"))
    # The scan's own date is not asked; only where it showed the pregnancy is used.
    episode["scans"] = [{"date": today.isoformat(), "location": location}] if location else []
    episode["vaginal_bleeding"] = BLEEDING_ANSWERS.get(_text(form, "bleeding"))
    # Her "heavy bleeding" answer is NG126 1.3's significant concern about bleeding: the engine's
    # referral then says A&E. "Light bleeding" and "no" are not heavy; "I don't know" is unknown.
    episode["heavy_bleeding"] = HEAVY_BLEEDING_ANSWERS.get(_text(form, "bleeding"))
    episode["pain"] = PAIN_ANSWERS.get(_text(form, "pain"))
    episode["previous_miscarriages"] = MISCARRIAGE_ANSWERS.get(_text(form, "miscarriages"))
    if _text(form, "period"):
        episode["lmp"] = _text(form, "period")
    return episode
