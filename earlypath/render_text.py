"""A plain-text rendering of an assessment, for a person at a terminal."""

from __future__ import annotations

from typing import Any

from earlypath.guideline.vocabulary import OTHER_DECISIONS_KEY, SECTION_OUTPUT_KEYS
from earlypath.guideline.wording import decision_words, value_words

_DECISION_WORDS = {
    "offer": "OFFER progesterone",
    "continue": "CONTINUE progesterone",
    "stop": "STOP progesterone",
    "do_not_offer": "Do NOT offer progesterone",
    "needs_information": "NEEDS INFORMATION before a decision",
}


def render_text(assessment: dict[str, Any]) -> str:
    g = assessment["guideline"]
    p = assessment["progesterone"]
    lines = [
        f"Assessed on {assessment['assessed_on']} against {g['guideline']} ({g['version']}, "
        f"{g['chosen_because']})",
    ]
    gest = assessment.get("gestation")
    if gest:
        lines.append(
            f"Gestation: {gest['display']} ({gest['days']} days, dated by "
            f"{value_words('basis', gest['basis'])})"
        )
    else:
        lines.append("Gestation: unknown")
    recs = ", ".join(p["recommendations"]) or "none"
    lines.append(f"Progesterone: {_DECISION_WORDS[p['decision']]}  [NG126 {g['version']}: {recs}]")
    lines += [f"  - {r}" for r in p["reasons"]]
    if p["missing"]:
        lines.append("Missing: " + ", ".join(p["missing"]))
    for advice in p["advice"]:
        lines.append(f"Advice ({advice['recommendation']}): {advice['text']}")
    plan = p.get("plan")
    if plan:
        prod = plan["product"]
        lines += [
            f"Plan: {plan['dose_mg']} mg {plan['route']} {plan['frequency']}, "
            f"{plan['start_on']} to {plan['stop_on']} ({plan['days_to_stop_date']} days)",
            f"  {prod['name']}: {prod['units_per_dose']} {prod['unit']}(s) a dose; "
            f"{plan['units_first_14_days']} for 14 days, {plan['units_to_stop_date']} to the stop date",
            f"  {plan['off_label']}",
        ]
        lines += [f"  Note: {n}" for n in plan["product_notes"]]
    lines += _pathway_lines(assessment)
    return "\n".join(lines)


_SECTIONS = (
    ("referral", "Referral"),
    ("scan_assessment", "Scan"),
    ("hcg_assessment", "hCG"),
    ("ectopic_management", "Ectopic management"),
    ("miscarriage_management", "Miscarriage management"),
    ("anti_d", "Anti-D"),
)
# Shown in their own way (or not at all: the trace and citations are for the JSON reader).
_SHOWN_APART = {
    *SECTION_OUTPUT_KEYS,
    OTHER_DECISIONS_KEY,
    "recommendation",
    "follow_up",
    "medical_regimen",
    "overdue",
}


def _pathway_lines(assessment: dict[str, Any]) -> list[str]:
    """Every pathway section: its decision and citations, what to do, why, what is missing,
    the advice, and every result it gives (options, regimen, dates, overdue steps)."""
    version = assessment["guideline"]["version"]
    lines: list[str] = []
    for key, title in _SECTIONS:
        section = assessment.get(key)
        if not section:
            continue
        decision = section["decision"]
        if decision == "not_applicable":
            why = "; ".join(section.get("reasons") or [])
            lines.append(f"{title}: not applicable" + (f" ({why})" if why else ""))
            continue
        recs = ", ".join(section.get("recommendations") or []) or "no numbered recommendation"
        words = decision_words(key, decision)
        lines.append(f"{title}: {words}  [{decision}; NG126 {version}: {recs}]")
        if section.get("recommendation"):
            lines.append(f"  do: {section['recommendation']}")
        lines += [f"  - {reason}" for reason in section.get("reasons") or []]
        if section.get("missing"):
            lines.append("  missing: " + ", ".join(section["missing"]))
        for name, value in section.items():
            if name in _SHOWN_APART or value in (None, [], {}):
                continue
            lines += _value_lines(name, value, "  ")
        for name, other in (section.get("other_decisions") or {}).items():
            lines.append(f"  {_label(name)}: {decision_words(name, other['decision'])}")
        lines += _regimen_lines(section.get("medical_regimen"))
        for kind, steps in (section.get("follow_up") or {}).items():
            lines.append(f"  follow-up if {kind}:")
            lines += [f"    {_step(step)}" for step in steps]
        for item in section.get("overdue") or []:
            lines.append(
                f"  OVERDUE: {item['what']} was due {item['was_due']}: do it now "
                f"(shown on {assessment['assessed_on']})"
            )
        for advice in section.get("advice") or []:
            number = advice.get("recommendation")
            lines.append(f"  advice{f' ({number})' if number else ''}: {advice['text']}")
    return lines


def _label(name: str) -> str:
    return name.replace("_", " ")


def _value_lines(name: str, value: Any, indent: str) -> list[str]:
    """A section result as text: scalars on one line, lists as bullets, mappings indented."""
    if isinstance(value, dict):
        out = [f"{indent}{_label(name)}:"]
        for key, item in value.items():
            if item not in (None, [], {}):
                out += _value_lines(key, item, indent + "  ")
        return out
    if isinstance(value, list):
        if all(isinstance(item, str | int | float) for item in value):
            value = [value_words(name, item) if isinstance(item, str) else item for item in value]
            if sum(len(str(item)) for item in value) <= 60:
                return [f"{indent}{_label(name)}: {', '.join(str(item) for item in value)}"]
            return [f"{indent}{_label(name)}:"] + [f"{indent}  - {item}" for item in value]
        out = [f"{indent}{_label(name)}:"]
        for item in value:
            out += _value_lines("-", item, indent + "  ")
        return out
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, str):
        value = value_words(name, value)
    return [f"{indent}{_label(name)}: {value}"]


def _regimen_lines(regimen: dict[str, Any] | None) -> list[str]:
    if not regimen:
        return []
    out = [f"  medical regimen ({regimen['key']}; {regimen['version_rule']}):"]
    for step in regimen["steps"]:
        dose = (
            f"{step['dose_mg']} mg"
            if "dose_mg" in step
            else f"{step['dose_micrograms']} micrograms"
        )
        out.append(f"    {step['when']}: {step['drug']} {dose}, {step['route']}")
    return out


def _step(step: dict[str, Any]) -> str:
    day = f"day {step['day']}: " if step.get("day") is not None else ""
    on = f"{step['on']} " if step.get("on") else ""
    late = (
        f"  OVERDUE (was due {step['was_due']}): do it now" if step.get("overdue") is True else ""
    )
    return f"{day}{on}{step['action']}{late}"
