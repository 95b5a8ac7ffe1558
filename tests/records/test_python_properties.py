"""Random records through the one definition and the Python engine: no record crashes the
reading, the fused functions give what the closures give, and a definite answer (on progesterone,
where the pregnancy is on a scan day) never comes from another patient's resource or from one
that is not a readable resource."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.fhir.codes import load_codes
from earlypath.fhir.mapping import map_resources
from earlypath.records import python as engine
from earlypath.records.definition import READING

TODAY = dt.date(2024, 3, 4)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETS = (
    "intrauterine_pregnancy",
    "ectopic_pregnancy",
    "fetal_heart_rate",
    "viable_pregnancy",
    "uncertain_viability",
    "crown_rump_length",
    "mean_sac_diameter",
    "bleeding",
    "miscarriage_event",
    "miscarriage_history",
    "last_menstrual_period",
    "progesterone",
    "hcg",
    "pregnancy_condition",
    "pregnancy_status",
)

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    | st.floats(-5, 200, allow_nan=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)


def _codings(name: str) -> list[dict[str, str]]:
    return [{"system": s, "code": c} for s, c in sorted(load_codes()[name].codes)]


coding = st.sampled_from(SETS).flatmap(lambda name: st.sampled_from(_codings(name)))
concept = st.builds(lambda cs: {"coding": cs}, st.lists(coding, min_size=1, max_size=2)) | st.just(
    {"text": "progesterone pessary"}
)
answer = st.sampled_from(
    [_codings("present")[0], _codings("absent")[0], {"system": "x", "code": "maybe"}]
).map(lambda c: {"coding": [c]})


@st.composite
def day_text(draw: Any) -> str:
    offset = draw(st.integers(-400, 30))
    text = (TODAY + dt.timedelta(days=offset)).isoformat()
    return draw(st.sampled_from([text, text + "T10:00:00Z", text[:7], "2024-02-30"]))


def subject_of(patient: str) -> st.SearchStrategy[dict[str, str]]:
    return st.sampled_from(
        [
            f"Patient/{patient}",
            f"urn:uuid:{patient}",
            f"https://h/fhir/Patient/{patient}/_history/1",
        ]
    ).map(lambda r: {"reference": r})


@st.composite
def resource(draw: Any, patient: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Observation", "Condition", "MedicationRequest", "Medication"]))
    out: dict[str, Any] = {"resourceType": kind, "id": draw(st.sampled_from(["a", "b", "c", "m1"]))}
    if kind != "Medication":
        out["subject"] = draw(subject_of(patient))
    if kind == "Observation":
        out["status"] = draw(st.sampled_from(["final", "preliminary", "cancelled"]))
        out["code"] = draw(concept)
        out["effectiveDateTime"] = draw(day_text())
        value = draw(st.sampled_from(["none", "bool", "answer", "quantity", "date"]))
        if value == "bool":
            out["valueBoolean"] = draw(st.booleans())
        elif value == "answer":
            out["valueCodeableConcept"] = draw(answer | concept)
        elif value == "quantity":
            out["valueQuantity"] = {
                "value": draw(st.floats(-1, 130, allow_nan=False)),
                "unit": draw(st.sampled_from(["mm", "cm", "/min", "IU/L", " MM "])),
            }
            if draw(st.booleans()):
                out["valueQuantity"]["comparator"] = "<"
        elif value == "date":
            out["valueDateTime"] = draw(day_text())
    elif kind == "Condition":
        out["code"] = draw(concept)
        out["onsetDateTime"] = draw(day_text())
        status = draw(st.sampled_from([None, "confirmed", "refuted", "entered-in-error"]))
        if status:
            out["verificationStatus"] = {"coding": [{"code": status}]}
    elif kind == "MedicationRequest":
        out["status"] = draw(st.sampled_from(["active", "on-hold", "stopped"]))
        out["authoredOn"] = draw(day_text())
        if draw(st.booleans()):
            out["medicationCodeableConcept"] = draw(concept)
        else:
            out["medicationReference"] = {
                "reference": draw(st.sampled_from(["Medication/m1", "#m1", "urn:uuid:m1", "m1"])),
            }
            if draw(st.booleans()):
                out["contained"] = [
                    {"resourceType": "Medication", "id": "m1", "code": draw(concept)}
                ]
        if draw(st.booleans()):
            out["doNotPerform"] = draw(st.booleans())
    else:
        out["code"] = draw(concept)
    return out


def _corrupt(resource: dict[str, Any], junk_value: Any) -> dict[str, Any]:
    """The element that lets a resource be read at all, made unreadable."""
    out = dict(resource)
    gate = {"Observation": "status", "MedicationRequest": "status", "Condition": "code"}
    out[gate[out["resourceType"]]] = junk_value if not isinstance(junk_value, str) else 7
    return out


not_resources = st.one_of(
    junk.filter(lambda j: not isinstance(j, dict)),
    st.dictionaries(st.sampled_from(["id", "code", "status"]), junk, max_size=3),
    st.builds(lambda j: {"resourceType": 5, "status": "final", "code": j}, concept),
)


@st.composite
def records(draw: Any) -> tuple[list[Any], list[Any]]:
    """(her readable resources, everything: hers, another patient's, unreadable ones)."""
    hers = draw(st.lists(resource("p1"), max_size=8))
    theirs = draw(st.lists(resource("p2"), max_size=4))
    theirs = [r for r in theirs if r["resourceType"] != "Medication"]  # a Medication serves all
    broken = [
        _corrupt(r, draw(junk))
        for r in draw(st.lists(resource("p1"), max_size=3))
        if r["resourceType"] != "Medication"
    ]
    odd = draw(st.lists(not_resources, max_size=3))
    mixed = [*theirs[:2], *broken[:1], *odd[:1], *hers, *theirs[2:], *broken[1:], *odd[1:]]
    return hers, mixed


@SETTINGS
@given(records())
def test_other_patients_and_unreadable_resources_never_make_an_answer_definite(record) -> None:
    hers, mixed = record
    clean = engine.read(READING, hers, TODAY, patient="p1")
    everything = engine.read(READING, mixed, TODAY, patient="p1")
    if everything.values["on_progesterone"] is True:
        assert clean.values["on_progesterone"] is True
    clean_days = {d["day"]: d["location"] for d in clean.values["scans"]}
    for d in everything.values["scans"]:
        if d["location"] in ("intrauterine", "ectopic"):
            assert clean_days.get(d["day"]) == d["location"]


@st.composite
def wild_records(draw: Any) -> list[Any]:
    """Readable resources with any element replaced by any JSON."""
    out: list[Any] = []
    for item in draw(st.lists(resource("p1"), max_size=6)):
        if draw(st.booleans()):
            key = draw(st.sampled_from(sorted(item) + ["valueQuantity", "onsetPeriod", "issued"]))
            item = {**item, key: draw(junk)}
        out.append(item)
    return out + draw(st.lists(not_resources, max_size=2))


@SETTINGS
@given(wild_records())
def test_any_json_is_read_without_a_crash_and_both_paths_agree(record) -> None:
    result = map_resources(record, TODAY)
    assert set(result.episode) >= {"previous_miscarriages", "scans", "on_progesterone"}
    fused = engine.read(READING, record, TODAY)
    closures = engine.read(READING, record, TODAY, fused=False)
    assert fused.values == closures.values
    assert fused.problems == closures.problems
    assert fused.evidence == closures.evidence
