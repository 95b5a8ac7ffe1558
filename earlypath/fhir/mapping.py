"""FHIR R4 resources -> an earlypath episode (the input contract), with what could not be used.

The reading itself is one definition (`earlypath.records.definition`) run by the Python records
engine (`earlypath.records.python`) over the plain JSON: this module only checks that each
resource is a JSON object with a text resourceType, and shapes the engine's steps into the
episode the assessment reads. No clinical rules live here.

Principles:
- Absent evidence is *unknown* (``None``), never *no*.
- A resource (or a value) that cannot be used is reported in ``problems``; the call goes on.
- Nothing here logs: the facts are patient data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from earlypath.errors import Problem
from earlypath.fhir.pregnancy import exclusion
from earlypath.records import python as records
from earlypath.records.definition import (
    HEARTBEAT_CONFLICT_MESSAGE,
    OBSERVATION_VALUES,
    PRIMITIVE_VALUES,
    READING,
)
from earlypath.records.json_values import as_day as _json_day

__all__ = [
    "HEARTBEAT_CONFLICT_MESSAGE",
    "OBSERVATION_VALUES",
    "PRIMITIVE_VALUES",
    "MappingResult",
    "OpenedResources",
    "as_day",
    "bundle_to_episode",
    "flatten",
    "has_pregnancy_context",
    "map_resources",
]


@dataclass
class MappingResult:
    """An episode built from FHIR data, the problems met, and which resources gave each fact."""

    episode: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    # What shows a current pregnancy (`earlypath.fhir.pregnancy`): "lmp" or resource refs.
    pregnancy_evidence: list[str] = field(default_factory=list)
    patient_gender: str | None = None  # Patient.gender, when a Patient is among the resources

    def note(self, fact: str, ref: str) -> None:
        self.evidence.setdefault(fact, [])
        if ref not in self.evidence[fact]:
            self.evidence[fact].append(ref)


class OpenedResources(list[dict[str, Any]]):
    """Resources already flat: each a JSON object (a dict) and none a Bundle, in order. The CDS
    prefetch's usual call comes out so (`web.prefetch.read_prefetched` opens its Bundles while
    it checks them); `flatten` then copies the list instead of walking it again."""


def flatten(resources: Any) -> list[dict[str, Any]]:
    """Resources from a list, a single resource or Bundles (searchset entries), in order."""
    return _flatten(resources, None)


def _flatten(resources: Any, problems: list[Problem] | None) -> list[dict[str, Any]]:
    """`flatten`, reporting what is not a resource (when ``problems`` is given).

    One pass with a stack of iterators (a Bundle's entries are read where the Bundle stands):
    linear in the record, and no recursion however deep Bundles nest.
    """
    if type(resources) is OpenedResources:
        return list(resources)  # nothing to open and nothing to report: as the walk gives it
    out: list[dict[str, Any]] = []
    stack = [iter(resources if isinstance(resources, list | tuple) else (resources,))]
    while stack:
        for item in stack[-1]:
            if not isinstance(item, dict):
                if problems is not None:
                    problems.append(Problem("Resource/(no id)", "is not a JSON object; ignored"))
                continue
            if item.get("resourceType") == "Bundle":
                listed = item.get("entry")
                listed = listed if isinstance(listed, list) else []  # not R4, but never a crash
                stack.append(
                    iter(
                        [
                            r
                            for e in listed
                            if isinstance(e, dict) and (r := e.get("resource")) is not None
                        ]
                    )
                )
                break  # its entries first, then the rest of this level
            out.append(item)
        else:
            stack.pop()
    return out


def as_day(value: Any) -> dt.date | None:
    """A FHIR date/dateTime as a day; partial dates (year, year-month) are not precise enough."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _json_day(value)


def _checked(resources: list[dict[str, Any]], problems: list[Problem]) -> list[dict[str, Any]]:
    """The resources the reading can name: a text resourceType (an id that is not text is
    reported and read as none)."""
    out = []
    for resource in resources:
        kind, rid = resource.get("resourceType"), resource.get("id")
        if not isinstance(kind, str):
            problems.append(Problem("Resource/(no id)", "has no resourceType (text); ignored"))
            continue
        if rid is not None and not isinstance(rid, str):
            problems.append(Problem(f"{kind}/(no id)", "id is not text; read as no id"))
        out.append(resource)
    return out


def _scan(day: dict[str, Any]) -> dict[str, Any]:
    """A scan of the episode from a day of the reading's ``scans``."""
    # the route as the record gives it: None (Unknown) where it names none, not the input
    # contract's transvaginal default (NG126 1.4.8/1.4.11 ask 14 days of a transabdominal scan)
    scan: dict[str, Any] = {
        "date": day["day"].isoformat(),
        "location": day["location"],
        "route": day["route"],
    }
    for name in ("crl_mm", "fetal_pole", "msd_mm", "fetal_heartbeat"):
        if day[name] is not None:
            scan[name] = day[name]
    if day["crl_unverified"]:  # a CRL not known to be verified: viability only, never dating
        scan["crl_verified"] = False
    return scan


def map_resources(
    resources: Any, assessed_on: dt.date, time_zone: str | None = None
) -> MappingResult:
    """Read FHIR R4 resources (dicts, Bundles allowed) into an episode as of ``assessed_on``,
    each instant dated in ``time_zone`` (None: `EARLYPATH_TIME_ZONE`; the service gives its
    setting, the zone of its today)."""
    problems: list[Problem] = []
    # the prefetch's opened resources are read as they are: `_checked` lists them anew, and
    # `_flatten` would only copy them first
    opened = resources if type(resources) is OpenedResources else _flatten(resources, problems)
    usable = _checked(opened, problems)
    reading = records.read(READING, usable, assessed_on, time_zone=time_zone)
    values = reading.values
    evidence = dict(reading.evidence)
    denied = evidence.pop("previous_miscarriages_denied", None)
    if values["previous_miscarriages"] == 0 and denied:
        evidence["previous_miscarriages"] = denied
    lmp = values["lmp"]
    result = MappingResult(
        episode={
            "assessed_on": assessed_on.isoformat(),
            "previous_miscarriages": values["previous_miscarriages"],
            "vaginal_bleeding": values["vaginal_bleeding"],
            "lmp": lmp.isoformat() if lmp else None,
            "scans": [_scan(day) for day in values["scans"]],
            "miscarriage_diagnosed": values["miscarriage_diagnosed"],
            # True or Unknown, never False: a record without one says nothing (stop 27)
            "previous_ectopic": values["previous_ectopic"],
            "on_progesterone": values["on_progesterone"],
            "on_recommended_progesterone": values["on_recommended_progesterone"],
            "on_other_progestogen": values["on_other_progestogen"],
            "allergies": values["allergies"],
        },
        problems=problems + reading.problems,
        evidence=evidence,
        pregnancy_evidence=(["lmp"] if lmp is not None else []) + values["pregnancy_signs"],
        patient_gender=values["gender"],
    )
    return result


def has_pregnancy_context(result: MappingResult) -> bool:
    """Does the record show a current pregnancy (and is it not a man's)?

    Used by the CDS patient-view service to stay silent on records with no pregnancy in them,
    rather than asking for missing facts on every chart. It is not a clinical rule: the engine
    still decides everything once there is a pregnancy to decide about. "Current pregnancy" is
    documented in `earlypath.fhir.pregnancy` and read by the one definition
    (`earlypath.records.definition`, step ``pregnancy_signs``).
    """
    return exclusion(result.patient_gender, bool(result.pregnancy_evidence)) is None


def bundle_to_episode(resources: Any, assessed_on: dt.date) -> tuple[dict[str, Any], list[Problem]]:
    """FHIR R4 resources (a list, a Bundle, or both) -> (episode dict, problems).

    The episode follows the input contract (`earlypath.parse_episode`); facts with no evidence
    are ``None`` (unknown). ``problems`` name each resource or value that could not be used.
    """
    result = map_resources(resources, assessed_on)
    return result.episode, result.problems
