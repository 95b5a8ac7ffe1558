"""Resources naming a woman by an identifier only (FHIR R4 logical reference), as UK Core records
write it (our own synthetic data), for the audit's tests on every engine
(`tests/audit/test_fhir_identifier_subject.py`).

``"subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": ...}}``; a
local MRN system likewise. Each case is one woman eligible for progesterone whose previous
miscarriage (the fact the offer needs) is named so; `identifier_export` gives the export's
resources and, per case, whether that history is hers (``offer``) or tied to nobody
(``needs_information`` naming ``previous_miscarriages``: unknown, never "none").
"""

from __future__ import annotations

import copy
from typing import Any

from tests.fhir_exports import encounter
from tests.integration.fhir_data import PATIENT_ID, eligible_resources
from tests.records.merge_shapes import link, patient

Export = dict[str, list[dict[str, Any]]]

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
MRN = "https://trust.example.org/Id/mrn"


def identifier(system: str | None, value: str) -> dict[str, Any]:
    out = {"system": system, "value": value}
    return {k: v for k, v in out.items() if v is not None}


def _named(resource: dict[str, Any], pid: str, case: str, by: dict[str, Any] | None) -> dict:
    """Her resource under Patient ``pid``, or (``by``) naming her by that identifier only."""
    out = copy.deepcopy(resource)
    out["id"] = f"{case}-{out['id']}"
    out["subject"] = {"identifier": by} if by is not None else {"reference": f"Patient/{pid}"}
    return out


def _woman(
    case: str,
    carried: list[dict[str, Any]],
    history_by: dict[str, Any],
    everything_by_identifier: bool = False,
    history_subject: dict[str, Any] | None = None,
) -> Export:
    """Her Patient ``p-<case>`` carrying ``carried``; her previous miscarriage naming her by
    ``history_by`` (or the whole ``history_subject``); her other resources and today's encounter
    ``enc-<case>`` by a literal reference (or all by ``history_by``)."""
    pid = f"p-{case}"
    history, *rest = eligible_resources()
    her = patient(pid)
    her["identifier"] = carried
    seen = encounter(f"enc-{case}", pid)
    first = _named(history, pid, case, history_by)
    if history_subject is not None:
        first["subject"] = history_subject
    others = [_named(r, pid, case, history_by if everything_by_identifier else None) for r in rest]
    if everything_by_identifier:
        seen["subject"] = {"identifier": history_by}
    out: Export = {"Patient": [her], "Encounter": [seen], "Condition": [], "Observation": []}
    for resource in (first, *others):
        out[resource["resourceType"]].append(resource)
    return out


def _cases() -> dict[str, tuple[Export, bool]]:
    """Case -> (its resources, is her history hers)."""
    nhs = identifier(NHS_NUMBER, "9990000001")
    cases: dict[str, tuple[Export, bool]] = {
        # UK Core: her previous miscarriage names her by NHS number
        "nhs-number": (_woman("nhs-number", [nhs], nhs), True),
        # a trust's own register (MRN) beside the NHS number
        "mrn": (
            _woman(
                "mrn",
                [identifier(NHS_NUMBER, "9990000002"), identifier(MRN, "K123456")],
                identifier(MRN, "K123456"),
            ),
            True,
        ),
        # every resource (conditions, observations) and the encounter itself by NHS number
        "all-by-identifier": (
            _woman(
                "all-by-identifier",
                [identifier(NHS_NUMBER, "9990000003")],
                identifier(NHS_NUMBER, "9990000003"),
                everything_by_identifier=True,
            ),
            True,
        ),
        # blanks at either end are not part of the number (the card strips them too)
        "padded": (
            _woman(
                "padded",
                [identifier(NHS_NUMBER, "9990000012")],
                identifier(f" {NHS_NUMBER}", "9990000012\n"),
            ),
            True,
        ),
        # a value without its system: any number in any register ties nobody
        "no-system": (
            _woman("no-system", [identifier(NHS_NUMBER, "9990000004")], {"value": "9990000004"}),
            False,
        ),
        # written as NHS numbers are displayed (3-3-4 with spaces), a valid number (its check
        # digit computed; the 999 range is not issued to patients): her ten digits (stop 26)
        "spaces": (
            _woman(
                "spaces",
                [identifier(NHS_NUMBER, "9990000018")],
                identifier(NHS_NUMBER, "999 000 0018"),
            ),
            True,
        ),
        # keyed with hyphens, her Patient carrying it with spaces: one number
        "hyphens": (
            _woman(
                "hyphens",
                [identifier(NHS_NUMBER, "999 000 0026")],
                identifier(NHS_NUMBER, "999-000-0026"),
            ),
            True,
        ),
        # with spaces but a check digit that fails: not an NHS number, never guessed at; tied to
        # nobody and named (nhs_number_not_valid)
        "spaces-invalid": (
            _woman(
                "spaces-invalid",
                [identifier(NHS_NUMBER, "9990000005")],
                identifier(NHS_NUMBER, "999 000 0005"),
            ),
            False,
        ),
        # the same value in another register is another identifier
        "other-system": (
            _woman(
                "other-system",
                [identifier(MRN, "9990000034")],
                identifier(NHS_NUMBER, "9990000034"),
            ),
            False,
        ),
        # carried by no Patient of the export
        "not-carried": (
            _woman("not-carried", [], identifier(NHS_NUMBER, "9990000042")),
            False,
        ),
        # a literal reference to another Patient and her identifier: the literal reference wins
        "literal-wins": (
            _woman(
                "literal-wins",
                [identifier(NHS_NUMBER, "9990000008")],
                identifier(NHS_NUMBER, "9990000008"),
                history_subject={
                    "reference": "Patient/someone-else",
                    "identifier": identifier(NHS_NUMBER, "9990000008"),
                },
            ),
            False,
        ),
    }
    # carried by two Patients who are not one woman: tied to nobody, counted
    shared = identifier(NHS_NUMBER, "9990000009")
    export = _woman("shared", [shared], shared)
    other = patient("p-shared-other")
    other["identifier"] = [shared]
    export["Patient"].append(other)
    cases["shared"] = (export, False)
    # carried by her merged-away record only: hers through the merge (the record in use)
    old_nhs = identifier(NHS_NUMBER, "9990000010")
    export = _woman("merged", [], old_nhs)
    (new,) = export["Patient"]
    new["link"] = [link("replaces", "p-merged-old")]
    old = patient("p-merged-old", link("replaced-by", "p-merged"), active=False)
    old["identifier"] = [old_nhs]
    export["Patient"].append(old)
    cases["merged"] = (export, True)
    # carried by both records of one woman (merged): one woman, tied
    both = identifier(NHS_NUMBER, "9990000011")
    export = _woman("merged-both", [both], both)
    old = patient("p-merged-both-old", link("replaced-by", "p-merged-both"), active=False)
    old["identifier"] = [both]
    export["Patient"].append(old)
    cases["merged-both"] = (export, True)
    return cases


CASES = _cases()
# identifiers carried by two Patients who are not one woman, in the export
SHARED_IDENTIFIERS = 1
# resources of the export naming a patient by an identifier only: tied, and not by why
# nhs-number, mrn, all-by-identifier (her 5 resources and the encounter), padded, spaces,
# hyphens, merged, merged-both
TIED = 1 + 1 + 6 + 1 + 1 + 1 + 1 + 1
NOT_TIED = {
    "nhs_number_not_valid": 1,  # spaces-invalid
    "carried_by_no_patient": 2,  # other-system, not-carried
    "carried_by_two_patients": 1,  # shared
    "without_system_or_value": 1,  # no-system
}


def identifier_export() -> tuple[Export, dict[str, bool]]:
    """Every case in one export (each woman's ids her own), and per episode id (without
    ``enc-``) whether her history is read as hers."""
    out: Export = {}
    for export, _ in CASES.values():
        for kind, resources in export.items():
            out.setdefault(kind, []).extend(resources)
    assert PATIENT_ID not in {p["id"] for p in out["Patient"]}
    return out, {case: hers for case, (_, hers) in CASES.items()}
