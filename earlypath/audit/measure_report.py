"""The audit's measures as one FHIR R4 MeasureReport (type summary), written beside summary.json.

Built from the summary (no row-level data): one group per measure with its numerator, denominator
and score, stratified by every breakdown of the audit (site, month, ...). Counts withheld by
disclosure control are left out of their stratum, never shown as 0.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

__all__ = ["MEASURE_URL", "measure_report"]

MEASURE_URL = "urn:earlypath:measure:ng126-progesterone-adherence"
MEASURE_SYSTEM = "urn:earlypath:measure"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"


def _period(summary: dict[str, Any]) -> dict[str, str]:
    """The months judged (first day of the first to last day of the last); the day the audit ran
    when no episode was judged."""
    months = sorted(summary.get("by_group", {}).get("month", {}))
    months = [m for m in months if len(m) == 7 and m[4] == "-"]
    if not months:
        day = summary["generated_at"][:10]
        return {"start": day, "end": day}
    year, month = (int(x) for x in months[-1].split("-"))
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return {"start": f"{months[0]}-01", "end": last.isoformat()}


def _populations(rate: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code in ("numerator", "denominator"):
        item: dict[str, Any] = {
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": code}]},
        }
        if rate.get(code) is not None:
            item["count"] = rate[code]
        out.append(item)
    return out


def _score(rate: dict[str, Any]) -> dict[str, Any]:
    if rate.get("rate") is None:
        return {}
    return {"measureScore": {"value": round(rate["rate"], 6), "unit": "proportion"}}


def measure_report(summary: dict[str, Any]) -> dict[str, Any]:
    """The MeasureReport as a JSON-ready dict (FHIR R4)."""
    groups = []
    for m in summary["measures"]:
        stratifiers = []
        for name, cells in summary["by_group"].items():
            strata = [
                {
                    "value": {"text": value},
                    "population": _populations(cell["measures"][m["id"]]),
                    **_score(cell["measures"][m["id"]]),
                }
                for value, cell in cells.items()
            ]
            if strata:
                stratifiers.append({"code": [{"text": name}], "stratum": strata})
        groups.append(
            {
                "code": {
                    "coding": [{"system": MEASURE_SYSTEM, "code": m["id"], "display": m["title"]}],
                    "text": f"{m['title']} ({m['direction']})",
                },
                "population": _populations(m["overall"]),
                **_score(m["overall"]),
                **({"stratifier": stratifiers} if stratifiers else {}),
            }
        )
    return {
        "resourceType": "MeasureReport",
        "id": "earlypath-audit",
        "status": "complete",
        "type": "summary",
        "measure": MEASURE_URL,
        "date": summary["generated_at"],
        "period": _period(summary),
        "group": groups,
    }
