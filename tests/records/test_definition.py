"""The one definition of record reading, as vignettes of what changed when it replaced the
hand-written mapping: JSON of the wrong type is read as absent and reported by name (it no longer
drops the whole resource), and a request that cannot say "do not perform" is not a prescription.
The mapping's own behaviour is tests/unit/test_fhir_mapping.py (unchanged)."""

from __future__ import annotations

from typing import Any

from earlypath.fhir.codes import system_uri
from earlypath.fhir.mapping import map_resources
from earlypath.records import python as engine
from earlypath.records.definition import ALLERGY_NAME_MAX, READING
from tests.integration.fhir_data import (
    TODAY,
    bleeding,
    condition,
    eligible_resources,
    lmp,
    observation,
)


def _problems(result: Any, ref: str) -> list[str]:
    return [p.message for p in result.problems if p.field == ref]


def test_a_date_of_the_wrong_type_is_read_as_absent_and_named() -> None:
    # onsetDateTime a number: the Condition is read from its recordedDate, and the element named
    late = condition("bleed", "289530006", None, recordedDate=TODAY.isoformat())
    late["onsetDateTime"] = 20240303
    result = map_resources([lmp(), late], TODAY)
    assert result.episode["vaginal_bleeding"] is True
    assert _problems(result, "Condition/bleed") == ["onsetDateTime is not text; read as absent"]


def test_a_concept_of_the_wrong_type_reads_nothing_and_is_named() -> None:
    broken = condition("c1", "17369002", "2022-06-01")
    broken["code"] = "miscarriage"
    result = map_resources([lmp(), broken], TODAY)
    assert result.episode["previous_miscarriages"] is None  # unknown, never 0
    assert _problems(result, "Condition/c1") == ["code is not a JSON object; read as absent"]


def test_an_observation_without_status_is_reported_and_not_read() -> None:
    finding = observation("o1", "http://snomed.info/sct", "370383002", TODAY.isoformat())
    del finding["status"]
    result = map_resources([lmp(), finding], TODAY)
    assert result.episode["scans"] == []
    assert _problems(result, "Observation/o1") == [
        "status is missing (FHIR R4 requires it); not read"
    ]


def _request(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "medicationCodeableConcept": {"coding": [{"system": system_uri("rxnorm"), "code": "8727"}]},
        **extra,
    }


def test_a_do_not_perform_that_is_not_a_boolean_is_no_prescription() -> None:
    assert map_resources([lmp(), _request()], TODAY).episode["on_progesterone"] is True
    result = map_resources([lmp(), _request(doNotPerform="false")], TODAY)
    # fhir.resources used to drop the request; reading it as a prescription would say "continue",
    # reading it as none would say "offer" (a second prescription): whether she is on
    # progesterone is unknown (stop 16: unknown is never false)
    assert result.episode["on_progesterone"] is None
    assert any(
        "doNotPerform is not true or false" in m for m in _problems(result, "MedicationRequest/rx")
    )


def test_what_is_not_a_resource_is_reported() -> None:
    result = map_resources(["text", 3, {"id": "x"}, *eligible_resources()], TODAY)
    fields = [p.field for p in result.problems]
    assert fields.count("Resource/(no id)") == 3
    assert result.episode["previous_miscarriages"] == 1


def test_the_allergy_name_is_cut_at_the_one_named_limit() -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "patient": {"reference": "Patient/x"},
        "code": {"text": "x" * (ALLERGY_NAME_MAX + 50)},
    }
    assert map_resources([allergy], TODAY).episode["allergies"] == ["x" * ALLERGY_NAME_MAX]


def test_another_patients_rows_are_not_read_for_a_patient() -> None:
    mine, dated = bleeding(), lmp()
    mine["subject"] = {"reference": "urn:uuid:p1"}
    dated["subject"] = {"reference": "Patient/p1/_history/2"}
    theirs = _request(subject={"reference": "https://h/fhir/Patient/p2"})
    reading = engine.read(READING, [dated, mine, theirs], TODAY, patient="p1")
    assert reading.values["on_progesterone"] is False
    assert reading.values["vaginal_bleeding"] is True
    whole = engine.read(READING, [dated, mine, theirs], TODAY)  # one patient's record (CDS)
    assert whole.values["on_progesterone"] is True


def test_this_encounters_requests_are_the_care_given_not_what_she_was_on() -> None:
    here = _request(encounter={"reference": "Encounter/e1"})
    assert (
        engine.read(READING, [lmp(), here], TODAY, encounter="e1").values["on_progesterone"]
        is False
    )
    assert (
        engine.read(READING, [lmp(), here], TODAY, encounter="e2").values["on_progesterone"] is True
    )
