"""Write a synthetic cohort as a FHIR R4 bulk export: one NDJSON file per resource type.

Each episode becomes a Patient (a woman), an Encounter (the presentation, with her pregnancy
status "pregnant" on record that day: who the audit judges) and the Conditions,
Observations, MedicationRequests and AllergyIntolerances that `earlypath.audit.fhir_flat` reads
back, coded with the FHIR mapping's codes (the value sets in `earlypath/fhir/valuesets/`), dated so that the
mapping's pregnancy timeline has work to do: previous miscarriages are, for about half the women,
one dated Condition each from earlier pregnancies (for the others a history code), and those
earlier pregnancies leave an LMP and a bleed on record that must not be read as this one's.

What FHIR cannot say is lost on the way, as it would be in a real export: an exact count of
previous miscarriages when only a history code records them ("at least 1" or "at least 2"), the
heartbeat (no code), the scan route, and Unknown care (an export has no row for a prescription
not made: read as not prescribed). Facts the mapping cannot date are lost too: without an LMP or
a crown-rump length to date the pregnancy, this presentation's bleeding, scan and diagnosis
cannot be placed in it and are Unknown.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from earlypath.audit.fhir_flat import ETHNICITY_EXTENSION, IMD_EXTENSION, RESOURCES
from earlypath.audit.output import atomic_path
from earlypath.fhir.codes import coding as _coding

__all__ = ["write_fhir"]

_AGE = {"<20": 18, "20-24": 22, "25-29": 27, "30-34": 32, "35-39": 37, "40+": 42}
# Earlier pregnancies: the k-th ended this many days before the presentation (always more than
# 45 weeks: before this pregnancy whatever its dating) and began 10 weeks before that.
_PREVIOUS_GAP_DAYS = 400
_PREVIOUS_LENGTH_DAYS = 70


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _resources(row: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    eid = row["episode_id"]
    pid = f"p-{eid}"
    day: dt.date = row["assessed_on"]
    subject = {"reference": f"Patient/{pid}"}
    encounter = {"reference": f"Encounter/{eid}"}
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "extension": [],
    }
    if row.get("age_band"):
        patient["birthDate"] = (
            day - dt.timedelta(days=int(_AGE[row["age_band"]] * 365.25))
        ).isoformat()
    if row.get("ethnicity"):
        patient["extension"].append(
            {
                "url": ETHNICITY_EXTENSION,
                "valueCodeableConcept": {"coding": [{"display": row["ethnicity"]}]},
            }
        )
    if row.get("deprivation_quintile") is not None:
        patient["extension"].append(
            {"url": IMD_EXTENSION, "valueInteger": int(row["deprivation_quintile"])}
        )
    yield "Patient", patient
    enc = {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": subject,
        "period": {"start": day.isoformat()},
    }
    if row.get("site"):
        enc["serviceProvider"] = {"reference": f"Organization/{row['site']}"}
    yield "Encounter", enc

    def condition(
        n: str,
        name: str,
        onset: dt.date,
        index: int = 0,
        refuted: bool = False,
        linked: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        c: dict[str, Any] = {
            "resourceType": "Condition",
            "id": f"{eid}-{n}",
            "subject": subject,
            "code": {"coding": [_coding(name, index)]},
            "onsetDateTime": onset.isoformat(),
            "verificationStatus": {"coding": [{"code": "refuted" if refuted else "confirmed"}]},
        }
        if linked:
            c["encounter"] = encounter
        return "Condition", c

    def observation(
        n: str, name: str, when: dt.date, linked: bool = True, **value: Any
    ) -> tuple[str, dict[str, Any]]:
        o: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"{eid}-{n}",
            "status": "final",
            "subject": subject,
            "code": {"coding": [_coding(name)]},
            "effectiveDateTime": when.isoformat(),
            **value,
        }
        if linked:
            o["encounter"] = encounter
        return "Observation", o

    # She presents pregnant: her pregnancy status is on record (who the audit judges)
    yield observation(
        "preg",
        "pregnancy_status",
        day,
        valueCodeableConcept={"coding": [_coding("pregnancy_status_pregnant")]},
    )
    prev = row.get("previous_miscarriages")
    if prev is not None:
        if prev == 0:
            yield condition("hist", "miscarriage_history", day, refuted=True, linked=False)
        elif _dated_history(eid):
            yield from _earlier_pregnancies(prev, day, condition, observation)
        else:
            yield condition("hist", "miscarriage_history", day, 1 if prev >= 2 else 0, linked=False)
    if row.get("vaginal_bleeding") is not None:
        yield condition("bleed", "bleeding", day, refuted=not row["vaginal_bleeding"])
    if row.get("lmp") is not None:
        yield observation("lmp", "last_menstrual_period", day, valueDateTime=row["lmp"].isoformat())
    scan = row.get("scan_date")
    if scan is not None:
        if row.get("scan_location") == "intrauterine":
            yield observation("iup", "intrauterine_pregnancy", scan)
        elif row.get("scan_location") == "ectopic":
            yield condition("ectopic", "ectopic_pregnancy", scan)
        elif row.get("scan_location") == "report_not_read":
            # a scan whose report could not be read: as hospitals send one, findings as text only
            yield (
                "DiagnosticReport",
                {
                    "resourceType": "DiagnosticReport",
                    "id": f"{eid}-us",
                    "status": "final",
                    "code": {"coding": [_coding("scan_report")]},
                    "subject": subject,
                    "encounter": encounter,
                    "effectiveDateTime": scan.isoformat(),
                    "conclusion": "See the attached report.",
                },
            )
        if row.get("crl_mm") is not None:
            yield observation(
                "crl",
                "crown_rump_length",
                scan,
                valueQuantity={
                    "value": row["crl_mm"],
                    "unit": "mm",
                    "system": "http://unitsofmeasure.org",
                    "code": "mm",
                },
            )
    if row.get("miscarriage_diagnosed"):
        yield condition("misc", "miscarriage_event", day)
    yield from _allergies(row, subject, eid)
    progesterone = {
        "text": "Progesterone 200 mg vaginal capsules",
        "coding": [_coding("progesterone")],
    }
    if row.get("on_progesterone"):
        yield (
            "MedicationRequest",
            {
                "resourceType": "MedicationRequest",
                "id": f"{eid}-on",
                "status": "active",
                "intent": "order",
                "subject": subject,
                "medicationCodeableConcept": progesterone,
                "authoredOn": (day - dt.timedelta(days=7)).isoformat(),
            },
        )
    if row.get("progesterone_prescribed"):
        yield (
            "MedicationRequest",
            {
                "resourceType": "MedicationRequest",
                "id": f"{eid}-rx",
                "status": "active",
                "intent": "order",
                "subject": subject,
                "encounter": encounter,
                "medicationCodeableConcept": progesterone,
                "authoredOn": (row.get("prescribed_on") or day).isoformat(),
            },
        )


def _dated_history(episode_id: str) -> bool:
    """About half the women have their miscarriages on record as dated Conditions."""
    return sum(map(ord, episode_id)) % 2 == 0


def _earlier_pregnancies(
    count: int, day: dt.date, condition: Any, observation: Any
) -> Iterable[tuple[str, dict[str, Any]]]:
    """One dated miscarriage per earlier pregnancy, with that pregnancy's LMP and bleeding."""
    for k in range(1, count + 1):
        ended = day - dt.timedelta(days=_PREVIOUS_GAP_DAYS * k)
        began = ended - dt.timedelta(days=_PREVIOUS_LENGTH_DAYS)
        yield condition(f"misc-{k}", "miscarriage_event", ended, linked=False)
        yield condition(f"bleed-{k}", "bleeding", ended - dt.timedelta(days=2), linked=False)
        if k == 1:
            yield observation(
                "lmp-1",
                "last_menstrual_period",
                began,
                linked=False,
                valueDateTime=began.isoformat(),
            )


def _allergies(
    row: dict[str, Any], subject: dict[str, str], eid: str
) -> Iterable[tuple[str, dict[str, Any]]]:
    """One active AllergyIntolerance per entry of the row's ``;``-separated allergies."""
    for i, name in enumerate(a.strip() for a in (row.get("allergies") or "").split(";")):
        if name:
            yield (
                "AllergyIntolerance",
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"{eid}-allergy-{i}",
                    "patient": subject,
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "code": {"text": name},
                },
            )


def write_fhir(chunks: Iterable[pa.Table], folder: Path) -> None:
    """Write ``<Type>.ndjson`` files into ``folder`` (each written atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = {kind: folder / f"{kind}.ndjson" for kind in RESOURCES}
    contexts = {kind: atomic_path(path) for kind, path in targets.items()}
    tmps = {kind: ctx.__enter__() for kind, ctx in contexts.items()}
    handles = {kind: open(tmp, "w", encoding="utf-8") for kind, tmp in tmps.items()}  # noqa: SIM115
    ok = False
    try:
        for table in chunks:
            for row in table.to_pylist():
                for kind, resource in _resources(row):
                    handles[kind].write(_dumps(resource) + "\n")
        ok = True
    finally:
        for handle in handles.values():
            handle.close()
        for ctx in contexts.values():
            if ok:
                ctx.__exit__(None, None, None)
            else:
                ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
