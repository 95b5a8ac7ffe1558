"""Merged patient records as EHRs and bulk exports write them (our own synthetic data), for the
audit's and the CDS service's tests (`tests/audit/test_fhir_merged_patients.py`,
`tests/integration/test_cds_merged_patients.py`).

FHIR R4 Patient.link (link-type): the record merged away has ``active: false`` and a link
``replaced-by`` the record in use; the record in use may carry ``replaces`` back; either side
alone is enough. Resources written before the merge still name the old Patient: here her
previous miscarriage (the fact the progesterone offer needs) is under the old id, the rest of her
record under the new one.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fhir_exports import concatenated, encounter
from tests.integration.fhir_data import PATIENT_ID, eligible_resources

Export = dict[str, list[dict[str, Any]]]
BASE = "https://ehr.example.org/fhir"


def link(kind: str, other: str, absolute: bool = False) -> dict[str, Any]:
    reference = f"{BASE}/Patient/{other}" if absolute else f"Patient/{other}"
    return {"other": {"reference": reference}, "type": kind}


def patient(pid: str, *links: dict[str, Any], active: bool = True) -> dict[str, Any]:
    """A woman's Patient; a record no longer in use (``active`` False) carries a birth date
    typed wrongly (1980), so a test sees which record her age is read from."""
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "active": active,
        "gender": "female",
        "birthDate": "1990-05-01" if active else "1980-05-01",
    }
    if links:
        out["link"] = list(links)
    return out


def _as(resource: dict[str, Any], pid: str, prefix: str) -> dict[str, Any]:
    text = json.dumps(resource).replace(f"Patient/{PATIENT_ID}", f"Patient/{pid}")
    out: dict[str, Any] = json.loads(text)
    out["id"] = f"{prefix}-{out['id']}"
    return out


def split_record(
    case: str, patients: list[dict[str, Any]], history_of: str, rest_of: str, seen_by: str
) -> Export:
    """One woman's eligible record split across Patient ids: her previous miscarriage under
    ``history_of``, her bleeding, LMP, scan and CRL under ``rest_of``; today's encounter under
    ``seen_by`` (episode id ``enc-<case>``)."""
    history, *rest = eligible_resources()
    out: Export = {
        "Patient": patients,
        "Encounter": [encounter(f"enc-{case}", seen_by)],
        "Condition": [],
        "Observation": [],
    }
    for resource, pid in ((history, history_of), *((r, rest_of) for r in rest)):
        moved = _as(resource, pid, case)
        out[moved["resourceType"]].append(moved)
    return out


def _ids(case: str, *names: str) -> list[str]:
    return [f"{case}-{name}" for name in names]


def _merged(case: str) -> Export:
    """Old replaced-by new (absolute reference), new replaces old: both sides linked."""
    old, new = _ids(case, "old", "new")
    pats = [
        patient(old, link("replaced-by", new, absolute=True), active=False),
        patient(new, link("replaces", old, absolute=True)),
    ]
    return split_record(case, pats, old, new, new)


def _old_side(case: str) -> Export:
    old, new = _ids(case, "old", "new")
    pats = [patient(old, link("replaced-by", new), active=False), patient(new)]
    return split_record(case, pats, old, new, new)


def _new_side(case: str) -> Export:
    old, new = _ids(case, "old", "new")
    pats = [patient(old), patient(new, link("replaces", old))]
    return split_record(case, pats, old, new, new)


def _chain(case: str) -> Export:
    """Two merges: first into middle, middle into new; her history under the first."""
    first, middle, new = _ids(case, "first", "middle", "new")
    pats = [
        patient(first, link("replaced-by", middle), active=False),
        patient(middle, link("replaced-by", new), active=False),
        patient(new, link("replaces", middle)),
    ]
    return split_record(case, pats, first, new, new)


def _seen_under_old(case: str) -> Export:
    """Today's encounter was written under the old id (before the merge), her facts under the
    new one: it is her encounter."""
    old, new = _ids(case, "old", "new")
    pats = [patient(old, link("replaced-by", new), active=False), patient(new)]
    return split_record(case, pats, old, new, old)


def _cycle(case: str) -> Export:
    a, b = _ids(case, "a", "b")
    pats = [patient(a, link("replaced-by", b)), patient(b, link("replaced-by", a))]
    return split_record(case, pats, a, b, b)


def _two_survivors(case: str) -> Export:
    old, new, other = _ids(case, "old", "new", "other")
    pats = [
        patient(old, link("replaced-by", new), link("replaced-by", other), active=False),
        patient(new),
        patient(other),
    ]
    return split_record(case, pats, old, new, new)


def _see_also(case: str) -> Export:
    """Possibly the same person (seealso), not merged: not read as hers."""
    old, new = _ids(case, "old", "new")
    pats = [patient(old, link("seealso", new)), patient(new, link("seealso", old))]
    return split_record(case, pats, old, new, new)


MERGED = "merged"
OLD_SIDE = "old-side"
NEW_SIDE = "new-side"
CHAIN = "chain"
SEEN_UNDER_OLD = "seen-under-old"
CYCLE = "cycle"
TWO_SURVIVORS = "two-survivors"
SEE_ALSO = "see-also"

# case -> (export, is the split record read as one woman's?)
AUDIT_CASES: dict[str, tuple[Export, bool]] = {
    MERGED: (_merged(MERGED), True),
    OLD_SIDE: (_old_side(OLD_SIDE), True),
    NEW_SIDE: (_new_side(NEW_SIDE), True),
    CHAIN: (_chain(CHAIN), True),
    SEEN_UNDER_OLD: (_seen_under_old(SEEN_UNDER_OLD), True),
    CYCLE: (_cycle(CYCLE), False),
    TWO_SURVIVORS: (_two_survivors(TWO_SURVIVORS), False),
    SEE_ALSO: (_see_also(SEE_ALSO), False),
}


def one_export() -> Export:
    """Every case in one export."""
    return concatenated([export for export, _ in AUDIT_CASES.values()])
