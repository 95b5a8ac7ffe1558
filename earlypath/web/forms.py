"""HTML form answers -> an episode (the input contract). Type conversion only, no rules.

Values that do not convert are passed through unchanged so that the contract (pydantic) names
the field and says what is wrong. "Unknown" and "I don't know" always become None, never False.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs

_INT = re.compile(r"^\s*\d+\s*$")
_FLOAT = re.compile(r"^\s*\d+(\.\d+)?\s*$")


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


# Form field (HTML name) for each contract field path, to link an error to its input.
CLINICIAN_FIELDS = {
    "assessed_on": "assessed_on",
    "guideline_version": "guideline_version",
    "previous_miscarriages": "previous_miscarriages",
    "vaginal_bleeding": "vaginal_bleeding",
    "lmp": "lmp",
    "scans[0].date": "scan_date",
    "scans[0].route": "scan_route",
    "scans[0].location": "scan_location",
    "scans[0].fetal_pole": "fetal_pole",
    "scans[0].fetal_heartbeat": "fetal_heartbeat",
    "scans[0].crl_mm": "crl_mm",
    "scans[0].msd_mm": "msd_mm",
    "miscarriage_diagnosed": "miscarriage_diagnosed",
    "on_progesterone": "on_progesterone",
    "allergies": "allergies",
}


def clinician_defaults(today: dt.date) -> dict[str, str]:
    """Prefilled values: dates only (today; LMP 7 weeks ago); clinical facts start unknown."""
    return {
        "assessed_on": today.isoformat(),
        "guideline_version": "",
        "previous_miscarriages": "",
        "vaginal_bleeding": "unknown",
        "lmp": (today - dt.timedelta(weeks=7)).isoformat(),
        "scan_date": today.isoformat(),
        "scan_route": "transvaginal",
        "scan_location": "intrauterine",
        "fetal_pole": "unknown",
        "fetal_heartbeat": "unknown",
        "crl_mm": "",
        "msd_mm": "",
        "miscarriage_diagnosed": "no",
        "on_progesterone": "no",
        "allergies": "",
        "stop_at": "16+0",
    }


def clinician_episode(form: dict[str, str]) -> dict[str, Any]:
    """The clinician form as an episode dict (one scan: the latest)."""
    episode: dict[str, Any] = {"assessed_on": _text(form, "assessed_on") or None}
    if _text(form, "guideline_version"):
        episode["guideline_version"] = _text(form, "guideline_version")
    if _text(form, "previous_miscarriages"):
        episode["previous_miscarriages"] = _int(_text(form, "previous_miscarriages"))
    episode["vaginal_bleeding"] = _tristate(_text(form, "vaginal_bleeding"))
    if _text(form, "lmp"):
        episode["lmp"] = _text(form, "lmp")
    location = _text(form, "scan_location")
    if location and location != "none":
        scan: dict[str, Any] = {
            "date": _text(form, "scan_date") or None,
            "route": _text(form, "scan_route") or "transvaginal",
            "location": location,
            "fetal_pole": _tristate(_text(form, "fetal_pole")),
            "fetal_heartbeat": _tristate(_text(form, "fetal_heartbeat")),
        }
        for name in ("crl_mm", "msd_mm"):
            if _text(form, name):
                scan[name] = _float(_text(form, name))
        episode["scans"] = [scan]
    else:
        episode["scans"] = []
    episode["miscarriage_diagnosed"] = _text(form, "miscarriage_diagnosed") == "yes"
    episode["on_progesterone"] = _text(form, "on_progesterone") == "yes"
    allergies = [a.strip() for a in _text(form, "allergies").split(",") if a.strip()]
    episode["allergies"] = allergies
    return episode


# --- the page for women -----------------------------------------------------------------------

SCAN_ANSWERS = {
    "womb": "intrauterine",
    "outside": "ectopic",
    "unclear": "unknown",
    "none": None,
    "dont_know": None,
}
MISCARRIAGE_ANSWERS = {"0": 0, "1": 1, "2": 2, "3": 3, "dont_know": None}
CHECK_FIELDS = {
    "lmp": "period",
    "previous_miscarriages": "miscarriages",
    "vaginal_bleeding": "bleeding",
    "scans[0].location": "scan",
}


def check_episode(form: dict[str, str], today: dt.date) -> dict[str, Any]:
    """A woman's answers as an episode. "I don't know" is unknown (None), never "no"."""
    episode: dict[str, Any] = {"assessed_on": today.isoformat()}
    location = SCAN_ANSWERS.get(_text(form, "scan"))
    # The scan's own date is not asked; only where it showed the pregnancy is used.
    episode["scans"] = [{"date": today.isoformat(), "location": location}] if location else []
    episode["vaginal_bleeding"] = _tristate(_text(form, "bleeding"))
    episode["previous_miscarriages"] = MISCARRIAGE_ANSWERS.get(_text(form, "miscarriages"))
    if _text(form, "period"):
        episode["lmp"] = _text(form, "period")
    return episode
