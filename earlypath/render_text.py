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
    return "\n".join(lines)
