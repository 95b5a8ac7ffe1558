"""A plain-text rendering of an assessment, for a person at a terminal."""

from __future__ import annotations

from typing import Any

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
            f"Gestation: {gest['display']} ({gest['days']} days, dated by {gest['basis']})"
        )
    else:
        lines.append("Gestation: unknown")
    recs = ", ".join(p["recommendations"]) or "none"
    lines.append(f"Progesterone: {_DECISION_WORDS[p['decision']]}  [NG126 {recs}]")
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
# Keys every section has; the rest are the section's own results, shown when known.
_COMMON = {"decision", "recommendations", "citations", "reasons", "missing", "advice", "trace"}


def _pathway_lines(assessment: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, title in _SECTIONS:
        section = assessment.get(key)
        if not section or section["decision"] == "not_applicable":
            continue
        recs = ", ".join(section.get("recommendations") or []) or "none"
        lines.append(f"{title}: {section['decision']}  [NG126 {recs}]")
        for name, value in section.items():
            if name in _COMMON or name == "other_decisions" or value in (None, [], {}):
                continue
            if isinstance(value, str | int | float):
                lines.append(f"  {name.replace('_', ' ')}: {value}")
        if section.get("missing"):
            lines.append("  missing: " + ", ".join(section["missing"]))
    return lines
