"""`json_values.ref_id` reads the usual `Kind/id` without its regular expression, with the
same answer as the expression on any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.records import ir as rir
from earlypath.records import json_values
from earlypath.records import python as records
from earlypath.records.json_values import ref_id

PARTS = ["Patient", "Encounter", "/", "_history", "urn:uuid:", "p-1", "a", ".", " ", "\n", ""]


def _by_pattern(reference: str, kind: str) -> str | None:
    match = json_values._reference_pattern(kind).fullmatch(reference)
    return match.group(1) if match else None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PARTS), max_size=6).map("".join), st.sampled_from(PARTS[:2]))
def test_ref_id_equals_the_pattern(reference: str, kind: str) -> None:
    assert ref_id(reference, kind) == _by_pattern(reference, kind)


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("Patient/p-1", "Patient"),
        ("Patient/", "Patient"),
        ("Patient", "Patient"),
        ("Patients/p-1", "Patient"),
        ("Patient/p-1/_history/2", "Patient"),
        ("http://x/fhir/Patient/p-1", "Patient"),
        ("Patient/Patient/p-1", "Patient"),
        ("urn:uuid:123", "Patient"),
        ("Encounter/e-1", "Patient"),
    ],
)
def test_ref_id_cases(reference: str, kind: str) -> None:
    assert ref_id(reference, kind) == _by_pattern(reference, kind)


def test_usual_reference_without_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pattern(kind: str) -> None:
        raise AssertionError("the pattern was run for a plain Kind/id")

    monkeypatch.setattr(json_values, "_reference_pattern", no_pattern)
    assert ref_id("Patient/p-1", "Patient") == "p-1"
    assert ref_id(None, "Patient") is None


# The fused and generated source reads the usual `Kind/id` itself (`python_source`, eighteenth
# CDS pass: five subject references a record), the rest by `ref_id`: the same answers.
SUBJECT = rir.RefId(rir.Field("subject.reference", "str"), "Patient")


def _read(reference: object, fused: bool = True) -> object:
    compiler = records._Compiler({}, records._State(), fused)
    return compiler.fused([SUBJECT], "json")({"subject": {"reference": reference}})[0]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.integers(), st.lists(st.sampled_from(PARTS), max_size=6).map("".join))
)
def test_fused_ref_id_equals_the_closure(reference: object) -> None:
    assert _read(reference) == _read(reference, fused=False)


def test_fused_usual_reference_without_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _read("http://x/fhir/Patient/p-1") == "p-1"  # not the usual: by ref_id
    assert _read("Patient/") is None

    def no_call(reference: object, kind: str) -> None:
        raise AssertionError("ref_id was called for a plain Patient/id")

    monkeypatch.setattr(records, "ref_id", no_call)
    assert _read("Patient/p-1") == "p-1"
