"""The audit's measures with their governance, read from measures.json (data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any

from earlypath.audit.measures import CATEGORIES

__all__ = ["Governance", "Measure", "load_measures"]


@dataclass(frozen=True)
class Governance:
    """What a measure counts and who answers for it: its governance, as the summary and the
    report give it (in this order)."""

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
        """The governance as JSON (its lists as lists)."""
        values = {f.name: getattr(self, f.name) for f in fields(Governance)}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


@dataclass(frozen=True)
class Measure(Governance):
    """A measure: its name and which way is better, with its governance."""

    id: str
    title: str
    headline: bool
    direction: str


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
