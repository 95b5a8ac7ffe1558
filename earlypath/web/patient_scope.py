"""Is every resource in a CDS call about the patient in `context.patientId`?

A record mix-up (a prefetch or a FHIR search that returned another woman's data, a draft order
written for someone else) must never be decided on: the call is refused. A resource is in scope
when its `subject` / `patient` reference names `Patient/<patientId>` (relative, absolute, with or
without `_history`, a `urn:uuid:` entry of the same Bundle holding that Patient, or
`urn:uuid:<patientId>` as generators such as Synthea write it), and a Patient
resource is in scope when its id is the patientId. Resources with neither field (a Medication, a
Practitioner, an OperationOutcome) carry no patient and are allowed. A reference that cannot be
tied to this patient (another resource type, only an identifier or a display text) is refused:
refuse rather than guess.
"""

from __future__ import annotations

import re
from typing import Any

PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$")
HISTORY = re.compile(r"/_history/[A-Za-z0-9\-.]{1,64}$")
PATIENT_FIELDS = ("subject", "patient")


def referenced_patient_id(reference: Any) -> str | None:
    """The Patient id a literal reference names (`Patient/x`, `https://h/fhir/Patient/x/_history/2`)."""
    if not isinstance(reference, str):
        return None
    match = PATIENT_REFERENCE.search(HISTORY.sub("", reference.strip()))
    return match.group(1) if match else None


def _entries(item: dict[str, Any]) -> list[dict[str, Any]]:
    entries = item.get("entry")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _walk(item: Any, full_urls: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources in `item` (Bundles opened, nested too); records each entry's fullUrl."""
    if isinstance(item, list):
        return [r for x in item for r in _walk(x, full_urls)]
    if not isinstance(item, dict):
        return []
    if item.get("resourceType") != "Bundle":
        return [item]
    out = []
    for entry in _entries(item):
        resource = entry.get("resource")
        if isinstance(entry.get("fullUrl"), str) and isinstance(resource, dict):
            full_urls[entry["fullUrl"]] = resource
        out.extend(_walk(resource, full_urls))
    return out


def _is_patient(reference: Any, patient_id: str, full_urls: dict[str, dict[str, Any]]) -> bool:
    if not isinstance(reference, dict):
        return False
    literal = reference.get("reference")
    if isinstance(literal, str) and literal in full_urls:
        target = full_urls[literal]
        return target.get("resourceType") == "Patient" and target.get("id") == patient_id
    if literal == "Patient/" + patient_id:
        return True  # the usual relative reference, without the regular expressions below
    if isinstance(literal, str) and literal.startswith("urn:uuid:"):
        # Synthea and other generators give a Patient the id of its urn:uuid fullUrl.
        return literal.removeprefix("urn:uuid:") == patient_id
    return referenced_patient_id(literal) == patient_id


def out_of_scope(data: Any, patient_id: str) -> bool:
    """Does `data` (resources, Bundles, lists of them) hold anything not about `patient_id`?"""
    full_urls: dict[str, dict[str, Any]] = {}
    resources = _walk(data, full_urls)
    for resource in resources:
        if resource.get("resourceType") == "Patient":
            if resource.get("id") != patient_id:
                return True
            continue
        for name in PATIENT_FIELDS:
            # null is absent (some serialisers write every field); anything else must match
            if resource.get(name) is not None and not _is_patient(
                resource[name], patient_id, full_urls
            ):
                return True
    return False
