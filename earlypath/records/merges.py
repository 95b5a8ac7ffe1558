"""Which Patient records are one woman: merged records (FHIR R4 ``Patient.link``) resolved once.

EHRs and bulk exports merge duplicate patient records; resources written before the merge often
still name the old Patient. FHIR R4 says how in ``Patient.link.type``:

- ``replaced-by``: this record must no longer be used, ``other`` is the one that is;
- ``replaces``: this is the record in use, ``other`` was merged into it (to be consulted for what
  it references);
- ``refer`` (valid, but not the main source) and ``seealso`` (possibly the same person): they do
  not say it is the same woman, so nothing is merged for them; they are counted as links not
  used.

Either side's link is enough (A ``replaced-by`` B, or B ``replaces`` A: A was merged into B), and
merges chain (A into B, B into C: A and B are C's). A record said to be merged into two different
records, or a chain that comes back on itself (a cycle), cannot be resolved: nothing of it is
merged, and every record of those links is named (`Merges.unresolved`), never one picked.

The rows come from the one definition (`earlypath.records.definition.PATIENT_LINKS`, run by
either engine); this is the one resolution of them, used by the audit (a map table joined where
rows are tied to an encounter's patient, `earlypath.records.ibis_compile`) and by the CDS service
(`earlypath.fhir.merged`). Nothing here logs: ids are patient data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONFLICT_MESSAGE",
    "CYCLE_MESSAGE",
    "MERGING_LINKS",
    "Merges",
    "REPLACED_BY",
    "REPLACES",
    "resolve",
]

REPLACED_BY = "replaced-by"
REPLACES = "replaces"
MERGING_LINKS = (REPLACED_BY, REPLACES)

CONFLICT_MESSAGE = (
    "is linked as merged into two different Patient records (Patient.link): which is hers "
    "cannot be told, so no record was merged"
)
CYCLE_MESSAGE = (
    "has merge links (Patient.link) that form a cycle: the surviving record cannot be told, "
    "so no record was merged"
)


@dataclass(frozen=True)
class Merges:
    """``survivor``: each merged-away Patient id and the id of the record in use (ids merged
    into nobody are not listed); ``unresolved``: each id in a merge that cannot be resolved and
    why (`CONFLICT_MESSAGE`, `CYCLE_MESSAGE`); ``not_used``: the links that merge nothing
    (refer, seealso, another type, no Patient named), counted by type."""

    survivor: dict[str, str] = field(default_factory=dict)
    unresolved: dict[str, str] = field(default_factory=dict)
    not_used: dict[str, int] = field(default_factory=dict)

    def merged_into(self, patient: str) -> list[str]:
        """The ids merged into ``patient`` (directly or through a chain), sorted."""
        return sorted(old for old, new in self.survivor.items() if new == patient)


def _edges(rows: Iterable[Mapping[str, Any]], not_used: dict[str, int]) -> dict[str, set[str]]:
    """Merged-away id -> the ids it was merged into, from either side's link."""
    into: dict[str, set[str]] = {}
    for row in rows:
        patient, other, kind = row.get("patient"), row.get("other"), row.get("kind")
        if kind not in MERGING_LINKS or not patient or not other:
            label = kind if isinstance(kind, str) else "(no type)"
            not_used[label] = not_used.get(label, 0) + 1
            continue
        old, new = (patient, other) if kind == REPLACED_BY else (other, patient)
        into.setdefault(old, set()).add(new)
    return into


def resolve(rows: Iterable[Mapping[str, Any]]) -> Merges:
    """The merges the link rows (``patient``, ``other``, ``kind``: `PATIENT_LINKS`) say."""
    not_used: dict[str, int] = {}
    into = _edges(rows, not_used)
    survivor: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    for start in sorted(into):
        path, at, why = [start], start, None
        while at in into:
            targets = into[at]
            if len(targets) > 1:
                why = CONFLICT_MESSAGE
                break
            (at,) = targets
            if at in path:
                why = CYCLE_MESSAGE
                break
            path.append(at)
        if why is None:
            survivor[start] = at
            continue
        # every record of the links that cannot be resolved is named: its history may be split
        for old in path:
            unresolved.setdefault(old, why)
            for new in into.get(old, ()):
                unresolved.setdefault(new, why)
    # a record named by a link that cannot be resolved keeps a merge of its own that can be
    # (its chain is well defined); it is still named, as its history may be split
    return Merges(survivor, unresolved, dict(sorted(not_used.items())))
