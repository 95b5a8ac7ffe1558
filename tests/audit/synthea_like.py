"""A small bulk export written as a real one is (our own records, no copied data).

The resource shapes and codes are those Synthea writes (its pregnancy module,
synthetichealth/synthea src/main/resources/modules/pregnancy.json): a woman's pregnancy is a
Condition 72892002 "Normal pregnancy" with an onset and, once over, an abatementDateTime; her
pregnancy status an Observation 82810-3 answered 77386006 "Pregnant"; her visits Encounters typed
424441002 "Prenatal initial visit" / 424619006 "Prenatal visit"; a first-trimester miscarriage a
Condition 19169002. Every one else's encounters are typed 162673000 "General examination of
patient". Files are named as the SMART Bulk Data client names them (``1.Encounter.ndjson``) and
references are absolute (``https://ehr.example.org/fhir/Patient/<id>``) or ``urn:uuid:<id>``.

`TRUTH` is what the audit must find for each encounter: judged (an episode) or the reason it is
excluded.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT

BASE = "https://ehr.example.org/fhir"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
JUDGED = None


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _patient(pid: str, gender: str, born: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "gender": gender,
        "birthDate": born,
        "name": [{"family": "Example", "given": ["Synthetic"]}],
    }


def _encounter(eid: str, pid: str, start: str, code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "type": [_concept(SNOMED, code, display)],
        "subject": {"reference": f"{BASE}/Patient/{pid}", "display": "Synthetic Example"},
        "period": {"start": f"{start}T09:15:00-05:00", "end": f"{start}T09:45:00-05:00"},
        "serviceProvider": {"reference": "Organization/site-a", "display": "Site A"},
    }


def _condition(
    cid: str, pid: str, eid: str, code: str, display: str, onset: str, abated: str | None = None
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved" if abated else "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": _concept(SNOMED, code, display),
        "subject": {"reference": f"urn:uuid:{pid}"},
        "encounter": {"reference": f"urn:uuid:{eid}"},
        "onsetDateTime": f"{onset}T09:15:00-05:00",
        "recordedDate": f"{onset}T09:15:00-05:00",
    }
    if abated:
        c["abatementDateTime"] = f"{abated}T09:15:00-05:00"
    return c


def _status(oid: str, pid: str, eid: str, day: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "social-history",
                    }
                ]
            }
        ],
        "code": _concept(LOINC, "82810-3", "Pregnancy status"),
        "subject": {"reference": f"{BASE}/Patient/{pid}/_history/1"},
        "encounter": {"reference": f"{BASE}/Encounter/{eid}"},
        "effectiveDateTime": f"{day}T09:15:00-05:00",
        "valueCodeableConcept": _concept(SNOMED, "77386006", "Pregnant"),
    }


def _lmp(oid: str, pid: str, day: str, value: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": _concept(LOINC, "8665-2", "Last menstrual period start date"),
        "subject": {"reference": f"urn:uuid:{pid}"},
        "effectiveDateTime": day,
        "valueDateTime": value,
    }


def _progesterone(rid: str, pid: str, eid: str, day: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "urn:uuid:med-progesterone"},
        "subject": {"reference": f"{BASE}/Patient/{pid}"},
        "encounter": {"reference": f"{BASE}/Encounter/{eid}/_history/2"},
        "authoredOn": f"{day}T09:40:00-05:00",
    }


MEDICATION = {
    "resourceType": "Medication",
    "id": "med-progesterone",
    "code": _concept(RXNORM, "8727", "progesterone"),
}

# (encounter id, patient id, day, type code, type display, truth: None = judged, else reason)
ENCOUNTERS = [
    # Ann: pregnant in 2024 (normal pregnancy from 2024-01-20, delivered 2024-10-01)
    ("ann-1", "ann", "2024-03-16", "424441002", "Prenatal initial visit", JUDGED),
    ("ann-2", "ann", "2024-04-13", "424619006", "Prenatal visit", JUDGED),
    ("ann-3", "ann", "2024-06-01", "162673000", "General examination of patient", JUDGED),
    # a year after the birth: the pregnancy abated before this day
    (
        "ann-4",
        "ann",
        "2025-11-03",
        "162673000",
        "General examination of patient",
        EXCLUDED_NOT_PREGNANT,
    ),
    # Bob: a man, seen for the same kinds of visit; never judged
    ("bob-1", "bob", "2024-03-16", "162673000", "General examination of patient", EXCLUDED_MALE),
    ("bob-2", "bob", "2024-05-02", "185347001", "Encounter for problem", EXCLUDED_MALE),
    # Cat: never pregnant on record
    (
        "cat-1",
        "cat",
        "2024-02-10",
        "162673000",
        "General examination of patient",
        EXCLUDED_NOT_PREGNANT,
    ),
    # Dee: a miscarriage in the first trimester, seen that day (judged: not for progesterone)
    ("dee-1", "dee", "2024-07-08", "185347001", "Encounter for problem", JUDGED),
    # ... and four weeks later, her pregnancy over (ended 2024-07-29): a miscarriage is no evidence of one now
    (
        "dee-2",
        "dee",
        "2024-08-05",
        "162673000",
        "General examination of patient",
        EXCLUDED_NOT_PREGNANT,
    ),
    # Eve: her LMP recorded at a visit, and progesterone prescribed at it
    ("eve-1", "eve", "2024-05-20", "185347001", "Encounter for problem", JUDGED),
]
TRUTH = {eid: truth for eid, _, _, _, _, truth in ENCOUNTERS}


def resources() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        "Patient": [
            _patient("ann", "female", "1992-04-02"),
            _patient("bob", "male", "1990-01-01"),
            _patient("cat", "female", "1985-09-12"),
            _patient("dee", "female", "1995-12-30"),
            _patient("eve", "female", "1993-06-15"),
        ],
        "Encounter": [_encounter(e, p, d, c, t) for e, p, d, c, t, _ in ENCOUNTERS],
        "Condition": [
            _condition(
                "c-ann", "ann", "ann-1", "72892002", "Normal pregnancy", "2024-01-20", "2024-10-01"
            ),
            _condition("c-bob", "bob", "bob-1", "38341003", "Hypertensive disorder", "2020-01-01"),
            _condition(
                "c-dee", "dee", "dee-1", "19169002", "Miscarriage in first trimester", "2024-07-08"
            ),
            _condition(
                "c-dee-p",
                "dee",
                "dee-1",
                "72892002",
                "Normal pregnancy",
                "2024-05-10",
                "2024-07-29",
            ),
        ],
        "Observation": [
            _status("o-ann", "ann", "ann-1", "2024-01-20"),
            _lmp("o-eve", "eve", "2024-05-20", "2024-03-25"),
        ],
        "MedicationRequest": [_progesterone("rx-eve", "eve", "eve-1", "2024-05-20")],
        "Medication": [MEDICATION],
        # a Procedure the reading does not read (a pregnancy test): its file is read (stop 31),
        # the resource gives no row
        "Procedure": [
            {
                "resourceType": "Procedure",
                "id": "pr-ann",
                "status": "completed",
                "code": _concept(SNOMED, "252160004", "Standard pregnancy test"),
                "subject": {"reference": "urn:uuid:ann"},
            }
        ],
        # a type the audit does not read: skipped and counted
        "Claim": [{"resourceType": "Claim", "id": "cl-1"}, {"resourceType": "Claim", "id": "cl-2"}],
    }
    return out


def write(folder: Path, gz: bool = False) -> Path:
    """The export as ``1.<Type>.ndjson`` files (gzipped with ``gz``), with a client log."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, items in resources().items():
        text = "".join(json.dumps(r) + "\n" for r in items)
        if gz:
            (folder / f"1.{kind}.ndjson.gz").write_bytes(gzip.compress(text.encode("utf-8")))
        else:
            (folder / f"1.{kind}.ndjson").write_text(text, encoding="utf-8")
    (folder / "log.ndjson").write_text('{"eventId": "kickoff"}\n', encoding="utf-8")
    return folder
