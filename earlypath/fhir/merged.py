"""A CDS call's record and merged patient records (FHIR R4 ``Patient.link``).

The links are read by the one definition (`earlypath.records.definition.PATIENT_LINKS`, run by
the Python engine) and resolved once (`earlypath.records.merges`); this module says what they
mean for one call, whose patient is ``context.patientId``:

- her Patient is ``replaced-by`` another: this record must no longer be used. Nothing is decided
  from it; the card names the record in use (`MergedRecord.merged_into`);
- her Patient's links cannot be resolved (merged into two records, a cycle): nothing is decided;
- her Patient ``replaces`` others: their resources are hers (the prefetch scope accepts a
  reference to them, `earlypath.web.patient_scope`, only because her own Patient says so). When
  none of a merged record's resources came with the call, they are fetched from `fhirServer`
  by the same queries (`earlypath.web.prefetch.gather_merged`); without a server, or when a
  query fails, what it holds is unknown: nothing is decided, and the card names the record
  (`MergedRecord.not_sent`), never "none".

Nothing here logs: ids are patient data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from earlypath.fhir.mapping import flatten
from earlypath.records.definition import MERGE_LINKS
from earlypath.records.json_values import ref_id
from earlypath.records.merges import Merges, resolve
from earlypath.records.python import read_rows

__all__ = ["MergedRecord", "her_merges", "merged_ids", "merged_record"]


def her_merges(resources: Iterable[Any], patient_id: str) -> Merges:
    """The merges her own Patient's links say (other Patients' links are not hers to read)."""
    hers = [
        r
        for r in resources
        if isinstance(r, dict) and r.get("resourceType") == "Patient" and r.get("id") == patient_id
    ]
    if not hers or not any("link" in r for r in hers):
        return Merges()
    return resolve(read_rows(MERGE_LINKS, hers).tables["patient_links"])


def merged_ids(resources: Iterable[Any], patient_id: str) -> frozenset[str]:
    """The ids of the records merged into hers (her Patient ``replaces`` them)."""
    return frozenset(her_merges(resources, patient_id).merged_into(patient_id))


@dataclass(frozen=True)
class MergedRecord:
    """What her Patient's links say for this call; `blocked` when nothing may be decided."""

    merged_into: str | None = None  # the record in use, when hers was merged into it
    unresolved: str | None = None  # why her merge links cannot be resolved
    not_sent: list[str] = field(default_factory=list)  # merged records with nothing in the call

    @property
    def blocked(self) -> bool:
        return bool(self.merged_into or self.unresolved or self.not_sent)


def _referenced(resources: Iterable[Any]) -> set[str]:
    """The Patient ids the resources' subject / patient name (literal references)."""
    out: set[str] = set()
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") == "Patient":
            continue
        for name in ("subject", "patient"):
            reference = resource.get(name)
            if isinstance(reference, dict):
                named = ref_id(reference.get("reference"), "Patient")
                if named is not None:
                    out.add(named)
    return out


def _any_may_link(resources: list[Any]) -> bool:
    """Could any prefetched item hold a Patient with links (a Bundle may hold one)? One loop
    of the call's resources, with no call per resource (this runs on every call)."""
    for resource in resources:
        if type(resource) is dict:
            kind = resource.get("resourceType")
            if kind == "Bundle" or (kind == "Patient" and "link" in resource):
                return True
    return False


def merged_record(
    resources: list[dict[str, Any]], patient_id: str, looked_up: frozenset[str] = frozenset()
) -> MergedRecord:
    """What her record's merges mean for this call (`MergedRecord`); ``resources`` as the
    prefetch gives them (Bundles opened here). ``looked_up``: the merged records whose resources
    were fetched in full from the FHIR server (`earlypath.web.prefetch.gather_merged`), so that
    nothing under one of them means it holds nothing, not that it was not sent."""
    if not _any_may_link(resources):
        return MergedRecord()  # the usual call: her Patient has no link (one pass, no copy)
    resources = flatten(resources)
    merges = her_merges(resources, patient_id)
    if patient_id in merges.survivor:
        return MergedRecord(merged_into=merges.survivor[patient_id])
    if patient_id in merges.unresolved:
        return MergedRecord(unresolved=merges.unresolved[patient_id])
    merged = merges.merged_into(patient_id)
    if not merged:
        return MergedRecord()
    present = _referenced(resources)
    return MergedRecord(not_sent=[m for m in merged if m not in present and m not in looked_up])
