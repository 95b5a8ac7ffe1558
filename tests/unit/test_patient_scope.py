"""patient_scope: hers, another patient's, or not tied to her (and the message says which)."""

from __future__ import annotations

import pytest

from earlypath.web.patient_scope import ScopeProblem, patient_identifiers, scope_problem

NHS = "https://fhir.nhs.uk/Id/nhs-number"
HERS = frozenset({(NHS, "9990001112")})


def _obs(subject):
    return {"resourceType": "Observation", "id": "o1", "subject": subject}


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": "Patient/p1"},
        {"reference": "Patient/p1", "identifier": {"system": NHS, "value": "other"}},
        {"identifier": {"system": NHS, "value": "9990001112"}},
        {"identifier": {"system": f" {NHS}", "value": "9990001112 "}},
    ],
)
def test_hers(subject):
    assert scope_problem(_obs(subject), "p1", HERS) is None


@pytest.mark.parametrize(
    "subject",
    [
        {"identifier": {"system": NHS, "value": "9990000026"}},  # a valid number, not hers
        {"identifier": {"value": "9990001112"}},
        {"identifier": {"system": NHS}},
        {"reference": "#p1"},
        {"display": "Jane Doe"},
        {"reference": "Group/g1"},
        {"reference": "urn:uuid:0b6e0c7e-0000-4000-8000-000000000001"},
        {"reference": 7},
        "Patient/p1",
    ],
)
def test_not_tied(subject):
    problem = scope_problem(_obs(subject), "p1", HERS)
    assert problem == ScopeProblem("Observation.subject", another_patient=False)
    assert "cannot be tied to the patient in context" in problem.message
    assert "another patient" not in problem.message + problem.reason


@pytest.mark.parametrize("value", ["9990001113", "999 000 1112", "999 000 111", "999-000-111X"])
def test_an_nhs_number_that_is_not_one_is_named(value):
    """Not 10 digits with a right check digit once spaces and hyphens are removed: never
    reformatted (her "9990001112" is not "999 000 1112"), and the message says why."""
    problem = scope_problem(_obs({"identifier": {"system": NHS, "value": value}}), "p1", HERS)
    assert problem == ScopeProblem(
        "Observation.subject", another_patient=False, nhs_number_not_valid=True
    )
    assert "NHS number is not a valid one" in problem.message
    assert value not in problem.message + problem.reason


def test_a_valid_nhs_number_is_compared_as_its_digits():
    hers = frozenset({(NHS, "9990000018")})
    for value in ("9990000018", "999 000 0018", "999-000-0018", "999 000-0018"):
        assert (
            scope_problem(_obs({"identifier": {"system": NHS, "value": value}}), "p1", hers) is None
        )
    # another system's value is compared as written
    mrn = "https://trust.example.org/Id/mrn"
    subject = {"identifier": {"system": mrn, "value": "999 000 0018"}}
    assert scope_problem(_obs(subject), "p1", frozenset({(mrn, "9990000018")})) is not None


def test_no_identifiers_known_ties_nothing():
    subject = {"identifier": {"system": NHS, "value": "9990001112"}}
    assert scope_problem(_obs(subject), "p1") is not None


def test_another_patient_is_named_before_an_untied_resource():
    data = [_obs({"display": "x"}), _obs({"reference": "Patient/p2"})]
    problem = scope_problem(data, "p1", HERS)
    assert problem == ScopeProblem("Observation.subject", another_patient=True)
    assert "another patient" in problem.message and "p2" not in problem.message


def test_her_patient_in_the_same_bundle_ties_her_identifier():
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [{"system": NHS, "value": "9"}]}
    obs = _obs({"identifier": {"system": NHS, "value": "9"}})
    bundle = {"resourceType": "Bundle", "entry": [{"resource": obs}, {"resource": patient}]}
    assert scope_problem(bundle, "p1") is None
    # another patient's identifiers tie nothing (and that Patient is another patient's)
    patient["id"] = "p2"
    assert scope_problem(bundle, "p1") == ScopeProblem("Patient.id", another_patient=True)


def test_the_element_names_the_field_and_never_echoes_an_odd_type():
    allergy = {"resourceType": "AllergyIntolerance", "patient": {"display": "x"}}
    assert scope_problem(allergy, "p1").element == "AllergyIntolerance.patient"
    odd = {"resourceType": "9990001112", "subject": {"display": "x"}}
    assert scope_problem(odd, "p1").element == "resource.subject"


def test_patient_identifiers_need_system_and_value():
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": NHS, "value": "1"}, {"value": "2"}, {"system": NHS}, "x"],
    }
    assert patient_identifiers([patient, {"resourceType": "Observation"}]) == {(NHS, "1")}
