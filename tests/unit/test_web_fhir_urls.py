"""Which URLs may get the FHIR token, how query URLs are built, and whose reference is whose."""

from __future__ import annotations

import pytest

from earlypath.web.fhir_urls import FhirBase, TemplateUnfillable, is_fhir_id, remove_dot_segments
from earlypath.web.patient_scope import out_of_scope, referenced_patient_id

BASE = FhirBase.parse("https://ehr.example.org/fhir/")


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        (
            "https://ehr.example.org/fhir/Condition?a=1",
            "https://ehr.example.org/fhir/Condition?a=1",
        ),
        ("HTTPS://EHR.example.org:443/fhir/Condition", "https://ehr.example.org/fhir/Condition"),
        ("https://ehr.example.org/fhir/a/./../Condition", "https://ehr.example.org/fhir/Condition"),
        ("https://ehr.example.org/fhir", "https://ehr.example.org/fhir"),
        ("https://ehr.example.org/fhir-evil/Condition", None),
        ("https://ehr.example.org/fhir/../admin", None),
        ("https://ehr.example.org/fhir/%2E%2E/admin", None),
        ("https://ehr.example.org/fhir%2fx", None),
        ("https://ehr.example.org@evil.example.org/fhir/x", None),
        ("https://user:pw@ehr.example.org/fhir/x", None),
        ("https://ehr.example.org:444/fhir/x", None),
        ("https://ehr.example.org:bad/fhir/x", None),
        ("http://ehr.example.org/fhir/x", None),
        ("https://ehr.example.org.evil.example.org/fhir/x", None),
        ("https://ehr.example.org/fhir/x y", None),
    ],
)
def test_admits_only_urls_under_the_base(url, normalised):
    assert BASE is not None
    assert BASE.admits(url) == normalised


def test_relative_links_resolve_against_the_base():
    assert BASE is not None
    assert BASE.resolve("Condition?page=2") == "https://ehr.example.org/fhir/Condition?page=2"
    assert BASE.resolve("//evil.example.org/fhir/x") is None
    assert BASE.resolve("/admin") is None
    assert BASE.resolve("") is None


def test_query_encodes_each_segment_and_parameter():
    assert BASE is not None
    url, params = BASE.query("Condition?patient={{context.patientId}}", {"patientId": "a&b=c"})
    assert url == "https://ehr.example.org/fhir/Condition"
    assert params == [("patient", "a&b=c")]
    url, _ = BASE.query("Patient/{{context.patientId}}", {"patientId": "x/../../admin"})
    assert url == "https://ehr.example.org/fhir/Patient/x%2F..%2F..%2Fadmin"
    with pytest.raises(TemplateUnfillable):
        BASE.query("Patient/{{context.patientId}}", {"patientId": ".."})
    with pytest.raises(TemplateUnfillable):
        BASE.query("Patient/{{context.patientId}}", {})


def test_fhir_ids():
    assert is_fhir_id("A-1.b") and is_fhir_id("a" * 64)
    for bad in ("", ".", "..", "a" * 65, "a/b", "a b", "ä", "a\n", 7, None):
        assert not is_fhir_id(bad)


def test_dot_segments():
    assert remove_dot_segments("/a/b/../c/./d") == "/a/c/d"
    assert remove_dot_segments("/../a") == "/a"
    assert remove_dot_segments("/a/..") == "/"


@pytest.mark.parametrize(
    ("reference", "patient"),
    [
        ("Patient/p1", "p1"),
        ("https://h.example.org/fhir/Patient/p1", "p1"),
        ("Patient/p1/_history/4", "p1"),
        ("Group/p1", None),
        ("Patient/p1/Condition/2", None),
        ("urn:uuid:1", None),
        (None, None),
    ],
)
def test_referenced_patient_id(reference, patient):
    assert referenced_patient_id(reference) == patient


def test_out_of_scope():
    mine = {"resourceType": "Condition", "subject": {"reference": "Patient/p1"}}
    theirs = {"resourceType": "Condition", "subject": {"reference": "Patient/p2"}}
    unowned = {"resourceType": "Medication", "id": "m"}
    assert not out_of_scope([mine, unowned, {"resourceType": "Patient", "id": "p1"}], "p1")
    assert out_of_scope({"resourceType": "Bundle", "entry": [{"resource": theirs}]}, "p1")
    assert out_of_scope({"resourceType": "Patient", "id": "p2"}, "p1")
    assert out_of_scope({"resourceType": "AllergyIntolerance", "patient": {"display": "x"}}, "p1")
    assert not out_of_scope(None, "p1")
    assert not out_of_scope({"resourceType": "Observation", "subject": None}, "p1")
    assert out_of_scope({"resourceType": "Observation", "subject": "Patient/p1"}, "p1")
    assert not out_of_scope(
        {"resourceType": "Condition", "subject": {"reference": "urn:uuid:p1"}}, "p1"
    )
    assert out_of_scope(
        {"resourceType": "Condition", "subject": {"reference": "urn:uuid:p2"}}, "p1"
    )


def test_query_keeps_the_template_parameters_as_written():
    assert BASE is not None
    template = (
        "Observation?patient={{context.patientId}}&date=ge2024-01-01T00:00:00+01:00&code=a|1,b|2"
    )
    _, params = BASE.query(template, {"patientId": "p1"})
    assert params == [
        ("patient", "p1"),
        ("date", "ge2024-01-01T00:00:00+01:00"),
        ("code", "a|1,b|2"),
    ]
