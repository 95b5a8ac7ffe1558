"""The audit's measures with their governance, read from measures.json (data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from earlypath.audit.measures import CATEGORIES

__all__ = ["Measure", "load_measures"]


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    headline: bool
    direction: str
    definition: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    recommendation: str
    why: str
    authored_by: str
    checked_by: str
    date_written: str
    review_by: str

    def governance(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "numerator": list(self.numerator),
            "denominator": list(self.denominator),
            "recommendation": self.recommendation,
            "why": self.why,
            "authored_by": self.authored_by,
            "checked_by": self.checked_by,
            "date_written": self.date_written,
            "review_by": self.review_by,
        }


@cache
def load_measures() -> tuple[Measure, ...]:
    """Every measure, headline first; each category it names must be a known adherence category."""
    text = (resources.files("earlypath.audit") / "measures.json").read_text(encoding="utf-8")
    out = []
    for item in json.loads(text)["measures"]:
        item = {
            **item,
            "numerator": tuple(item["numerator"]),
            "denominator": tuple(item["denominator"]),
        }
        unknown = set(item["numerator"] + item["denominator"]) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"measure {item['id']} names unknown categories {sorted(unknown)}")
        out.append(Measure(**item))
    return tuple(sorted(out, key=lambda m: not m.headline))
