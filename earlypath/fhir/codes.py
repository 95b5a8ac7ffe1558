"""The codes earlypath reads from FHIR, loaded from ``codes.json`` (data, not code).

`CodeSet.matches` answers "does this CodeableConcept carry one of these codes?"; the audit
developer can reuse the same sets through `load_codes()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class CodeSet:
    """A named set of (system, code) pairs, optionally with words matched in text/display."""

    name: str
    codes: frozenset[tuple[str, str]]
    words: tuple[str, ...] = ()
    at_least: dict[tuple[str, str], int] = field(default_factory=dict)

    def code_of(self, concept: Any) -> tuple[str, str] | None:
        """The first (system, code) of a CodeableConcept (dict or model) that is in the set."""
        for coding in _codings(concept):
            key = (str(coding.get("system") or ""), str(coding.get("code") or ""))
            if key in self.codes:
                return key
        return None

    def matches(self, concept: Any) -> bool:
        if self.code_of(concept) is not None:
            return True
        if not self.words:
            return False
        text = _texts(concept)
        return any(word in text for word in self.words)


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if dump else {}


def _codings(concept: Any) -> list[dict[str, Any]]:
    data = _as_dict(concept)
    if "coding" in data:
        return [c for c in data.get("coding") or [] if isinstance(c, dict)]
    if "code" in data and "system" in data:  # a bare Coding
        return [data]
    return []


def _texts(concept: Any) -> str:
    data = _as_dict(concept)
    parts = [str(data.get("text") or "")]
    parts += [str(c.get("display") or "") for c in _codings(data)]
    return " ".join(parts).lower()


@cache
def raw_codes() -> dict[str, Any]:
    """The parsed ``codes.json``."""
    text = (resources.files("earlypath.fhir") / "codes.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def load_codes() -> dict[str, CodeSet]:
    """Every code set in ``codes.json`` by name, with systems expanded to their URIs."""
    data = raw_codes()
    systems: dict[str, str] = data["systems"]
    out: dict[str, CodeSet] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or "codes" not in entry:
            continue
        codes = []
        at_least: dict[tuple[str, str], int] = {}
        for item in entry["codes"]:
            key = (systems.get(item["system"], item["system"]), item["code"])
            codes.append(key)
            if "at_least" in item:
                at_least[key] = int(item["at_least"])
        out[name] = CodeSet(name, frozenset(codes), tuple(entry.get("words", ())), at_least)
    for name in ("present", "absent"):
        items = data["presence"][name]
        out[name] = CodeSet(
            name, frozenset((systems.get(i["system"], i["system"]), i["code"]) for i in items)
        )
    return out


def code_set(name: str) -> CodeSet:
    return load_codes()[name]


def system_uri(short: str) -> str:
    return raw_codes()["systems"][short]


def status_list(name: str) -> frozenset[str]:
    return frozenset(raw_codes()[name])


def unit_factors() -> dict[str, float]:
    return dict(raw_codes()["crown_rump_length"]["units_to_mm"])
